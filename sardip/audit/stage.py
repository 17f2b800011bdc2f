"""Every fill method on the same tile and mask, scored alike: the glue of the workflow's audit stage.

For one tile, :func:`compare_tile` writes each method's result (``dip`` is the main inpainting output,
reused, never refitted; ``dip+speckle`` gives that DIP network output speckle; classic fills run from
the registry :mod:`sardip.fill`, ``+speckle`` adding speckle-consistent filling) and returns the
:mod:`sardip.audit` table and the :func:`sardip.metrics.tile_metrics_files` table of every method.
:func:`verdicts` and :func:`comparison` check and aggregate them per class and method.
:func:`snapshot_curve` and :func:`curve_table` give the time-to-quality curve: the same checks on the
DIP's snapshots along the iterations, with and without speckle-consistent filling.

A class meets the targets (``meets_targets``) when the means over its tiles and bands do: a single
small tile is a noisy judge (on the demo's 16 px holes a perfect fill, the true reflectivity with
fresh speckle, met every target on only 54-63 % of the (tile, band) pairs of a class, while its class
means stayed within the detector, ENL and EPI targets in every class; ``bench/bench_audit_noise.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from sardip.audit.detectors import DETECTORS, baseline, target_checks, verdict
from sardip.audit.localiser import DEFAULT_MODEL
from sardip.fill import parse_variant, paste, paste_db
from sardip.geotiff import published_path, read_raster, read_result, write_raster
from sardip.inpaint import FitSettings, OutputPaths, inpaint_file
from sardip.masks import MaskSpec, make_mask
from sardip.metrics import tile_metrics_files
from sardip.seeds import tile_seed


def speckle_file(original: str | Path, network: str | Path, mask: str | Path, out: str | Path, tile_seed: int) -> None:
    """``original`` with the hole (``mask`` raster: 0 = hidden) filled by the ``network`` output (same grid,
    same units) plus speckle seeded by the tile's own seed (:func:`sardip.fill.paste`); known pixels
    bit-identical."""
    raster = read_raster(original)
    hidden = make_mask(str(mask), raster.grid)
    fitted = read_raster(network, units=raster.units)
    result, pasted = paste(raster, fitted.db(), hidden, speckle=True, seed=tile_seed)
    tags = {"method": "dip+speckle", "network_output": str(network), "tile_seed": str(tile_seed), "speckle": "on",
            "speckle_params": pasted.speckle_tag(raster.band_names), "units": raster.units}  # fmt: skip
    with published_path(out) as tmp:
        write_raster(tmp, result, like=raster, tags=tags)


def compare_tile(
    original: str | Path,
    mask: str | Path,
    dip_result: str | Path,
    dip_raw: str | Path,
    outputs: Mapping[str, str | Path],
    tile_id: str,
    land_cover: str,
    base_seed: int,
    *,
    model: str | Path = DEFAULT_MODEL,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every method of ``outputs`` (method -> result path; ``dip`` maps to ``dip_result``) and score it.

    ``base_seed`` is the workflow's base seed: every random draw uses the tile's own seed from it
    (:func:`sardip.seeds.tile_seed`), as the inpainting stage does, so a classic fill with speckle here
    equals ``sardip inpaint --method NAME --speckle --seed BASE --tile-id TILE``.

    ``model`` is the learned detector's weights. Returns (audit table, metrics table), each with
    ``tile_id``, ``land_cover`` and ``fill`` (the method name) in front (the metrics table's own
    ``method`` column says how a metric is computed).
    """
    audits, metrics = [], []
    raster = read_raster(original)
    hidden = make_mask(str(mask), raster.grid)
    against = baseline(raster.db(), hidden, raster.band_names, model)  # the original's side, once for every method
    for name, path in outputs.items():
        method, speckle = parse_variant(name)
        if method.is_dip and not speckle:
            path = dip_result
        elif method.is_dip:
            speckle_file(original, dip_raw, mask, path, tile_seed(tile_id, base_seed))
        else:
            settings = FitSettings(method=method.name, speckle=speckle, seed=base_seed)
            inpaint_file(original, MaskSpec(str(mask)), OutputPaths(Path(path)), settings, tile_id=tile_id)
        table = against.judge(read_result(raster, original, path).db())
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


