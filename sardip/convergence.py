"""The convergence filter: which inpainted tiles count as "did not converge" and leave the dataset.

The paper drops 28 of 2800 tiles (2800 -> 2772) whose DIP "did not converge" without saying how. Here
the rule is explicit and configurable (:class:`ConvergenceCriteria`). A tile is dropped when any of
these holds; its ``reason`` lists every one that does, joined by ``;``:

``nonfinite``
    The result has NaN or infinite values inside the hidden area, or the final logged loss is not
    finite: the network blew up and the hole holds no image.
``ssim_known``
    The final network output does not reproduce what it was fitted to: in its lowest band, the NIA SSIM
    of the generated tile ``f(Z)`` (``raw.tif``) against the original is below ``min_ssim_known``, or
    not finite. This is the number Fig. 14 shows for the generated image (:func:`sardip.metrics.nia_ssim`,
    the same function), so a kept tile never shows an NIA SSIM below the threshold there. The engine's
    own ``ssim_known`` (the trajectory's, on its fit scale and with the hole's windows weighted out
    rather than left out) is reported beside it as ``final_ssim_known`` but does not decide.
``loss_outlier``
    The final loss is far above the tile's class peers: robust z-score
    ``z = (L - median) / (1.4826 MAD)`` over the class's final losses above ``max_loss_z``
    (Iglewicz and Hoaglin's 3.5 by default). Judged only when the class has at least
    ``min_class_tiles`` tiles and a nonzero MAD, since a median of a few tiles says nothing.
``failed``
    The tile has no DIP result at all: its DIP job reported it failed (an unreadable file, a diverged
    fit); the reason follows in brackets. The tile's batch mates are judged as usual.
``loss_stalled``
    The loss stopped improving, so the run ended somewhere other than where it was heading:
    with ``L0`` the first logged loss, ``Lbest`` the lowest and ``Lend`` the last, the run fails when
    it never improved (``Lbest >= L0``) or when ``Lend - Lbest > max_rebound * (L0 - Lbest)``, i.e. it
    gave back more than that share of its total improvement by the end (the sudden loss jumps Adam
    produces on DIP). Scale-free, so it also holds for negative losses such as -SSIM.

Trajectories are the engine's TSV files with columns :data:`sardip.dip.engine.TRAJECTORY_COLUMNS`
(``iteration, loss, ssim_known, lr, seconds``), one row every K iterations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sardip.dip.engine import TRAJECTORY_COLUMNS
from sardip.geotiff import read_pair, read_raster
from sardip.io import read_table
from sardip.metrics import nia_ssim
from sardip.tile_images import TILE_FILES

#: Criterion names, in the order ``reason`` lists them.
REASONS: tuple[str, ...] = ("failed", "nonfinite", "ssim_known", "loss_outlier", "loss_stalled")
#: Scale factor that makes the MAD a consistent estimator of a normal standard deviation.
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class ConvergenceCriteria:
    """Thresholds of the convergence filter (see the module docstring for each rule).

    ``min_ssim_known``: lowest acceptable NIA SSIM of the generated tile (-1..1; -1 judges nothing).
    ``max_loss_z``: highest acceptable robust z-score of the final loss within the class.
    ``min_class_tiles``: classes with fewer tiles skip the ``loss_outlier`` test.
    ``max_rebound``: largest share (0..1) of the run's total loss improvement it may give back by the end.
    """

    min_ssim_known: float = 0.6
    max_loss_z: float = 3.5
    min_class_tiles: int = 10
    max_rebound: float = 0.25

    def __post_init__(self) -> None:
        if not -1 <= self.min_ssim_known <= 1:
            raise ValueError(f"min_ssim_known={self.min_ssim_known}: must lie in [-1, 1], the range of SSIM")
        if self.max_loss_z <= 0:
            raise ValueError(f"max_loss_z={self.max_loss_z}: must be > 0")
        if self.min_class_tiles < 3:
            raise ValueError(f"min_class_tiles={self.min_class_tiles}: a median of fewer than 3 tiles says nothing")
        if not 0 <= self.max_rebound <= 1:
            raise ValueError(f"max_rebound={self.max_rebound}: must lie in [0, 1]")

    def as_dict(self) -> dict[str, float]:
        """The thresholds, for provenance records."""
        return asdict(self)


def read_trajectory(path: str | Path) -> pd.DataFrame:
    """Read a trajectory TSV, sorted by iteration; ``ValueError`` naming the file if columns or rows are missing."""
    frame = read_table(path)
    missing = [c for c in TRAJECTORY_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: trajectory lacks columns {missing}")
    if frame.empty:
        raise ValueError(f"{path}: trajectory has no rows")
    return frame.sort_values("iteration", ignore_index=True)


#: What :func:`trajectory_summary` reports of a trajectory.
SUMMARY_FIELDS: tuple[str, ...] = ("iterations", "first_loss", "best_loss", "final_loss", "final_ssim_known")


def trajectory_summary(trajectory: pd.DataFrame) -> dict[str, float]:
    """First, best and final loss, final ``ssim_known`` and last iteration of one trajectory."""
    loss = trajectory["loss"].to_numpy(dtype=float)
    finite = loss[np.isfinite(loss)]
    return {
        "iterations": float(trajectory["iteration"].iloc[-1]),
        "first_loss": float(loss[0]),
        "best_loss": float(finite.min()) if finite.size else float("nan"),
        "final_loss": float(loss[-1]),
        "final_ssim_known": float(trajectory["ssim_known"].iloc[-1]),
    }


def _robust_z(values: pd.Series, criteria: ConvergenceCriteria) -> pd.Series:
    """``(x - median) / (1.4826 MAD)`` within one class; NaN when the class is too small or has MAD 0."""
    finite = values[np.isfinite(values)]
    if len(finite) < criteria.min_class_tiles:
        return pd.Series(np.nan, index=values.index)
    median = finite.median()
    mad = (finite - median).abs().median()
    if mad == 0:
        return pd.Series(np.nan, index=values.index)
    return (values - median) / (MAD_TO_SIGMA * mad)


def filter_tiles(tiles: pd.DataFrame, criteria: ConvergenceCriteria | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split tiles into (kept, dropped) by the convergence criteria.

    ``tiles`` has one row per tile with columns ``tile_id``, ``land_cover``, ``trajectory`` (path of the
    engine's TSV), ``nonfinite`` (bool: the result holds non-finite values inside the hidden area),
    ``nia_ssim`` (the generated tile's NIA SSIM, lowest band) and optionally ``failure`` (why the tile
    has no result; its trajectory is then not read); other columns
    are carried through. Both outputs add the :func:`trajectory_summary` fields and ``loss_z`` (NaN
    where not judged); ``dropped`` also has ``reason``, every failed criterion of :data:`REASONS`
    joined by ``;`` (``failed (<why>)`` for a tile without result).
    """
    criteria = criteria or ConvergenceCriteria()
    required = ["tile_id", "land_cover", "trajectory", "nonfinite", "nia_ssim"]
    missing = [c for c in required if c not in tiles.columns]
    if missing:
        raise ValueError(f"tile table lacks columns {missing}")
    failure = tiles["failure"].fillna("") if "failure" in tiles.columns else pd.Series("", index=tiles.index)
    empty = dict.fromkeys(SUMMARY_FIELDS, float("nan"))
    summaries = pd.DataFrame(
        [
            empty if why else trajectory_summary(read_trajectory(path))
            for path, why in zip(tiles["trajectory"], failure, strict=True)
        ],
        index=tiles.index,
        columns=list(SUMMARY_FIELDS),
    )
    table = pd.concat([tiles, summaries], axis=1)
    table["loss_z"] = table.groupby("land_cover", group_keys=False)["final_loss"].apply(
        lambda s: _robust_z(s, criteria)
    )
    gain = table["first_loss"] - table["best_loss"]
    rebound = table["final_loss"] - table["best_loss"]
    judged = failure == ""
    failed = {
        "failed": ~judged,
        "nonfinite": judged & (table["nonfinite"].astype(bool) | ~np.isfinite(table["final_loss"])),
        "ssim_known": judged & ~(table["nia_ssim"] >= criteria.min_ssim_known),
        "loss_outlier": judged & (table["loss_z"] > criteria.max_loss_z),
        "loss_stalled": judged & (~(gain > 0) | (rebound > criteria.max_rebound * gain)),
    }
    reason = pd.Series("", index=table.index)
    for name in REASONS:
        label = ("failed (" + failure + ")") if name == "failed" else name
        reason = reason.where(~failed[name], reason + ";" + label)
    reason = reason.str.lstrip(";")
    drop = reason != ""
    kept = table[~drop].reset_index(drop=True)
    dropped = table[drop].assign(reason=reason[drop]).reset_index(drop=True)
    return kept, dropped


