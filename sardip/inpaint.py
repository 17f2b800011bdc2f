"""Anonymise SAR rasters: files in, files out. :func:`inpaint_tiles` fills several rasters in one job,
fitting their DIPs as one batch through the engine (:func:`sardip.dip.engine.fit`), or running a
classic fill of :mod:`sardip.fill`, and pastes each fill into its hole (:func:`sardip.fill.paste`),
with speckle-consistent filling when asked or when the preset says so (:mod:`sardip.speckle`).
:func:`inpaint_file` is the one-raster case, which the CLI and the audit call; the workflow's DIP
jobs (:mod:`sardip.chunks`) call :func:`inpaint_tiles` with the tiles of a chunk.

A raster's result never depends on its batch mates: each tile has its own seed, network and
optimiser state (:mod:`sardip.dip.engine`), so a tile fitted alone or among K others gives the same
pixels (bit for bit on the CPU). A tile that cannot be read, or whose fit diverges (a non-finite
loss), fails alone when ``isolate_failures`` is set: the others still get their outputs.

Three settings objects say what to do, and every caller builds them the same way:
:class:`sardip.masks.MaskSpec` (what to hide), :class:`FitSettings` (how to fill it) and
:class:`OutputPaths` (what to write); a :class:`TileJob` puts a raster's inputs, id, mask and
outputs together.

The result keeps the input's meaning: same grid, dtype, band count, band names and nodata; outside the
hidden area every pixel is the input's value bit for bit; inside it the value is the fill converted
back to the input's units (linear input is fitted in dB, ``10 log10 x``, and written back as
``10^(x/10)``).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from sardip import __version__
from sardip.dip.engine import TRAJECTORY_COLUMNS, FitResult, ProgressCallback
from sardip.dip.presets import Preset
from sardip.fill import paste
from sardip.fill.batch import fill_batch
from sardip.fill.spec import FillSpec
from sardip.geotiff import Raster, from_db, published_path, read_raster, write_mask, write_raster
from sardip.gpu import claim_device
from sardip.io import atomic_path, write_table
from sardip.masks import MaskSpec, hidden_fraction
from sardip.seeds import tile_seed

log = logging.getLogger(__name__)


class InpaintError(ValueError):
    """Input that cannot be inpainted (e.g. a raster without any valid pixel); the message names it."""


@dataclass(frozen=True)
class FitSettings(FillSpec):
    """How a tile's hidden area is filled: a :class:`sardip.fill.spec.FillSpec` (what changes the
    result) and what does not: ``device``, ``report_every`` and ``checkpoint_every``."""

    device: str = "auto"
    report_every: int = 100
    checkpoint_every: int = 500

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.report_every < 1 or self.checkpoint_every < 1:
            raise InpaintError("report_every and checkpoint_every must be at least 1 iteration")


@dataclass(frozen=True)
class OutputPaths:
    """What :func:`inpaint_file` writes: ``out``, the anonymised GeoTIFF; optionally ``raw``, the whole
    fill without speckle (for ``dip`` the network output ``f(Z)``), ``mask`` (1 = known, 0 = hidden),
    ``trajectory`` (TSV of the fit), ``snapshot_dir/iter_NNNNNN.tif`` the network output after each of
    ``snapshots`` updates, and ``checkpoint``, the fit's state for resuming (deleted once the outputs
    exist). Rasters are in the input's units."""

    out: Path
    raw: Path | None = None
    mask: Path | None = None
    trajectory: Path | None = None
    snapshot_dir: Path | None = None
    snapshots: tuple[int, ...] = field(default=())
    checkpoint: Path | None = None

    def __post_init__(self) -> None:
        for name in ("out", "raw", "mask", "trajectory", "snapshot_dir", "checkpoint"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value))
        object.__setattr__(self, "snapshots", tuple(sorted({int(i) for i in self.snapshots})))
        if self.snapshots and self.snapshot_dir is None:
            raise InpaintError("snapshot iterations given without a snapshot folder")


