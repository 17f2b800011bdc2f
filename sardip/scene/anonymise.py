"""Anonymise a whole scene: read only the windows around what is hidden, fit them in batches through the
engine, paste the fills with speckle, and write the published copy (:func:`anonymise_scene`).

Per window (:mod:`sardip.scene.windows`): its stored values are read and converted to dB
(:class:`sardip.scene.source.Scene`); windows of one size are fitted together in one batched call of
:func:`sardip.dip.engine.fit` (up to ``batch`` at a time; each window has its own network and seed,
``sardip.seeds.tile_seed("<window id>", seed)``, so its result does not depend on its batch mates and
equals a fit of that window alone, :func:`sardip.inpaint.inpaint_file` on a crop of it); the fill is
pasted into the window's hidden pixels (:func:`sardip.fill.paste_db`, with speckle-consistent filling
for ``credible``), converted back to the input's units and dtype (integers rounded and clipped), and
kept only where the pixel is hidden **and** valid: every other pixel, nodata included, is written as
it was read, byte for byte. Each window is audited against the original (:mod:`sardip.audit`) where
it is large enough; the figures go to the sidecar. Progress: a bar over windows on a terminal, else a
line per batch (``window 12/40, 3,200 px hidden, ETA 2 min``).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sardip import __version__
from sardip.audit.detectors import AuditError, audit, verdict
from sardip.dip.engine import fit
from sardip.dip.presets import get_preset
from sardip.fill import classic_fill, parse_variant, paste_db
from sardip.geotiff import from_db, to_stored
from sardip.gpu import claim_device
from sardip.io import sha256_file
from sardip.masks import mask_sources
from sardip.scene.output import Patch, check_output, write_scene, write_sidecar
from sardip.scene.source import Scene, SceneError
from sardip.scene.windows import SceneMask, SceneWindow, plan_windows
from sardip.seeds import tile_seed

log = logging.getLogger(__name__)

#: Context (px) around each hidden area in its window (bench/bench_scene_limits.py: chosen by the audit).
MARGIN = 32


@dataclass(frozen=True)
class SceneSettings:
    """How a scene is anonymised: ``method`` (``dip`` or a classic fill), ``preset`` and ``land_cover``
    (``None``: the preset's class-free activation), ``iterations`` (``None``: the preset's), ``speckle``
    (``None``: the preset's, or the method's ``+speckle``), ``seed``
    (base seed), ``margin`` (px of context), ``grow`` (px added to each hidden area), ``batch`` (windows
    per engine call), ``device``, ``units`` (``auto`` or given), and what to write: ``cog``,
    ``overwrite``, ``provenance_tags`` (provenance in the raster's tags too); ``allow_no_crs`` accepts a
    raster without georeference (box and raster masks only)."""

    method: str = "dip"
    preset: str = "credible"
    land_cover: str | None = None
    iterations: int | None = None
    speckle: bool | None = None
    seed: int = 0
    margin: int = MARGIN
    grow: int = 0
    invert_mask: bool = False
    batch: int = 8
    device: str = "auto"
    units: str = "auto"
    cog: bool = False
    overwrite: bool = False
    provenance_tags: bool = False
    allow_no_crs: bool = False

    def __post_init__(self) -> None:
        if self.iterations is not None and self.iterations < 1 and self.method == "dip":
            raise SceneError(
                f"iterations={self.iterations}: a DIP needs at least 1 iteration (with 0 the hole would get the "
                "untrained network's output, a flat fake patch)"
            )
        if self.batch < 1 or self.margin < 0:
            raise SceneError(f"batch={self.batch} must be >= 1 and margin={self.margin} >= 0")


@dataclass
class SceneSummary:
    """What :func:`anonymise_scene` did: output and sidecar paths, windows and their figures, seconds."""

    out: Path
    sidecar: Path
    units: str
    windows: list[dict] = field(default_factory=list)
    hidden_pixels: int = 0
    seconds: float = 0.0
    device: str = "cpu"


def sidecar_of(out: Path) -> Path:
    """``<out stem>.provenance.json`` beside the output."""
    return out.with_name(out.stem + ".provenance.json")


def _progress(total: int, label: str):
    if sys.stderr.isatty():
        return tqdm(total=total, desc=label, unit="window")
    return None


def anonymise_scene(
    inputs: Sequence[str | Path], mask: str, out: str | Path, settings: SceneSettings | None = None
) -> SceneSummary:
    """Hide what ``mask`` covers in the scene ``inputs`` (one multi-band file or one file per band) and
    write ``out`` and its provenance sidecar (module docstring; :mod:`sardip.scene.output` for the
    output's safety and content)."""
    settings = settings or SceneSettings()
    start = time.perf_counter()
    out, paths = Path(out), [Path(p) for p in inputs]
    method, _ = parse_variant(settings.method)
    preset = get_preset(settings.preset, settings.land_cover) if method.is_dip else None
    with Scene.open(paths, settings.units, allow_no_crs=settings.allow_no_crs) as scene:
        needed = int(sum(p.stat().st_size for p in paths) * (2.2 if settings.cog else 1.1)) + 2**26
        check_output(out, paths, settings.overwrite, needed)
        check_output(sidecar_of(out), paths, True, 0)
        assert scene.grid is not None
        scene_mask = SceneMask(mask, scene.grid, grow=settings.grow, invert=settings.invert_mask)
        multiple = 2**preset.depth if preset else 1
        windows = plan_windows(scene_mask.areas(), settings.margin, multiple, scene.grid.shape)
        log.info("%s: %s units, %d hidden areas in %d windows", paths[0], scene.units,
                 sum(len(w.areas) for w in windows), len(windows))  # fmt: skip
        iterations = (preset.iterations if settings.iterations is None else settings.iterations) if preset else 0
        patches, figures, device = _fill_windows(scene, scene_mask, windows, settings, preset, iterations)
        provenance = {
            "sardip_version": __version__, "inputs": [str(p) for p in paths], "units": scene.units,
            "mask": {"spec": mask, "grow": settings.grow, "invert": settings.invert_mask,
                     "sha256": {str(p): sha256_file(p) for p in mask_sources(mask)}},
            "method": settings.method, "preset": preset.name if preset else None,
            "preset_params": preset.to_dict() if preset else None,
            "config_hash": preset.config_hash() if preset else None,
            "iterations": iterations, "seed": settings.seed, "margin": settings.margin, "device": device,
            "windows": figures,
        }  # fmt: skip
        tags = {"sardip_provenance": _json(provenance)} if settings.provenance_tags else None
        write_scene(scene, out, patches, cog=settings.cog, tags=tags)
    sidecar = sidecar_of(out)
    seconds = time.perf_counter() - start
    write_sidecar(sidecar, {**provenance, "seconds": seconds})
    hidden = int(sum(f["hidden_pixels"] for f in figures))
    return SceneSummary(out, sidecar, scene.units, figures, hidden, seconds, device)


def _json(value: object) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def _fill_windows(
    scene: Scene, mask: SceneMask, windows: Sequence[SceneWindow], settings: SceneSettings, preset, iterations: int
) -> tuple[list[Patch], list[dict], str]:
    """Fill every window (batches of one size through the engine, or a classic fill), return the
    patches to write, the per-window figures and the device used."""
    method, speckle = parse_variant(settings.method)
    if settings.speckle is not None:
        speckle = settings.speckle
    elif preset is not None:
        speckle = preset.speckle
    groups: dict[tuple[int, int], list[SceneWindow]] = defaultdict(list)
    for window in windows:
        groups[window.box.shape].append(window)
    batches = [g[i : i + settings.batch] for g in groups.values() for i in range(0, len(g), settings.batch)]
    patches, figures = [], []
    bar, done, start = _progress(len(windows), str(scene.paths[0].name)), 0, time.perf_counter()
    with claim_device(settings.device if preset else "cpu") as claim:
        for planned in batches:
            batch, reads, hiddens = _screened(scene, mask, planned, figures)
            done += len(planned)
            if not batch:
                continue
            seeds = [tile_seed(w.name, settings.seed) for w in batch]
            t0 = time.perf_counter()
            if preset is not None:
                shifts = np.array([_level_shift(scene, db, h) for (_, db), h in zip(reads, hiddens, strict=True)])
                shifted = np.stack([db for _, db in reads]) + shifts[:, None, None, None]
                fitted = fit(shifted, np.stack(hiddens), preset, seeds, iterations=iterations, device=claim.device,
                             report_every=max(iterations, 1)).output_db - shifts[:, None, None, None]  # fmt: skip
            else:
                fitted = np.stack([classic_fill(method.name, db, h) for (_, db), h in zip(reads, hiddens, strict=True)])
            seconds = (time.perf_counter() - t0) / len(batch)
            for window, (stored, db), hidden, fill, seed in zip(batch, reads, hiddens, fitted, seeds, strict=True):
                patch, figure = _paste(scene, window, stored, db, hidden, fill, speckle, seed)
                patches.append(patch)
                figures.append({**figure, "seconds": seconds})
            _report(bar, done, len(windows), sum(f["hidden_pixels"] for f in figures[-len(batch) :]), start)
    if bar is not None:
        bar.close()
    return patches, figures, claim.device


def _screened(
    scene: Scene, mask: SceneMask, windows: Sequence[SceneWindow], figures: list[dict]
) -> tuple[list[SceneWindow], list[tuple[np.ndarray, np.ndarray]], list[np.ndarray]]:
    """The windows that have something to hide, with their (stored, dB) values and hidden pixels; a
    window whose hidden pixels are all nodata gets a note in ``figures`` instead, and one with no valid
    pixel around its hidden area is an error."""
    kept, reads, hiddens = [], [], []
    for window in windows:
        stored, db = scene.read_db(window.box.window)
        hidden = mask.hidden(window.box)
        valid = np.isfinite(db)
        if not (hidden[None] & valid).any():
            note = "every hidden pixel is nodata: nothing to hide"
            figures.append({"window": window.name, "areas": [a.label for a in window.areas], "hidden_pixels": 0,
                            "note": note})  # fmt: skip
            continue
        if not (~hidden[None] & valid).any():
            raise SceneError(f"window {window.name}: no valid pixel around the hidden area to fit from")
        kept.append(window)
        reads.append((stored, db))
        hiddens.append(hidden)
    return kept, reads, hiddens


#: dB level the presets' normalisation centres on (SEN12MS's [-25, 0] dB clip range).
CENTRE_DB = -12.5


def _level_shift(scene: Scene, db: np.ndarray, hidden: np.ndarray) -> float:
    """The dB offset a window is fitted with: 0 for calibrated values; for digital numbers (integer
    amplitude, whose dB level depends on the product's scaling, about +50 dB for Sentinel-1 GRD) the
    offset that puts the median of the window's known pixels at :data:`CENTRE_DB`, where the presets'
    normalisation expects SAR backscatter. A constant in dB is a calibration factor: it changes no
    speckle statistic, and is taken off the fit again before the paste."""
    if np.dtype(scene.dtype).kind not in "iu":
        return 0.0
    known = db[:, ~hidden]
    known = known[np.isfinite(known)]
    return float(CENTRE_DB - np.median(known)) if known.size else 0.0


def _report(bar, done: int, total: int, hidden: int, start: float) -> None:
    if bar is not None:
        bar.update(done - bar.n)
        return
    elapsed = time.perf_counter() - start
    eta = elapsed / done * (total - done)
    log.info("window %d/%d, %s px hidden, ETA %s", done, total, f"{hidden:,}", _duration(eta))


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _paste(
    scene: Scene, window: SceneWindow, stored: np.ndarray, db: np.ndarray, hidden: np.ndarray, fill: np.ndarray,
    speckle: bool, seed: int,
) -> tuple[Patch, dict]:  # fmt: skip
    """The window's patch (its hidden, valid pixels) and its figures (audit where the area allows)."""
    pasted = paste_db(db, fill, hidden, speckle=speckle, seed=seed).db
    replace = hidden[None] & scene.valid(stored)
    if not np.isfinite(pasted[replace]).all():
        raise SceneError(f"window {window.name} ({', '.join(a.label for a in window.areas)}): the fill gave no "
                         "value for some hidden pixels (the fit diverged); nothing was written")  # fmt: skip
    # Pixels that are not replaced keep their stored value; the placeholder only lets them convert.
    new = to_stored(from_db(np.where(replace, pasted, 0.0), scene.units), scene.dtype, scene.nodata)
    values = np.where(replace, new, stored)
    rows, cols = np.nonzero(replace.any(axis=0))
    box = window.box
    patch = Patch(rows + box.r0, cols + box.c0, values[:, rows, cols])
    figure = {"window": window.name, "rows": [box.r0, box.r1], "cols": [box.c0, box.c1],
              "areas": [a.label for a in window.areas], "hidden_pixels": len(rows)}  # fmt: skip
    result_db = np.where(replace, pasted, db)
    try:
        checks = verdict(audit(db, result_db, hidden & np.isfinite(db).all(axis=0), scene.band_names))
        figure["audit"] = checks.to_dict("records")
    except AuditError as err:
        figure["audit"] = f"not audited: {err}"
    return patch, figure
