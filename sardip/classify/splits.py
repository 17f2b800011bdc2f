"""Training and validation tiles for the classifiers, kept apart from the test tiles by scene.

The test set is the inpainted tiles that passed the convergence filter (originals and DIP versions).
SEN12MS patches of one scene overlap by 50 % (128 px stride), so a training patch next to a test
patch shares a quarter to a half of its pixels with it. The training pool therefore leaves out every
*scene* that holds a test tile, not only the test tiles themselves, and the validation set is carved
out by scene for the same reason: a validation patch whose neighbour is in the training set would
make the validation loss, and so early stopping, optimistic.

Validation scenes are drawn per stratum, the scenes grouped by their most frequent tile label, so a
class seen in few scenes is never held out whole and keeps training tiles. Within a stratum the
draw is bottom-k on ``sardip.seeds.unit_key(scene_id, seed)``: the ``round(val_fraction * n)`` scenes with the
smallest keys (at least one when ``val_fraction > 0`` and the stratum has two or more scenes, never
all of them). A scene's key does not depend on the other scenes, so the draw is reproducible across
machines and Python versions (``hash()`` is salted per process).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from sardip.classes import CLASS_ORDER
from sardip.classify.labels import labels_from_inventory
from sardip.seeds import unit_key

TILE_ID_RE = re.compile(r"^(?P<season>ROIs\d{4}_[a-z]+)_(?P<scene>\d+)_p(?P<patch>\d+)$")
POOL_COLUMNS = ["tile_id", "scene_id", "s1_path", "label"]


def scene_of_tile(tile_id: str) -> str:
    """Scene id (``ROIs1158_spring/s1_1``) of a tile id (``ROIs1158_spring_1_p30``)."""
    match = TILE_ID_RE.match(tile_id)
    if match is None:
        raise ValueError(f"tile id {tile_id!r} is not <season>_<scene>_p<patch>")
    return f"{match['season']}/s1_{match['scene']}"


def validation_scenes(scenes: Iterable[str], val_fraction: float, seed: int) -> set[str]:
    """The scenes held out for validation (see the module docstring for the rule)."""
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    unique = sorted(set(scenes))
    n_val = round(val_fraction * len(unique))
    if val_fraction > 0 and len(unique) >= 2:
        n_val = min(max(n_val, 1), len(unique) - 1)
    return set(sorted(unique, key=lambda s: unit_key(s, seed))[:n_val])


def scenes_of_tiles(test_tiles: pd.DataFrame) -> set[str]:
    """Scenes of a tile table (the test tiles): their ``scene_id`` column when present, else parsed from ``tile_id``."""
    if "scene_id" in test_tiles.columns:
        return {str(s) for s in test_tiles["scene_id"]}
    if "tile_id" not in test_tiles.columns:
        raise ValueError("test tile table needs a tile_id (or scene_id) column")
    return {scene_of_tile(str(t)) for t in test_tiles["tile_id"]}


def training_pool(
    inventory: pd.DataFrame, test_tiles: pd.DataFrame, val_fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and validation tiles: usable tiles of non-hold-out scenes that hold no test tile.

    ``inventory`` is :func:`sardip.select.combine_inventories`' table; ``test_tiles`` has a ``tile_id``
    (and optionally ``scene_id``) column. Both outputs have columns ``tile_id, scene_id, s1_path, label``
    (label: DFC2020 class name, see :mod:`sardip.classify.labels`), sorted by tile id. Raises
    ``ValueError`` when no training tile is left.
    """
    required = ["tile_id", "scene_id", "split", "status", "s1_path"]
    missing = [c for c in required if c not in inventory.columns]
    if missing:
        raise ValueError(f"inventory lacks columns {missing}")
    excluded = scenes_of_tiles(test_tiles)
    usable = inventory[(inventory["status"] == "ok") & (inventory["split"] != "holdout")]
    pool = usable[~usable["scene_id"].isin(excluded)].copy()
    pool["label"] = labels_from_inventory(pool)
    pool = pool[POOL_COLUMNS].sort_values("tile_id", ignore_index=True)
    scene_label = pool.groupby("scene_id")["label"].agg(lambda labels: labels.value_counts().index[0])
    val_scenes = set().union(
        *(validation_scenes(scenes.index, val_fraction, seed) for _, scenes in scene_label.groupby(scene_label))
    )
    is_val = pool["scene_id"].isin(val_scenes)
    train, val = pool[~is_val].reset_index(drop=True), pool[is_val].reset_index(drop=True)
    leaked = (set(train["scene_id"]) | set(val["scene_id"])) & excluded
    assert not leaked, f"scenes with test tiles reached the training pool: {sorted(leaked)}"
    assert not set(train["scene_id"]) & set(val["scene_id"]), "a scene is in both training and validation"
    if train.empty:
        raise ValueError(
            f"no training tile left: {len(usable)} usable non-hold-out tiles, all in the "
            f"{len(excluded)} scenes that hold test tiles or in validation scenes"
        )
    return train, val


def pool_classes(*tables: pd.DataFrame) -> list[str]:
    """Classes present in the given pool tables, in DFC2020 code order: the classifier's outputs."""
    present = set().union(*(set(t["label"]) for t in tables))
    return [name for name in CLASS_ORDER if name in present]