@dataclass(frozen=True)
class TileJob:
    """One raster to fill: its input files (one multi-band GeoTIFF or one file per polarisation), what
    to hide, what to write, its id (seed and logs; default the first input's stem), its value scale
    (``auto``, ``db``, ``linear``) and whether a raster without CRS is accepted."""

    inputs: tuple[Path, ...]
    mask: MaskSpec
    outputs: OutputPaths
    tile_id: str = ""
    units: str = "auto"
    allow_no_crs: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(Path(p) for p in self.inputs))
        if not self.inputs:
            raise InpaintError("a tile job needs at least one input file")
        object.__setattr__(self, "tile_id", self.tile_id or self.inputs[0].stem)


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


@dataclass
class TileOutcome:
    """One tile of :func:`inpaint_tiles`: its summary, or why it failed (``error``)."""

    tile_id: str
    summary: InpaintSummary | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.summary is not None


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


def trajectory_frame(rows: list[dict]) -> pd.DataFrame:
    """One tile's trajectory as a table with columns ``TRAJECTORY_COLUMNS``."""
    return pd.DataFrame(rows, columns=list(TRAJECTORY_COLUMNS))


def inpaint_file(
    inputs: str | Path | Sequence[str | Path],
    mask: MaskSpec | str,
    outputs: OutputPaths | str | Path,
    settings: FitSettings | None = None,
    *,
    units: str = "auto",
    tile_id: str | None = None,
    allow_no_crs: bool = False,
) -> InpaintSummary:
    """Fill the area ``mask`` hides (see :func:`sardip.masks.make_mask`) in one raster and write ``outputs``.

    ``inputs``: one multi-band GeoTIFF or one single-band file per polarisation (stacked in order);
    ``units``: their value scale (``auto``, ``db`` or ``linear``). A plain string ``mask`` is a spec
    without invert or grow, a plain path ``outputs`` the anonymised file alone. The tile's seed
    ``sardip.seeds.tile_seed(tile_id, settings.seed)`` (``tile_id`` defaulting to the first input's
    file stem) drives everything random about this tile: the network's initialisation, input noise and
    jitter, a ``random:SIZE`` box, and the speckle grain. Every output appears only when the whole run
    succeeded; an interrupted DIP fit with ``outputs.checkpoint`` resumes from it. A raster without a
    CRS (a PNG, a bare TIFF) is refused unless ``allow_no_crs``: its result could not be overlaid on
    the original in a GIS, and it usually means the wrong file.
    """
    files = (inputs,) if isinstance(inputs, str | Path) else tuple(inputs)
    outputs = outputs if isinstance(outputs, OutputPaths) else OutputPaths(Path(outputs))
    job = TileJob(files, MaskSpec(mask) if isinstance(mask, str) else mask, outputs, tile_id or "", units, allow_no_crs)
    outcome = inpaint_tiles([job], settings, checkpoint=outputs.checkpoint)[0]
    assert outcome.summary is not None
    return outcome.summary


@dataclass
class _Tile:
    """A tile read and ready: its job, raster, hidden area, own seed and provenance tags."""

    job: TileJob
    raster: Raster
    hidden: np.ndarray
    seed: int
    tags: dict[str, str]


def _prepare(job: TileJob, settings: FitSettings) -> _Tile:
    """Read one tile's raster and build its hidden area; :class:`InpaintError` (or the reader's error)
    names the file for anything that makes it unusable."""
    raster = read_raster(job.inputs, units=job.units)
    if raster.grid.crs is None and not job.allow_no_crs:
        raise InpaintError(
            f"{job.inputs[0]} has no georeference (no CRS): the result could not be placed on the original in a "
            "GIS; pass --allow-no-crs (allow_no_crs=True) to inpaint it anyway"
        )
    if raster.grid.crs is None:
        log.warning("%s has no CRS: the result is written without georeference", job.inputs[0])
    if not np.isfinite(raster.data).any():
        raise InpaintError(f"{', '.join(map(str, job.inputs))}: every pixel is nodata, nothing to inpaint")
    seed = tile_seed(job.tile_id, settings.seed)
    hidden = job.mask.build(raster.grid, seed=seed)
    if not ((~hidden)[None] & np.isfinite(raster.data)).any():
        raise InpaintError(f"{job.inputs[0]}: the mask leaves no valid pixel to fit")
    tags = {
        "method": settings.method,
        "seed": str(settings.seed),
        "tile_id": job.tile_id,
        "tile_seed": str(seed),
        "mask": job.mask.describe(seed),
        "hidden_fraction": f"{hidden_fraction(hidden):.6f}",
        "units": raster.units,
        "sardip_version": __version__,
        "sources": ";".join(raster.sources),
    }
    return _Tile(job, raster, hidden, seed, tags)