def tile_table(selected: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """The :func:`filter_tiles` input for the selection table (``tile_id``, ``class``, ``s1_path``) and
    each tile's DIP result (``results``: ``tile_id``, ``folder`` holding ``trajectory.tsv``, ``raw.tif``
    and ``mask.tif``, ``status`` and ``reason``; a tile with another status than ``ok`` has no files)."""
    by_tile = results.set_index("tile_id")
    rows = []
    for tile, land_cover, original in zip(selected["tile_id"], selected["class"], selected["s1_path"], strict=True):
        if tile not in by_tile.index:
            raise ValueError(f"{tile}: no DIP result and no failure recorded for it")
        folder, status, why = by_tile.loc[tile, ["folder", "status", "reason"]]
        ok = status == "ok"
        generated = Path(folder) / TILE_FILES["generated"]
        checks = output_checks(original, generated, Path(folder) / "mask.tif") if ok else None
        nonfinite, nia = checks or (False, np.nan)
        rows.append({
            "tile_id": tile,
            "land_cover": land_cover,
            "trajectory": str(Path(folder) / "trajectory.tsv") if ok else "",
            "nonfinite": nonfinite,
            "nia_ssim": nia,
            "failure": "" if ok else (why or status),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=["tile_id", "land_cover", "trajectory", "nonfinite", "nia_ssim", "failure"])


def output_checks(original: str | Path, network: str | Path, mask: str | Path) -> tuple[bool, float]:
    """Of one tile's network output: whether it is NaN or infinite on a hidden pixel whose original value
    is valid, and its NIA SSIM against the original in its lowest band (:func:`sardip.metrics.nia_ssim`).

    ``mask`` uses the paper's convention (0 = hidden); nodata pixels of the original are NaN in the
    output by design and count for neither.
    """
    hidden = read_raster(mask).data[0] == 0
    source, output = read_pair(original, network)
    valid = np.isfinite(source.data).all(axis=0)
    nonfinite = bool((~np.isfinite(output.data[:, hidden & valid])).any())
    return nonfinite, float(np.min(nia_ssim(source.db(), output.db(), hidden)))