def class_means(checks: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per ``keys`` group of verdict rows: tiles, mean of each verdict figure (the ENL ratio factor as a
    geometric mean, since it is judged as a ratio either way), the share of (tile, band) rows that meet
    every target, and whether the means meet them (``meets_targets``).

    ``auc_excess`` is the largest of the detectors' mean excesses (``excess_<name>``) and ``detector``
    names it: the mean of each row's largest excess would add the noise of every detector to a fill that
    none of them finds."""
    excess = [f"excess_{d}" for d in DETECTORS]
    groups = checks.assign(log_enl=np.log(checks["enl_ratio_factor"])).groupby(keys, sort=False)
    means = groups[excess].mean()
    table = groups.agg(
        n=("tile_id", "nunique"),
        log_enl=("log_enl", "mean"),
        epi_hole=("epi_hole", "mean"),
        hole_correlation=("hole_correlation", "mean"),
        pass_share=("ok", "mean"),
    )
    table.insert(1, "detector", means.fillna(-np.inf).idxmax(axis=1).str.removeprefix("excess_"))
    table.insert(2, "auc_excess", means.max(axis=1))
    table.insert(3, "enl_ratio_factor", np.exp(table.pop("log_enl")))
    table["meets_targets"] = target_checks(table)["ok"]
    return table.join(means)


def comparison(per_tile_audit: pd.DataFrame, per_tile_metrics: pd.DataFrame) -> pd.DataFrame:
    """Per class and method (bands pooled): :func:`class_means` of the verdicts, mean detector AUCs of
    result and baseline, and mean SSIM on known pixels (NIA) and on the full image (FI)."""
    keys = ["land_cover", "fill"]
    table = class_means(verdicts(per_tile_audit), keys)
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


def snapshot_curve(
    original: str | Path,
    mask: str | Path,
    snapshots: Mapping[int, str | Path],
    tile_id: str,
    land_cover: str,
    base_seed: int,
    *,
    model: str | Path = DEFAULT_MODEL,
) -> pd.DataFrame:
    """Verdicts (:func:`sardip.audit.verdict`) of the DIP network output after each iteration count of
    ``snapshots`` (iterations -> GeoTIFF of the output over the whole tile) pasted into the hole
    (``dip``) and given speckle-consistent filling with the tile's seed from ``base_seed``
    (``dip+speckle``, the same grain as ``compare_tile`` draws), audited under the learned detector's
    weights ``model``: the time-to-quality curve of one tile, one row per iterations, fill and band."""
    raster = read_raster(original)
    hidden = make_mask(str(mask), raster.grid)
    image, bands = raster.db(), raster.band_names
    seed = tile_seed(tile_id, base_seed)
    against = baseline(image, hidden, bands, model)
    rows = []
    for iterations, path in sorted(snapshots.items()):
        network = read_raster(path, units=raster.units).db()
        for fill, speckle in (("dip", False), ("dip+speckle", True)):
            result = paste_db(image, network, hidden, speckle=speckle, seed=seed).db
            rows.append(verdict(against.judge(result)).assign(fill=fill, iterations=iterations))
    frame = pd.concat(rows, ignore_index=True)
    front = ["tile_id", "land_cover", "fill", "iterations"]
    frame = frame.assign(tile_id=tile_id, land_cover=land_cover)
    return frame[front + [c for c in frame.columns if c not in front]]


def curve_table(per_tile_curve: pd.DataFrame) -> pd.DataFrame:
    """Per class, fill and iteration count: :func:`class_means` of :func:`snapshot_curve` rows."""
    return class_means(per_tile_curve, ["land_cover", "fill", "iterations"]).reset_index()