def inpaint_tiles(
    jobs: Sequence[TileJob],
    settings: FitSettings | None = None,
    *,
    checkpoint: Path | None = None,
    isolate_failures: bool = False,
) -> list[TileOutcome]:
    """Fill every job's hidden area; the DIP fits all tiles as one batch on one claimed device.

    The tiles must share their size (one batch) and their snapshot iterations. ``checkpoint``: the
    batch's state file, resumed from when it exists and deleted once every output is written. With
    ``isolate_failures`` a tile that cannot be read or filled, or whose loss ends non-finite, gets an
    ``error`` in its :class:`TileOutcome` and no outputs, and the others go on; without it the first
    failure raises. Returns one outcome per job, in order.
    """
    settings = settings or FitSettings()
    method, preset = settings.fill_method(), settings.dip_preset()
    outcomes = {job.tile_id: TileOutcome(job.tile_id) for job in jobs}
    if len(outcomes) != len(jobs):
        raise InpaintError(f"tile ids repeat within one job: {[job.tile_id for job in jobs]}")

    def failed(tile_id: str, err: Exception) -> None:
        if not isolate_failures:
            raise err
        log.error("%s failed: %s", tile_id, err)
        outcomes[tile_id].error = str(err)

    tiles: list[_Tile] = []
    for job in jobs:
        try:
            tiles.append(_prepare(job, settings))
        except (ValueError, OSError) as err:
            failed(job.tile_id, err)
    fitted: FitResult | None = None
    device, iterations = "cpu", settings.dip_iterations()
    if preset is not None and tiles:
        fitted, device = _fit(tiles, preset, settings, checkpoint)
    elif any(j.outputs.snapshots or j.outputs.trajectory or checkpoint for j in jobs):
        raise InpaintError(f"method {method.name!r} is not iterative: no snapshots, trajectory or checkpoint")
    for b, tile in enumerate(tiles):
        try:
            if fitted is not None and not np.isfinite(fitted.trajectories[b][-1]["loss"]):
                raise InpaintError(f"{tile.job.tile_id}: the fit diverged (non-finite loss at iteration {iterations})")
            outcomes[tile.job.tile_id].summary = _write_tile(tile, fitted, b, settings, device)
        except (ValueError, OSError) as err:
            failed(tile.job.tile_id, err)
    if checkpoint:
        Path(checkpoint).unlink(missing_ok=True)
    return [outcomes[job.tile_id] for job in jobs]


def _fit(
    tiles: Sequence[_Tile], preset: Preset, settings: FitSettings, checkpoint: Path | None
) -> tuple[FitResult, str]:
    """The DIP fit of a batch of tiles (:func:`sardip.fill.batch.fill_batch`) on a claimed device: the
    engine's result and the device it ran on."""
    iterations = settings.dip_iterations()
    shapes = {t.raster.data.shape for t in tiles}
    if len(shapes) != 1:
        raise InpaintError(f"tiles of different sizes {sorted(shapes)} cannot be fitted in one batch")
    snapshots = {t.job.outputs.snapshots for t in tiles}
    if len(snapshots) != 1:
        raise InpaintError("tiles fitted in one batch must take the same snapshot iterations")
    wanted = next(iter(snapshots))
    bad = [i for i in wanted if not 0 <= i <= iterations]
    if bad:
        raise InpaintError(f"snapshot iterations {bad} lie outside 0..{iterations}")
    label = tiles[0].job.tile_id if len(tiles) == 1 else f"{len(tiles)} tiles"
    on_report, bar = progress_reporter(iterations, label)
    with claim_device(settings.device) as claim, bar:
        log.info("%s: preset %s (%s) on %s (%s)", label, preset.name, preset.config_hash(), claim.device,
                 claim.reason)  # fmt: skip
        batch = fill_batch(
            settings,
            [t.raster.db() for t in tiles],
            [t.hidden for t in tiles],
            [t.raster.present() for t in tiles],
            [t.seed for t in tiles],
            device=claim.device,
            report_every=settings.report_every,
            snapshot_iters=wanted,
            checkpoint=checkpoint,
            checkpoint_every=settings.checkpoint_every,
            progress=on_report,
        )
    assert batch.fit is not None
    return batch.fit, claim.device


