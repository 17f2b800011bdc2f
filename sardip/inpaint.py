"""Anonymise one SAR raster: files in, file out (:func:`inpaint_file`), the glue that the CLI, the
workflow and the audit call. It fits the DIP through the engine (:func:`sardip.dip.engine.fit`) or runs
a classic fill of :mod:`sardip.fill`, then pastes the fill into the hole (:func:`sardip.fill.paste`),
with speckle-consistent filling when asked or when the preset says so (:mod:`sardip.speckle`).

Three settings objects say what to do, and every caller builds them the same way:
:class:`sardip.masks.MaskSpec` (what to hide), :class:`FitSettings` (how to fill it) and
:class:`OutputPaths` (what to write).

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
from sardip.dip.engine import TRAJECTORY_COLUMNS, FitResult, ProgressCallback, fit
from sardip.dip.presets import Preset, get_preset
from sardip.fill import FillMethod, classic_fill, get_method, paste
from sardip.geotiff import Raster, from_db, read_raster, write_mask, write_raster
from sardip.gpu import claim_device
from sardip.io import atomic_path, write_table
from sardip.masks import MaskSpec, hidden_fraction
from sardip.seeds import tile_seed

log = logging.getLogger(__name__)


class InpaintError(ValueError):
    """Input that cannot be inpainted (e.g. a raster without any valid pixel); the message names it."""


@dataclass(frozen=True)
class FitSettings:
    """How the hidden area is filled.

    What changes the result: ``method`` (a name of :data:`sardip.fill.METHODS`; ``dip`` fits
    ``preset`` for ``land_cover``, the classic fills ignore both), ``iterations`` (``None``: the
    preset's), ``speckle`` (speckle-consistent filling of the hole; ``None`` follows the preset for
    ``dip`` and means off for the classic fills) and ``seed``, the base seed (the tile's own seed is
    derived from it and the tile id). What does not: ``device``, ``report_every`` and
    ``checkpoint_every``.
    """

    method: str = "dip"
    preset: str = "credible"
    land_cover: str | None = None
    iterations: int | None = None
    speckle: bool | None = None
    seed: int = 0
    device: str = "auto"
    report_every: int = 100
    checkpoint_every: int = 500

    def __post_init__(self) -> None:
        if self.iterations is not None and self.iterations < 1 and self.fill_method().is_dip:
            raise InpaintError(
                f"iterations={self.iterations}: a DIP needs at least 1 iteration (with 0 the hole would "
                "get the untrained network's output, a flat fake patch)"
            )
        if self.report_every < 1 or self.checkpoint_every < 1:
            raise InpaintError("report_every and checkpoint_every must be at least 1 iteration")

    def fill_method(self) -> FillMethod:
        """The fill method (:class:`sardip.fill.FillError` for an unknown name)."""
        return get_method(self.method)

    def dip_preset(self) -> Preset | None:
        """The DIP preset for ``land_cover`` (``None`` for a classic fill)."""
        return get_preset(self.preset, self.land_cover) if self.fill_method().is_dip else None

    def adds_speckle(self) -> bool:
        """Whether the hole gets speckle-consistent filling."""
        preset = self.dip_preset()
        if self.speckle is None:
            return preset is not None and preset.speckle
        return self.speckle


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
    mask = MaskSpec(mask) if isinstance(mask, str) else mask
    outputs = outputs if isinstance(outputs, OutputPaths) else OutputPaths(Path(outputs))
    settings = settings or FitSettings()
    method = settings.fill_method()
    preset = settings.dip_preset()
    files = [Path(p) for p in ([inputs] if isinstance(inputs, str | Path) else inputs)]
    raster = read_raster(files, units=units)
    if raster.grid.crs is None and not allow_no_crs:
        raise InpaintError(
            f"{files[0]} has no georeference (no CRS): the result could not be placed on the original in a "
            "GIS; pass --allow-no-crs (allow_no_crs=True) to inpaint it anyway"
        )
    if raster.grid.crs is None:
        log.warning("%s has no CRS: the result is written without georeference", files[0])
    if not np.isfinite(raster.data).any():
        raise InpaintError(f"{', '.join(map(str, files))}: every pixel is nodata, nothing to inpaint")
    tile_id = tile_id or files[0].stem
    seed = tile_seed(tile_id, settings.seed)
    hidden = mask.build(raster.grid, seed=seed)
    tags = {
        "method": method.name,
        "seed": str(settings.seed),
        "tile_id": tile_id,
        "tile_seed": str(seed),
        "mask": mask.describe(seed),
        "hidden_fraction": f"{hidden_fraction(hidden):.6f}",
        "units": raster.units,
        "sardip_version": __version__,
        "sources": ";".join(raster.sources),
    }
    start = time.perf_counter()
    fitted: FitResult | None = None
    if preset is None:
        if outputs.snapshots or outputs.trajectory or outputs.checkpoint:
            raise InpaintError(f"method {method.name!r} is not iterative: no snapshots, trajectory or checkpoint")
        fill_db, iterations, device = classic_fill(method.name, raster.db(), hidden), 0, "cpu"
        content = f"{method.name} fill without speckle"
    else:
        iterations = preset.iterations if settings.iterations is None else settings.iterations
        fitted, device = _fit(raster, hidden, preset, seed, iterations, settings, outputs, tile_id)
        fill_db = fitted.output_db[0]
        content = "network output f(Z) over the whole tile"
        tags |= {
            "preset": preset.name,
            "preset_params": json.dumps(preset.to_dict(), sort_keys=True),
            "config_hash": preset.config_hash(),
            "land_cover": str(preset.land_cover),
            "iterations": str(iterations),
        }
    anonymised, pasted = paste(raster, fill_db, hidden, speckle=settings.adds_speckle(), seed=seed)
    speckle_tag = pasted.speckle_tag(raster.band_names)
    tags |= {"speckle": "on" if speckle_tag else "off", "speckle_params": speckle_tag}
    with ExitStack() as stack:
        write_raster(stack.enter_context(atomic_path(outputs.out)), anonymised, like=raster, tags=tags)
        if outputs.raw:
            raw = from_db(fill_db, raster.units).astype(np.float32)
            write_raster(
                stack.enter_context(atomic_path(outputs.raw)), raw, like=raster, tags={**tags, "content": content}
            )
        if outputs.mask:
            write_mask(stack.enter_context(atomic_path(outputs.mask)), hidden, like=raster, tags=tags)
        if fitted is not None:
            _write_fit_outputs(stack, fitted, raster, tags, outputs)
    if outputs.checkpoint:
        outputs.checkpoint.unlink(missing_ok=True)
    return InpaintSummary(
        out=outputs.out,
        hidden_fraction=hidden_fraction(hidden),
        config_hash=preset.config_hash() if preset else "",
        tile_seed=seed,
        iterations=iterations,
        seconds=fitted.seconds if fitted else time.perf_counter() - start,
        device=device,
        speckle=speckle_tag,
    )


def _fit(
    raster: Raster,
    hidden: np.ndarray,
    preset: Preset,
    seed: int,
    iterations: int,
    settings: FitSettings,
    outputs: OutputPaths,
    tile_id: str,
) -> tuple[FitResult, str]:
    """The DIP fit of one raster on a claimed device: the engine's result and the device it ran on."""
    bad = [i for i in outputs.snapshots if not 0 <= i <= iterations]
    if bad:
        raise InpaintError(f"snapshot iterations {bad} lie outside 0..{iterations}")
    on_report, bar = progress_reporter(iterations, tile_id)
    with claim_device(settings.device) as claim, bar:
        log.info("%s: preset %s (%s) on %s (%s)", tile_id, preset.name, preset.config_hash(), claim.device,
                 claim.reason)  # fmt: skip
        result = fit(
            raster.db()[None],
            hidden,
            preset,
            [seed],
            iterations=iterations,
            device=claim.device,
            report_every=settings.report_every,
            snapshot_iters=outputs.snapshots,
            checkpoint=outputs.checkpoint,
            checkpoint_every=settings.checkpoint_every,
            progress=on_report,
        )
    return result, claim.device


def _write_fit_outputs(
    stack: ExitStack, fitted: FitResult, raster: Raster, tags: dict[str, str], outputs: OutputPaths
) -> None:
    """The snapshots and the trajectory of a DIP fit, each to a temporary name entered into ``stack``."""
    for i, snap in fitted.snapshots.items():
        assert outputs.snapshot_dir is not None
        path = outputs.snapshot_dir / f"iter_{i:06d}.tif"
        snap_tags = {**tags, "content": f"network output after {i} iterations"}
        write_raster(
            stack.enter_context(atomic_path(path)), from_db(snap[0], raster.units), like=raster, tags=snap_tags
        )
    if outputs.trajectory:
        write_table(trajectory_frame(fitted.trajectories[0]), stack.enter_context(atomic_path(outputs.trajectory)))
