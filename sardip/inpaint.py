"""Anonymise SAR rasters by DIP inpainting: arrays in, arrays out (:func:`inpaint_tiles`), and files in,
file out (:func:`inpaint_file`), the glue that the CLI and the workflow call.

The result keeps the input's meaning: same grid, dtype, band count, band names and nodata; outside the
hidden area every pixel is the input's value bit for bit; inside it the value is the network output
``f(Z)`` converted back to the input's units (linear input is fitted in dB, ``10 log10 x``, and
written back as ``10^(x/10)``).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from sardip import __version__
from sardip.dip.engine import TRAJECTORY_COLUMNS, FitResult, ProgressCallback, fit, tile_seed
from sardip.dip.presets import Preset, get_preset
from sardip.geotiff import from_db, read_raster, write_mask, write_raster
from sardip.gpu import claim_device
from sardip.io import atomic_path, write_table
from sardip.masks import describe_mask, hidden_fraction, make_mask

log = logging.getLogger(__name__)


class InpaintError(ValueError):
    """Input that cannot be inpainted (e.g. a raster without any valid pixel); the message names it."""


@dataclass
class TilesResult:
    """:func:`inpaint_tiles` output: ``inpainted_db`` (B, C, H, W) dB, the input outside the hidden
    area and the network output inside it (NaN stays NaN), and the engine's :class:`FitResult`."""

    inpainted_db: np.ndarray
    fit: FitResult


@dataclass
class InpaintSummary:
    """What :func:`inpaint_file` did: hidden share, preset hash, tile seed, iterations and run time."""

    out: Path
    hidden_fraction: float
    config_hash: str
    tile_seed: int
    iterations: int
    seconds: float
    device: str


def progress_reporter(total: int, label: str) -> tuple[ProgressCallback, ExitStack]:
    """A progress callback: a tqdm bar on a terminal, else one log line per report point.

    Returns the callback and an :class:`ExitStack` that closes the bar.
    """
    stack = ExitStack()
    if sys.stderr.isatty():
        bar = stack.enter_context(tqdm(total=total, desc=label, unit="it"))

        def on_report(done: int, _total: int, rows: list[dict]) -> None:
            bar.update(done - bar.n)
            bar.set_postfix(loss=f"{rows[0]['loss']:.4f}", ssim=f"{rows[0]['ssim_known']:.3f}")

        return on_report, stack

    def on_log(done: int, total_: int, rows: list[dict]) -> None:
        ssim = ", ".join(f"{r['ssim_known']:.3f}" for r in rows)
        log.info("%s: iteration %d/%d, loss %.4f, ssim_known %s", label, done, total_, rows[0]["loss"], ssim)

    return on_log, stack


def inpaint_tiles(
    images_db: np.ndarray,
    hidden: np.ndarray,
    preset: Preset,
    seeds: Sequence[int],
    *,
    iterations: int | None = None,
    device: str = "cpu",
    report_every: int = 100,
    snapshot_iters: Sequence[int] = (),
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 500,
    progress: ProgressCallback | None = None,
) -> TilesResult:
    """Inpaint B same-size tiles at once, each with its own network and seed.

    ``images_db`` (B, C, H, W) dB with NaN for nodata; ``hidden`` (H, W) or (B, H, W) bool, True = hide.
    See :func:`sardip.dip.engine.fit` for the other arguments.
    """
    images_db = np.asarray(images_db, dtype=np.float32)
    result = fit(
        images_db,
        hidden,
        preset,
        seeds,
        iterations=iterations,
        device=device,
        report_every=report_every,
        snapshot_iters=snapshot_iters,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        progress=progress,
    )
    hide = np.broadcast_to(np.asarray(hidden, dtype=bool), (images_db.shape[0], *images_db.shape[2:]))[:, None]
    return TilesResult(np.where(hide, result.output_db, images_db), result)


def trajectory_frame(rows: list[dict]) -> pd.DataFrame:
    """One tile's trajectory as a table with columns ``TRAJECTORY_COLUMNS``."""
    return pd.DataFrame(rows, columns=list(TRAJECTORY_COLUMNS))