def _write_tile(tile: _Tile, fitted: FitResult | None, b: int, settings: FitSettings, device: str) -> InpaintSummary:
    """Fill (classic, :func:`sardip.fill.batch.fill_batch`) or take the batch's ``b``-th fit, paste it
    (with speckle when the settings add it) and write the tile's outputs atomically."""
    start = time.perf_counter()
    raster, hidden, outputs, tags = tile.raster, tile.hidden, tile.job.outputs, dict(tile.tags)
    method, preset, iterations = settings.fill_method(), settings.dip_preset(), settings.dip_iterations()
    speckle = settings.adds_speckle()
    if fitted is None:
        fill_db = fill_batch(settings, [raster.db()], [hidden], [raster.present()], [tile.seed]).fills_db[0]
        content = f"{method.name} fill without speckle"
    else:
        assert preset is not None
        fill_db = fitted.output_db[b]
        content = "network output f(Z) over the whole tile"
        tags |= {
            "preset": preset.name,
            "preset_params": json.dumps(preset.to_dict(), sort_keys=True),
            "config_hash": preset.config_hash(),
            "land_cover": str(preset.land_cover),
            "iterations": str(iterations),
        }
    anonymised, pasted = paste(raster, fill_db, hidden, speckle=speckle, seed=tile.seed, grain=settings.grain_model())
    speckle_tag = pasted.speckle_tag(raster.band_names)
    tags |= {"speckle": "on" if speckle_tag else "off", "speckle_params": speckle_tag}
    with ExitStack() as stack:
        write_raster(stack.enter_context(published_path(outputs.out)), anonymised, like=raster, tags=tags)
        if outputs.raw:
            raw = from_db(fill_db, raster.units).astype(np.float32)
            raw_tags = {**tags, "content": content}
            write_raster(stack.enter_context(published_path(outputs.raw)), raw, like=raster, tags=raw_tags)
        if outputs.mask:
            write_mask(stack.enter_context(published_path(outputs.mask)), hidden, like=raster, tags=tags)
        if fitted is not None:
            _write_fit_outputs(stack, fitted, b, raster, tags, outputs)
    return InpaintSummary(
        out=outputs.out,
        hidden_fraction=hidden_fraction(hidden),
        config_hash=preset.config_hash() if preset else "",
        tile_seed=tile.seed,
        iterations=iterations,
        seconds=fitted.seconds / len(fitted.trajectories) if fitted else time.perf_counter() - start,
        device=device,
        speckle=speckle_tag,
    )


def _write_fit_outputs(
    stack: ExitStack, fitted: FitResult, b: int, raster: Raster, tags: dict[str, str], outputs: OutputPaths
) -> None:
    """Tile ``b``'s snapshots and trajectory of a DIP fit, each to a temporary name entered into ``stack``."""
    for i, snap in fitted.snapshots.items():
        assert outputs.snapshot_dir is not None
        path = outputs.snapshot_dir / f"iter_{i:06d}.tif"
        snap_tags = {**tags, "content": f"network output after {i} iterations"}
        snapshot = from_db(snap[b], raster.units)
        write_raster(stack.enter_context(published_path(path)), snapshot, like=raster, tags=snap_tags)
    if outputs.trajectory:
        write_table(trajectory_frame(fitted.trajectories[b]), stack.enter_context(atomic_path(outputs.trajectory)))
