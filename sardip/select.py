"""Tile selection: per-scene class histograms, the inventory, purity, and a stable per-class draw.

A tile qualifies when at least ``purity`` of its valid pixels (LC present, both S1 bands finite)
belong to one of the requested DFC2020 classes. The draw is a bottom-k sample: each tile gets a key
``u = sardip.seeds.unit_key(tile_id, seed)`` in [0, 1), and a class keeps its ``max_per_class`` tiles with the
smallest keys. A tile's key never depends on the other tiles, so adding scenes keeps every selected
tile selected unless a newcomer with a smaller key takes its place in a class that is already full.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sardip.classes import COUNT_COLUMNS, DFC2020_CODES, DFC2020_NAMES, igbp_to_dfc2020, majority_classes
from sardip.seeds import unit_key
from sardip.sen12ms import TileError, pair_scene, read_lc_igbp, read_s1

INVENTORY_COLUMNS = [
    "tile_id", "season", "scene", "patch", "scene_id", "split", "s1_path", "lc_path",
    "n_pixels", "n_nan", "n_valid", *COUNT_COLUMNS, "status", "reason",
]  # fmt: skip


def tile_histogram(s1_path: Path, lc_path: Path, tile_size: int | None) -> dict[str, int]:
    """DFC2020 pixel counts of one tile over its valid pixels, plus pixel, NaN and valid counts.

    Raises :class:`TileError` naming the file for anything that makes the tile unusable.
    """
    s1 = read_s1(s1_path, tile_size)
    igbp = read_lc_igbp(lc_path, s1.shape[1:])
    try:
        dfc = igbp_to_dfc2020(igbp)
    except ValueError as err:
        raise TileError(f"{lc_path}: {err}") from None
    finite = np.isfinite(s1).all(axis=0)
    if not finite.any():
        raise TileError(f"{s1_path}: every pixel is NaN")
    counts = np.bincount(dfc[finite], minlength=11)
    row = {"n_pixels": int(finite.size), "n_nan": int((~finite).sum()), "n_valid": int(finite.sum())}
    row.update({f"n_{name}": int(counts[code]) for code, name in DFC2020_NAMES.items()})
    return row


def scene_inventory(files: Sequence[Path], holdout: set[str], tile_size: int | None) -> pd.DataFrame:
    """Inventory rows of the tiles of one scene's files (see :func:`sardip.sen12ms.scene_files`).

    Unusable tiles are kept with status ``rejected`` and the reason, so one bad file costs one tile.
    """
    pairs, misnamed = pair_scene([Path(f) for f in files])
    rows = [
        {
            "tile_id": path.stem,
            "scene_id": f"{path.parent.parent.name}/{path.parent.name}",
            "status": "rejected",
            "reason": f"{path}: file name does not follow SEN12MS naming",
        }
        for path in misnamed
    ]
    for ref, (s1, lc) in pairs.items():
        row: dict = {
            "tile_id": ref.tile_id, "season": ref.season, "scene": ref.scene, "patch": ref.patch,
            "scene_id": ref.scene_id, "split": "holdout" if ref.scene_id in holdout else "train",
            "s1_path": str(s1) if s1 else "", "lc_path": str(lc) if lc else "",
            "status": "ok", "reason": "",
        }  # fmt: skip
        try:
            if s1 is None:
                raise TileError(f"{lc}: LC tile without its S1 tile")
            if lc is None:
                raise TileError(f"{s1}: S1 tile without its LC tile")
            row.update(tile_histogram(s1, lc, tile_size))
        except TileError as err:
            row.update(status="rejected", reason=str(err))
        rows.append(row)
    frame = pd.DataFrame(rows, columns=INVENTORY_COLUMNS)
    for column in ["scene", "patch", "n_pixels", "n_nan", "n_valid", *COUNT_COLUMNS]:
        frame[column] = frame[column].fillna(0).astype("int64")
    return frame


def combine_inventories(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """One inventory, sorted by tile id, with each tile's majority class and its purity."""
    frames = [f for f in frames if len(f)]
    inventory = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=INVENTORY_COLUMNS)
    inventory = inventory.sort_values("tile_id", ignore_index=True)
    counts = inventory[list(COUNT_COLUMNS)].to_numpy()
    valid = inventory["n_valid"].to_numpy()
    inventory["majority_class"] = majority_classes(counts)
    inventory["purity"] = np.where(valid > 0, counts.max(axis=1, initial=0) / np.maximum(valid, 1), 0.0)
    return inventory


def select_tiles(
    inventory: pd.DataFrame,
    classes: Sequence[str],
    purity: float,
    max_per_class: int,
    seed: int,
    include_holdout: bool,
) -> pd.DataFrame:
    """Pure tiles of the requested classes, at most ``max_per_class`` each (bottom-k on the key)."""
    for name in classes:
        if name not in DFC2020_CODES:
            raise ValueError(f"selection.classes: unknown class {name!r}; choose from {sorted(DFC2020_CODES)}")
    ok = inventory[(inventory["status"] == "ok") & (inventory["purity"] >= purity)]
    ok = ok[ok["majority_class"].isin(classes)]
    if not include_holdout:
        ok = ok[ok["split"] != "holdout"]
    ok = ok.assign(key=[unit_key(t, seed) for t in ok["tile_id"]])
    chosen = ok.sort_values(["majority_class", "key"]).groupby("majority_class", sort=False).head(max_per_class)
    columns = ["tile_id", "class", "purity", "scene_id", "split", "s1_path", "lc_path", "n_nan", "key"]
    chosen = chosen.rename(columns={"majority_class": "class"})[columns]
    return chosen.sort_values("tile_id", ignore_index=True)


def rejected_tiles(inventory: pd.DataFrame) -> pd.DataFrame:
    """Rejected tiles with their reasons, for the report."""
    return inventory.loc[inventory["status"] == "rejected", ["tile_id", "scene_id", "reason"]]


def class_summary(inventory: pd.DataFrame, selected: pd.DataFrame, purity: float) -> pd.DataFrame:
    """Per class: tiles whose majority it is, tiles pure enough, and tiles selected."""
    ok = inventory[inventory["status"] == "ok"]
    summary = pd.DataFrame(
        {
            "majority": ok.groupby("majority_class").size(),
            "pure": ok[ok["purity"] >= purity].groupby("majority_class").size(),
            "selected": selected.groupby("class").size(),
        }
    )
    return summary.fillna(0).astype("int64").rename_axis("class").reset_index()
