"""Anonymise SAR rasters by DIP inpainting: arrays in, arrays out (:func:`inpaint_tiles`), and files in,
file out (:func:`inpaint_file`), the glue that the CLI and the workflow call. :func:`inpaint_file` also
runs the classic fills of :mod:`sardip.fill` and, when asked (or when the preset says so), speckle-
consistent filling of the hole (:mod:`sardip.speckle`).

The result keeps the input's meaning: same grid, dtype, band count, band names and nodata; outside the
hidden area every pixel is the input's value bit for bit; inside it the value is the network output
``f(Z)`` converted back to the input's units (linear input is fitted in dB, ``10 log10 x``, and
written back as ``10^(x/10)``).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from sardip import __version__
from sardip.dip.engine import TRAJECTORY_COLUMNS, FitResult, ProgressCallback, fit
from sardip.dip.presets import Preset, get_preset
from sardip.fill import classic_fill, get_method, paste
from sardip.geotiff import Raster, from_db, read_raster, write_mask, write_raster
from sardip.gpu import claim_device
from sardip.io import atomic_path, write_table
from sardip.masks import describe_mask, hidden_fraction, make_mask
from sardip.seeds import tile_seed

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
    """What :func:`inpaint_file` did: hidden share, preset hash (empty for a classic fill), tile seed,
    iterations (0 for a classic fill), run time, device, and the speckle parameters per band (JSON,
    empty without speckle)."""

    out: Path
    hidden_fraction: float
    config_hash: str
    tile_seed: int
    iterations: int
    seconds: float
    device: str
    speckle: str = ""


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
    method: str = "dip",
    speckle: bool | None = None,
) -> InpaintSummary:
    """Inpaint the area ``mask_spec`` hides (see :func:`sardip.masks.make_mask`) in one raster.

    ``inputs``: one multi-band GeoTIFF or one single-band file per polarisation (stacked in order).
    ``out``: the anonymised GeoTIFF (input grid, dtype, bands, descriptions, nodata; provenance tags).
    Optional: ``raw_out`` the whole network output, ``mask_out`` the mask (1 = known, 0 = hidden),
    ``snapshot_dir/iter_NNNNNN.tif`` the output after each of ``snapshot_iters`` updates (all in the
    input's units), ``trajectory_out`` a TSV of the fit's trajectory. ``seed`` is the base seed; the
    tile's seed ``sardip.seeds.tile_seed(tile_id, seed)`` (``tile_id`` defaulting to the first input's
    file stem) drives everything random about this tile: the network's initialisation, input noise and
    jitter, a ``random:SIZE`` box, and the speckle grain. With
    ``checkpoint``, an interrupted run resumes from that file; it is deleted once the outputs exist.
    Every output appears only when the whole run succeeded.

    ``method``: a name of :data:`sardip.fill.METHODS`; ``dip`` fits the preset, the classic fills
    ignore the preset (and take no snapshots, trajectory or checkpoint; ``raw_out`` is then the
    fill without speckle). ``speckle``: add speckle-consistent filling to the hole
    (:func:`sardip.speckle.speckle_fill`, seeded by the tile's seed); ``None`` follows the preset for
    ``dip`` and means off for the classic fills. The estimated speckle parameters go into the
    ``speckle_params`` tag.
    """
    fill = get_method(method)
    dip_preset = get_preset(preset, land_cover) if fill.is_dip else None
    add_speckle = dip_preset.speckle if speckle is None and dip_preset is not None else bool(speckle)
    files = [Path(p) for p in ([inputs] if isinstance(inputs, str | Path) else inputs)]
    raster = read_raster(files, units=units)
    if not np.isfinite(raster.data).any():
        raise InpaintError(f"{', '.join(map(str, files))}: every pixel is nodata, nothing to inpaint")
    tile_id = tile_id or files[0].stem
    tseed = tile_seed(tile_id, seed)
    hidden = make_mask(mask_spec, raster.grid, invert=invert_mask, grow=grow, seed=tseed)
    if not fill.is_dip:
        if snapshot_iters or trajectory_out or checkpoint:
            raise InpaintError(f"method {method!r} is not iterative: no snapshots, trajectory or checkpoint")
        return _classic_file(raster, hidden, fill.name, out, add_speckle, tseed, tile_id, seed,
                             (mask_spec, invert_mask, grow), raw_out, mask_out)  # fmt: skip
    assert dip_preset is not None
    iterations = dip_preset.iterations if iterations is None else iterations
    snapshot_iters = sorted({int(i) for i in snapshot_iters})
    bad = [i for i in snapshot_iters if not 0 <= i <= iterations]
    if bad:
        raise InpaintError(f"snapshot iterations {bad} lie outside 0..{iterations}")
    if snapshot_iters and snapshot_dir is None:
        raise InpaintError("snapshot iterations given without a snapshot folder")

    on_report, bar = progress_reporter(iterations, tile_id)
    with claim_device(device) as claim, bar:
        log.info(
            "%s: preset %s (%s) on %s (%s)",
            tile_id,
            dip_preset.name,
            dip_preset.config_hash(),
            claim.device,
            claim.reason,
        )
        result = inpaint_tiles(
            raster.db()[None],
            hidden,
            dip_preset,
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
    anonymised, pasted = paste(raster, result.fit.output_db[0], hidden, speckle=add_speckle, seed=tseed)
    speckle_tag = pasted.speckle_tag(raster.band_names)
    tags = {
        **_provenance(raster, hidden, "dip", tile_id, tseed, seed, (mask_spec, invert_mask, grow), speckle_tag),
        "preset": dip_preset.name,
        "preset_params": json.dumps(dip_preset.to_dict(), sort_keys=True),
        "config_hash": dip_preset.config_hash(),
        "land_cover": str(dip_preset.land_cover),
        "iterations": str(iterations),
    }
    with ExitStack() as outputs:
        content = "network output f(Z) over the whole tile"
        _write_outputs(outputs, raster, hidden, tags, (out, anonymised), (raw_out, network, content), mask_out)
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
        config_hash=dip_preset.config_hash(),
        tile_seed=tseed,
        iterations=iterations,
        seconds=result.fit.seconds,
        device=claim.device,
        speckle=speckle_tag,
    )


def _provenance(
    raster: Raster,
    hidden: np.ndarray,
    method: str,
    tile_id: str,
    tseed: int,
    seed: int,
    mask: tuple[str, bool, int],
    speckle_tag: str,
) -> dict[str, str]:
    """GeoTIFF tags every fill method records: what was hidden, how, from what, with which seed."""
    spec, invert, grow = mask
    return {
        "method": method,
        "seed": str(seed),
        "tile_id": tile_id,
        "tile_seed": str(tseed),
        "mask": describe_mask(spec, invert, grow, tseed),
        "hidden_fraction": f"{hidden_fraction(hidden):.6f}",
        "units": raster.units,
        "sardip_version": __version__,
        "sources": ";".join(raster.sources),
        "speckle": "on" if speckle_tag else "off",
        "speckle_params": speckle_tag,
    }


def _write_outputs(
    outputs: ExitStack,
    raster: Raster,
    hidden: np.ndarray,
    tags: dict[str, str],
    result: tuple[str | Path, np.ndarray],
    raw: tuple[str | Path | None, np.ndarray, str],
    mask_out: str | Path | None,
) -> None:
    """Write the anonymised raster, and optionally the raw fill and the mask, inside one ExitStack.

    Each goes to a temporary name entered into ``outputs``; all are renamed only when the stack
    closes without an error, so a failure leaves none of them.
    """
    out, anonymised = result
    write_raster(outputs.enter_context(atomic_path(out)), anonymised, like=raster, tags=tags)
    raw_out, raw_data, content = raw
    if raw_out:
        write_raster(
            outputs.enter_context(atomic_path(raw_out)), raw_data, like=raster, tags={**tags, "content": content}
        )
    if mask_out:
        write_mask(outputs.enter_context(atomic_path(mask_out)), hidden, like=raster, tags=tags)


def _classic_file(
    raster: Raster,
    hidden: np.ndarray,
    method: str,
    out: str | Path,
    add_speckle: bool,
    tseed: int,
    tile_id: str,
    seed: int,
    mask: tuple[str, bool, int],
    raw_out: str | Path | None,
    mask_out: str | Path | None,
) -> InpaintSummary:
    """:func:`inpaint_file` for a classic fill of :mod:`sardip.fill` (optionally with speckle)."""
    start = time.perf_counter()
    filled_db = classic_fill(method, raster.db(), hidden)
    raw = from_db(filled_db, raster.units).astype(np.float32)
    anonymised, pasted = paste(raster, filled_db, hidden, speckle=add_speckle, seed=tseed)
    speckle_tag = pasted.speckle_tag(raster.band_names)
    tags = _provenance(raster, hidden, method, tile_id, tseed, seed, mask, speckle_tag)
    with ExitStack() as outputs:
        content = f"{method} fill without speckle"
        _write_outputs(outputs, raster, hidden, tags, (out, anonymised), (raw_out, raw, content), mask_out)
    return InpaintSummary(
        out=Path(out),
        hidden_fraction=hidden_fraction(hidden),
        config_hash="",
        tile_seed=tseed,
        iterations=0,
        seconds=time.perf_counter() - start,
        device="cpu",
        speckle=speckle_tag,
    )
