"""Every fill method on the same tile and mask, scored alike: the glue of the workflow's audit stage.

For one tile, :func:`compare_tile` writes each method's result (``dip`` is the main inpainting output,
reused, never refitted; ``dip+speckle`` gives that DIP network output speckle; classic fills run from
the registry :mod:`sardip.fill`, ``+speckle`` adding speckle-consistent filling) and returns the
:mod:`sardip.audit` table and the :func:`sardip.metrics.tile_metrics_files` table of every method.
:func:`verdicts` and :func:`comparison` check and aggregate them per class and method.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from sardip.audit import DETECTORS, audit_files, verdict
from sardip.fill import parse_variant
from sardip.geotiff import from_db, read_raster, write_raster
from sardip.inpaint import inpaint_file
from sardip.io import atomic_path
from sardip.masks import make_mask
from sardip.metrics import band_names, tile_metrics_files
from sardip.speckle import params_tag, speckle_fill


def speckle_file(original: str | Path, network: str | Path, mask: str | Path, out: str | Path, seed: int) -> None:
    """``original`` with the hole (``mask`` raster: 0 = hidden) filled by the ``network`` output (same grid,
    same units) plus speckle (:func:`sardip.speckle.speckle_fill`); known pixels bit-identical."""
    raster = read_raster(original)
    hidden = make_mask(str(mask), raster.grid)
    fitted = read_raster(network, units=raster.units)
    filled_db, params = speckle_fill(raster.db(), fitted.db(), hidden, seed)
    result = np.where(hidden[None], from_db(filled_db, raster.units).astype(np.float32), raster.data)
    tags = {"method": "dip+speckle", "network_output": str(network), "tile_seed": str(seed), "speckle": "on",
            "speckle_params": params_tag(params, band_names(raster)), "units": raster.units}  # fmt: skip
    with atomic_path(out) as tmp:
        write_raster(tmp, result, like=raster, tags=tags)


def compare_tile(
    original: str | Path,
    mask: str | Path,
    dip_result: str | Path,
    dip_raw: str | Path,
    outputs: Mapping[str, str | Path],
    tile_id: str,
    land_cover: str,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every method of ``outputs`` (method -> result path; ``dip`` maps to ``dip_result``) and score it.

    Returns (audit table, metrics table), each with ``tile_id``, ``land_cover`` and ``fill`` (the method
    name) in front (the metrics table's own ``method`` column says how a metric is computed).
    """
    audits, metrics = [], []
    for name, path in outputs.items():
        method, speckle = parse_variant(name)
        if method.is_dip and not speckle:
            path = dip_result
        elif method.is_dip:
            speckle_file(original, dip_raw, mask, path, seed)
        else:
            inpaint_file(original, str(mask), path, method=method.name, speckle=speckle, seed=seed, tile_id=tile_id)
        table = audit_files(original, path, mask)
        scores = tile_metrics_files(original, path, mask, tile_id, land_cover)
        for frame in (table, scores):
            frame.insert(0, "fill", name)
        audits.append(table)
        metrics.append(scores)
    front = {"tile_id": tile_id, "land_cover": land_cover}
    audit_table = pd.concat(audits, ignore_index=True)
    for i, (k, v) in enumerate(front.items()):
        audit_table.insert(i, k, v)
    return audit_table, pd.concat(metrics, ignore_index=True)


def verdicts(per_tile: pd.DataFrame) -> pd.DataFrame:
    """:func:`sardip.audit.verdict` of every (tile, method): one row per tile, fill and band."""
    rows = []
    for (tile, cls, fill), table in per_tile.groupby(["tile_id", "land_cover", "fill"], sort=False):
        rows.append(verdict(table).assign(tile_id=tile, land_cover=cls, fill=fill))
    frame = pd.concat(rows, ignore_index=True)
    front = ["tile_id", "land_cover", "fill"]
    return frame[front + [c for c in frame.columns if c not in front]]


def comparison(per_tile_audit: pd.DataFrame, per_tile_metrics: pd.DataFrame) -> pd.DataFrame:
    """Per class and method (bands pooled): mean of the verdict figures, share of (tile, band) pairs that
    meet every target, mean detector AUCs of result and baseline, and mean SSIM on known pixels (NIA)
    and on the full image (FI)."""
    checks = verdicts(per_tile_audit)
    keys = ["land_cover", "fill"]
    table = checks.groupby(keys, sort=False).agg(
        n=("tile_id", "nunique"),
        auc_excess=("auc_excess", "mean"),
        enl_ratio_factor=("enl_ratio_factor", "mean"),
        epi_hole=("epi_hole", "mean"),
        hole_correlation=("hole_correlation", "mean"),
        pass_share=("ok", "mean"),
    )
    value = per_tile_audit[per_tile_audit["window"].isna()]
    for name in DETECTORS:
        for subject in ("result", "original"):
            rows = value[(value["metric"] == f"auc_{name}_max") & (value["subject"] == subject)]
            table[f"auc_{name}_{subject}"] = rows.groupby(keys, sort=False)["value"].mean()
    ssim = per_tile_metrics[per_tile_metrics["metric"] == "ssim"]
    for scenario in ("NIA", "FI"):
        rows = ssim[ssim["scenario"] == scenario]
        table[f"ssim_{scenario}"] = rows.groupby(keys, sort=False)["value"].mean()
    return table.reset_index()