def inpaint_file(
    inputs: str | Path | Sequence[str | Path],
    mask_spec: str,
    out: str | Path,
    *,
    preset: str = "paper",
    land_cover: str | None = None,
    iterations: int | None = None,
    seed: int = 0,
    device: str = "auto",
    units: str = "auto",
    invert_mask: bool = False,
    grow: int = 0,
    raw_out: str | Path | None = None,
    mask_out: str | Path | None = None,
    snapshot_dir: str | Path | None = None,
    snapshot_iters: Sequence[int] = (),
    trajectory_out: str | Path | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 500,
    report_every: int = 100,
    tile_id: str | None = None,
) -> InpaintSummary:
    """Inpaint the area ``mask_spec`` hides (see :func:`sardip.masks.make_mask`) in one raster.

    ``inputs``: one multi-band GeoTIFF or one single-band file per polarisation (stacked in order).
    ``out``: the anonymised GeoTIFF (input grid, dtype, bands, descriptions, nodata; provenance tags).
    Optional: ``raw_out`` the whole network output, ``mask_out`` the mask (1 = known, 0 = hidden),
    ``snapshot_dir/iter_NNNNNN.tif`` the output after each of ``snapshot_iters`` updates (all in the
    input's units), ``trajectory_out`` a TSV of the fit's trajectory. The tile's seed is
    ``tile_seed(tile_id, seed)`` with ``tile_id`` defaulting to the first input's file stem. With
    ``checkpoint``, an interrupted run resumes from that file; it is deleted once the outputs exist.
    Every output appears only when the whole run succeeded.
    """
    config = get_preset(preset, land_cover)
    files = [Path(p) for p in ([inputs] if isinstance(inputs, str | Path) else inputs)]
    raster = read_raster(files, units=units)
    if not np.isfinite(raster.data).any():
        raise InpaintError(f"{', '.join(map(str, files))}: every pixel is nodata, nothing to inpaint")
    hidden = make_mask(mask_spec, raster.grid, invert=invert_mask, grow=grow, seed=seed)
    tile_id = tile_id or files[0].stem
    tseed = tile_seed(tile_id, seed)
    iterations = config.iterations if iterations is None else iterations
    snapshot_iters = sorted({int(i) for i in snapshot_iters})
    bad = [i for i in snapshot_iters if not 0 <= i <= iterations]
    if bad:
        raise InpaintError(f"snapshot iterations {bad} lie outside 0..{iterations}")
    if snapshot_iters and snapshot_dir is None:
        raise InpaintError("snapshot iterations given without a snapshot folder")

    on_report, bar = progress_reporter(iterations, tile_id)
    with claim_device(device) as claim, bar:
        log.info(
            "%s: preset %s (%s) on %s (%s)", tile_id, config.name, config.config_hash(), claim.device, claim.reason
        )
        result = inpaint_tiles(
            raster.db()[None],
            hidden,
            config,
            [tseed],
            iterations=iterations,
            device=claim.device,
            report_every=report_every,
            snapshot_iters=snapshot_iters,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            progress=on_report,
        )
    network = from_db(result.fit.output_db[0], raster.units).astype(np.float32)
    anonymised = np.where(hidden[None], network, raster.data)
    tags = {
        "method": "dip",
        "preset": config.name,
        "preset_params": json.dumps(config.to_dict(), sort_keys=True),
        "config_hash": config.config_hash(),
        "land_cover": str(config.land_cover),
        "iterations": str(iterations),
        "seed": str(seed),
        "tile_id": tile_id,
        "tile_seed": str(tseed),
        "mask": describe_mask(mask_spec, invert_mask, grow, seed),
        "hidden_fraction": f"{hidden_fraction(hidden):.6f}",
        "units": raster.units,
        "sardip_version": __version__,
        "sources": ";".join(raster.sources),
    }
    with ExitStack() as outputs:
        write_raster(outputs.enter_context(atomic_path(out)), anonymised, like=raster, tags=tags)
        if raw_out:
            raw_tags = {**tags, "content": "network output f(Z) over the whole tile"}
            write_raster(outputs.enter_context(atomic_path(raw_out)), network, like=raster, tags=raw_tags)
        if mask_out:
            write_mask(outputs.enter_context(atomic_path(mask_out)), hidden, like=raster, tags=tags)
        for i, snap in result.fit.snapshots.items():
            path = Path(str(snapshot_dir)) / f"iter_{i:06d}.tif"
            snap_tags = {**tags, "content": f"network output after {i} iterations"}
            write_raster(
                outputs.enter_context(atomic_path(path)), from_db(snap[0], raster.units), like=raster, tags=snap_tags
            )
        if trajectory_out:
            write_table(
                trajectory_frame(result.fit.trajectories[0]), outputs.enter_context(atomic_path(trajectory_out))
            )
    if checkpoint:
        Path(checkpoint).unlink(missing_ok=True)
    return InpaintSummary(
        out=Path(out),
        hidden_fraction=hidden_fraction(hidden),
        config_hash=config.config_hash(),
        tile_seed=tseed,
        iterations=iterations,
        seconds=result.fit.seconds,
        device=claim.device,
    )
