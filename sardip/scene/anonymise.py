"""Anonymise a whole scene: read only the windows around what is hidden, fit them in batches through the
engine, paste the fills with speckle, and write the published copy (:func:`anonymise_scene`).

Per window (:mod:`sardip.scene.windows`): its stored values are read and converted to dB
(:class:`sardip.scene.source.Scene`); windows of one size are fitted together in one batched call of
:func:`sardip.dip.engine.fit` (up to ``batch`` at a time; each window has its own network and seed,
``sardip.seeds.tile_seed("<window id>", seed)``, so its result does not depend on its batch mates and
equals a fit of that window alone, :func:`sardip.inpaint.inpaint_file` on a crop of it); the fill is
pasted into the window's hidden pixels (:func:`sardip.fill.paste_db`, with speckle-consistent filling
for ``credible``), converted back to the input's units, scale and dtype (integers rounded and clipped),
and kept where the pixel is in one of the window's own areas and holds data (a neighbour's area in its
context is fitted as hidden but written by the neighbour). Every such pixel is replaced, whatever its
value: one at or below 0 in linear units has no dB value and is not fitted from, but is filled like
the rest. Every other pixel, nodata and masked pixels included, is written as it was read, byte for
byte. Each window is audited against the original (:mod:`sardip.audit`) where
it is large enough; the figures go to the sidecar, and a window the audit finds stops the scene before
anything is written unless the provider accepts it (:mod:`sardip.scene.gate`). Progress: a bar over
windows on a terminal, else a line per batch and every half minute of a batch's fit (``window 12/40,
3,200 px hidden, ETA 2 min``).

The workflow runs the same steps as separate jobs (:mod:`sardip.scene.jobs`): :func:`plan_scene`, then
:func:`fill_windows` on parts of the windows (GPU jobs, like the tiles'), then :func:`publish`.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from tqdm import tqdm

from sardip import __version__, git_commit
from sardip.audit.detectors import AuditError, Baseline, baseline, verdict
from sardip.audit.localiser import DEFAULT_MODEL, load
from sardip.audit.natural import CALIBRATION
from sardip.dip.presets import Preset
from sardip.fill import paste_db
from sardip.fill.batch import fill_batch
from sardip.geotiff import from_db, to_stored
from sardip.gpu import claim_device
from sardip.grain import GrainModel
from sardip.io import sha256_file
from sardip.masks import mask_sources
from sardip.scene.escalation import CHOOSING, HELD_OUT, escalate
from sardip.scene.gate import DetectableEditError, WindowVerdict, failing, judge
from sardip.scene.output import Patch, check_output, write_scene, write_sidecar
from sardip.scene.settings import SceneSettings
from sardip.scene.source import Scene, SceneError, WindowValues
from sardip.scene.windows import Box, SceneMask, SceneWindow, plan_windows
from sardip.seeds import tile_seed

log = logging.getLogger(__name__)


@dataclass
class SceneSummary:
    """What :func:`anonymise_scene` did: the output, the units, the windows and their figures, seconds."""

    out: Path
    units: str
    windows: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    device: str = "cpu"
    verdicts: list[WindowVerdict] = field(default_factory=list)
    candidate: Path | None = None

    @property
    def sidecar(self) -> Path:
        return sidecar_of(self.out)

    @property
    def hidden_pixels(self) -> int:
        return int(sum(f["hidden_pixels"] for f in self.windows))


def sidecar_of(out: Path) -> Path:
    """``<out stem>.provenance.json`` beside the output."""
    return out.with_name(out.stem + ".provenance.json")


@dataclass
class ScenePlan:
    """What anonymising a scene will do, known before any fit: its mask, the windows around the hidden
    areas, the preset (``None`` for a classic fill) and the iterations."""

    mask: SceneMask
    windows: list[SceneWindow]
    preset: Preset | None
    iterations: int

    def batches(self, size: int, names: Collection[str] | None = None) -> list[list[SceneWindow]]:
        """The windows (those named, or all) in engine batches: windows of one shape, ``size`` at most."""
        groups: dict[tuple[int, int], list[SceneWindow]] = defaultdict(list)
        for window in self.windows:
            if names is None or window.name in names:
                groups[window.box.shape].append(window)
        return [g[i : i + size] for g in groups.values() for i in range(0, len(g), size)]


def plan_scene(scene: Scene, mask: str, settings: SceneSettings) -> ScenePlan:
    """The :class:`ScenePlan` of hiding ``mask`` in ``scene`` (refusals: :mod:`sardip.scene.windows`)."""
    preset = settings.dip_preset()
    assert scene.grid is not None
    scene_mask = SceneMask(
        mask, scene.grid, grow=settings.grow, invert=settings.invert_mask, seed=settings.seed,
        max_side=settings.max_side,
    )  # fmt: skip
    multiple = 2**preset.depth if preset else 1
    windows = plan_windows(scene_mask.areas(), settings.margin, multiple, scene.grid.shape)
    for window in windows:
        scene_mask.check_width(window.areas)
    log.info("%s: %s units, %d hidden areas in %d windows", scene.paths[0], scene.units,
             sum(len(w.areas) for w in windows), len(windows))  # fmt: skip
    return ScenePlan(scene_mask, windows, preset, settings.dip_iterations())


def open_scene(inputs: Sequence[str | Path], settings: SceneSettings) -> Scene:
    """The scene ``inputs`` opened with the settings' units and georeference rule."""
    return Scene.open([Path(p) for p in inputs], settings.units, allow_no_crs=settings.allow_no_crs)


def check_outputs(out: Path, scene: Scene, mask: str, settings: SceneSettings) -> None:
    """Refuse an output, or its sidecar, that endangers an input, a scene file or a mask file
    (:func:`sardip.scene.output.check_output`)."""
    inputs = [*scene.paths, *mask_sources(mask)]
    check_output(out, inputs, settings.overwrite, needed_bytes(scene, settings.cog))
    check_output(sidecar_of(out), inputs, True, 0)


def needed_bytes(scene: Scene, cog: bool) -> int:
    """Free space an output needs: about the inputs' size (a GeoTIFF's file size; for any other file,
    a VRT say, whose size says nothing of its pixels, the uncompressed size of its bands), plus the
    uncompressed GTiff a COG is made from."""
    assert scene.grid is not None
    pixels = scene.grid.width * scene.grid.height * np.dtype(scene.dtype).itemsize
    compressed = sum(
        path.stat().st_size if src.driver in ("GTiff", "COG") else pixels * src.count
        for path, src in zip(scene.paths, scene.datasets, strict=True)
    )
    raw = pixels * len(scene.layout) if cog else 0
    return int(compressed * 1.1 + raw) + 2**26


def anonymise_scene(
    inputs: Sequence[str | Path], mask: str, out: str | Path, settings: SceneSettings | None = None
) -> SceneSummary:
    """Hide what ``mask`` covers in the scene ``inputs`` (one multi-band file or one file per band) and
    write ``out`` and its provenance sidecar (module docstring; :mod:`sardip.scene.output` for the
    output's safety and content), unless the audit finds the edit in a window and the settings do not
    accept it (:class:`sardip.scene.gate.DetectableEditError`, nothing written at ``out``). With
    ``settings.review`` the candidate raster and its sidecar go to that folder first, whatever the
    verdict (:func:`review_paths`)."""
    settings = settings or SceneSettings()
    start = time.perf_counter()
    out = Path(out)
    with open_scene(inputs, settings) as scene:
        check_outputs(out, scene, mask, settings)
        candidate = review_paths(settings.review, out)[0] if settings.review else None
        if candidate:
            check_outputs(candidate, scene, mask, replace(settings, overwrite=True))
        plan = plan_scene(scene, mask, settings)
        patches, figures, device = fill_windows(scene, plan, plan.batches(settings.batch), settings)
        provenance = scene_provenance(scene, mask, settings, plan, figures, device)
        if candidate:
            review = {**provenance, "review_of": str(out)}
            publish(scene, candidate, patches, review, settings, 0.0, gate=False)
        try:
            verdicts = publish(scene, out, patches, provenance, settings, time.perf_counter() - start)
        except DetectableEditError as err:
            err.candidate = candidate
            raise
    return SceneSummary(out, scene.units, figures, time.perf_counter() - start, device, verdicts, candidate)


def review_paths(folder: str | Path, out: Path) -> tuple[Path, Path]:
    """Where ``--review`` writes the candidate raster, under a name that cannot pass for the published
    file, and its picture."""
    folder = Path(folder)
    return folder / f"{out.stem}.CANDIDATE-NOT-PUBLISHED{out.suffix or '.tif'}", folder / f"{out.stem}.review.png"


def scene_provenance(
    scene: Scene, mask: str, settings: SceneSettings, plan: ScenePlan, figures: list[dict], device: str
) -> dict:
    """What the sidecar records: sardip's version and commit (when run from a checkout), inputs, units,
    mask source and its checksum, method, preset and its parameters, iterations, seed, margin, device,
    the learned detector's weights, and every window's figures."""
    preset, model, grain = plan.preset, detector_model(settings), settings.grain_model()
    return {
        "sardip_version": __version__, "sardip_commit": git_commit(), "inputs": [str(p) for p in scene.paths],
        "units": scene.units,
        "mask": {"spec": mask, "grow": settings.grow, "invert": settings.invert_mask,
                 "sha256": {str(p): sha256_file(p) for p in mask_sources(mask)}},
        "method": settings.method, "speckle": settings.adds_speckle(), "preset": preset.name if preset else None,
        "preset_params": preset.to_dict() if preset else None,
        "config_hash": preset.config_hash() if preset else None,
        "iterations": plan.iterations, "seed": settings.seed, "margin": settings.margin, "device": device,
        "detector_model": {"path": str(model), "sha256": sha256_file(model)},
        "grain_model": {**grain.to_dict(), "hash": grain.config_hash()} if settings.adds_speckle() else None,
        "audit": {"calibration": CALIBRATION.as_dict(), "attempts": settings.attempts,
                  "chosen_by": list(CHOOSING), "judged_by": [*CHOOSING, *HELD_OUT]},
        "windows": figures,
    }  # fmt: skip


def detector_model(settings: SceneSettings) -> Path:
    """The learned detector's weights the windows are audited with."""
    return Path(settings.detector_model) if settings.detector_model else DEFAULT_MODEL


def publish(
    scene: Scene,
    out: Path,
    patches: Sequence[Patch],
    provenance: dict,
    settings: SceneSettings,
    seconds: float,
    gate: bool = True,
) -> list[WindowVerdict]:
    """Judge every window (:mod:`sardip.scene.gate`); unless one fails and the settings do not accept
    it (:class:`~sardip.scene.gate.DetectableEditError`, nothing written), write the anonymised copy
    (provenance in its tags only if asked) and then its sidecar, which records the windows that failed
    and whether they were accepted; return the verdicts. ``gate=False`` writes a review candidate,
    which is never published."""
    verdicts = judge(provenance["windows"])
    if gate:
        bad = [v.window for v in failing(verdicts)]
        if bad and not settings.accept_detectable:
            raise DetectableEditError(str(out), verdicts)
        provenance = {**provenance, "gate": {"failing_windows": bad, "accept_detectable": settings.accept_detectable}}
    tags = {"sardip_provenance": _json(provenance)} if settings.provenance_tags else None
    write_scene(scene, out, patches, cog=settings.cog, tags=tags)
    write_sidecar(sidecar_of(out), {**provenance, "seconds": seconds})
    return verdicts


def _json(value: object) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def fill_windows(
    scene: Scene, plan: ScenePlan, batches: Sequence[Sequence[SceneWindow]], settings: SceneSettings
) -> tuple[list[Patch], list[dict], str]:
    """Fill the windows of ``batches`` (each through :func:`sardip.fill.batch.fill_batch`: one engine
    call, or a classic fill); return the patches to write, the per-window figures and the device used."""
    preset, iterations, speckle = plan.preset, plan.iterations, settings.adds_speckle()
    grain = settings.grain_model()
    patches, figures = [], []
    model = detector_model(settings)
    load(model.resolve())  # a bad weights file fails before any fit, naming it
    progress = _Progress(batches, scene.paths[0].name)
    with claim_device(settings.device if preset else "cpu") as claim:
        for planned in batches:
            batch, reads, hiddens, owns = _screened(scene, plan.mask, planned, figures)
            if not batch:
                progress.skip(planned)
                continue
            seeds = [tile_seed(w.name, settings.seed) for w in batch]
            t0 = time.perf_counter()
            hidden_px = sum(_replaced(own, read).sum() for own, read in zip(owns, reads, strict=True))
            # float64 shifts: the level is taken off again after the fit, exactly
            levels = zip(reads, hiddens, strict=True)
            shifts = np.array([_level_shift(scene, read.db, h) if preset else 0.0 for read, h in levels])
            filled = fill_batch(
                settings,
                [read.db + shift for read, shift in zip(reads, shifts, strict=True)],
                hiddens,
                [read.present for read in reads],
                seeds,
                device=claim.device,
                report_every=max(1, min(REPORT_EVERY, iterations)),
                progress=progress.during(planned, hidden_px),
            )
            fitted = [fill - shift for fill, shift in zip(filled.fills_db, shifts, strict=True)]
            fit = filled.fit
            ssim_known = [t[-1]["ssim_known"] for t in fit.trajectories] if fit else [None] * len(batch)
            seconds = (time.perf_counter() - t0) / len(batch)
            for window, read, hidden, own, fill, seed, ssim in zip(
                batch, reads, hiddens, owns, fitted, seeds, ssim_known, strict=True
            ):
                patch, figure = _judged_paste(scene, plan.mask, window, read, (hidden, own), fill,
                                              (speckle, seed, settings, grain), model)  # fmt: skip
                patches.append(patch)
                figures.append({**figure, "ssim_known": ssim, "seconds": seconds})
            progress.done(planned, hidden_px)
    progress.close()
    return patches, figures, claim.device


#: Iterations between two progress reports of a batch's fit.
REPORT_EVERY = 50


class _Progress:
    """A bar over windows on a terminal, else log lines: after each batch, and during a batch's fit at
    most every :data:`LOG_SECONDS` (``window 5/40, iteration 100/300, 3,200 px hidden, ETA 2 min``).
    The ETA weighs each window by its pixels times iterations, the fit's cost."""

    def __init__(self, batches: Sequence[Sequence[SceneWindow]], label: str) -> None:
        self.total = sum(len(b) for b in batches)
        self.work = float(sum(_cost(w) for b in batches for w in b)) or 1.0
        self.finished, self.spent, self.hidden = 0, 0.0, 0
        self.start, self.last = time.perf_counter(), 0.0
        self.bar = tqdm(total=self.total, desc=label, unit="window") if sys.stderr.isatty() else None

    def during(self, batch: Sequence[SceneWindow], hidden_px: int):
        cost = sum(_cost(w) for w in batch)

        def report(done: int, iterations: int, rows: list[dict]) -> None:
            if self.bar is None and time.perf_counter() - self.last >= LOG_SECONDS and done < iterations:
                self._log(self.finished + len(batch), self.spent + cost * done / iterations,
                          f", iteration {done}/{iterations}", self.hidden + hidden_px)  # fmt: skip

        return report

    def done(self, batch: Sequence[SceneWindow], hidden_px: int) -> None:
        self.skip(batch)
        self.hidden += hidden_px
        if self.bar is not None:
            self.bar.update(len(batch))
        else:
            self._log(self.finished, self.spent, "", self.hidden)

    def skip(self, batch: Sequence[SceneWindow]) -> None:
        self.finished += len(batch)
        self.spent += sum(_cost(w) for w in batch)

    def _log(self, window: int, spent: float, at: str, hidden: int) -> None:
        self.last = time.perf_counter()
        elapsed = self.last - self.start
        eta = elapsed / spent * (self.work - spent) if spent > 0 else float("nan")
        log.info("window %d/%d%s, %s px hidden, ETA %s", window, self.total, at, f"{hidden:,}", _duration(eta))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


#: Seconds between two progress lines during one batch's fit.
LOG_SECONDS = 30.0


def _cost(window: SceneWindow) -> int:
    height, width = window.box.shape
    return height * width


def _screened(
    scene: Scene, mask: SceneMask, windows: Sequence[SceneWindow], figures: list[dict]
) -> tuple[list[SceneWindow], list[WindowValues], list[np.ndarray], list[np.ndarray]]:
    """The windows that have something to hide, with their values, hidden pixels and own hidden pixels
    (those they write); a window whose own hidden pixels hold no data gets a note in ``figures``
    instead, and one with no pixel to fit from around its hidden area is an error."""
    kept, reads, hiddens, owns = [], [], [], []
    for window in windows:
        read = scene.read_db(window.box.window)
        hidden = mask.hidden(window.box)
        own = hidden & window.own()
        if not _replaced(own, read).any():
            note = "every hidden pixel is nodata: nothing to hide"
            figures.append({"window": window.name, "areas": [a.label for a in window.areas], "hidden_pixels": 0,
                            "note": note})  # fmt: skip
            continue
        if not (~hidden[None] & np.isfinite(read.db)).any():
            raise SceneError(f"window {window.name}: no valid pixel around the hidden area to fit from")
        kept.append(window)
        reads.append(read)
        hiddens.append(hidden)
        owns.append(own)
    return kept, reads, hiddens, owns


def _replaced(own: np.ndarray, read: WindowValues) -> np.ndarray:
    """The pixels (h, w) a window replaces: its own hidden pixels where any band holds data."""
    return own & read.present.any(axis=0)


#: dB level the presets' normalisation centres on (SEN12MS's [-25, 0] dB clip range).
CENTRE_DB = -12.5


def _level_shift(scene: Scene, db: np.ndarray, hidden: np.ndarray) -> float:
    """The dB offset a window is fitted with: 0 for calibrated values; for digital numbers (integer
    amplitude, whose dB level depends on the product's scaling, about +50 dB for Sentinel-1 GRD) the
    offset that puts the median of the window's known pixels at :data:`CENTRE_DB`, where the presets'
    normalisation expects SAR backscatter. A constant in dB is a calibration factor: it changes no
    speckle statistic, and is taken off the fit again before the paste."""
    if np.dtype(scene.dtype).kind not in "iu" or scene.scaled:
        return 0.0
    known = db[:, ~hidden]
    known = known[np.isfinite(known)]
    return float(CENTRE_DB - np.median(known)) if known.size else 0.0


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "unknown"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _paste(
    scene: Scene, window: SceneWindow, read: WindowValues, hidden: tuple[np.ndarray, np.ndarray], fill: np.ndarray,
    grain: tuple[bool, int, GrainModel],
) -> tuple[Patch, dict, np.ndarray]:  # fmt: skip
    """The window's patch (its own hidden pixels that hold data, whatever their value), its figures and
    its dB values after the paste. ``hidden`` is (every hidden pixel of the window, its own);
    ``grain`` (speckle-consistent filling or not, its seed, the grain model)."""
    every, own = hidden
    speckle, seed, model = grain
    stored, db = read.stored, read.db
    pasted = paste_db(db, fill, every, speckle=speckle, seed=seed, grain=model).db
    replace = own[None] & read.present
    if not np.isfinite(pasted[replace]).all():
        raise SceneError(f"window {window.name} ({', '.join(a.label for a in window.areas)}): the fill gave no "
                         "value for some hidden pixels (the fit diverged); nothing was written")  # fmt: skip
    # Pixels that are not replaced keep their stored value; the placeholder only lets them convert.
    physical = from_db(np.where(replace, pasted, 0.0).astype(np.float32), scene.units)
    new = _not_nodata(to_stored(scene.to_raw(physical), scene.dtype, scene.nodata), scene.nodata)
    values = np.where(replace, new, stored)
    rows, cols = np.nonzero(replace.any(axis=0))
    box = window.box
    patch = Patch((rows + box.r0).astype(np.int32), (cols + box.c0).astype(np.int32), values[:, rows, cols])
    figure = {"window": window.name, "rows": [box.r0, box.r1], "cols": [box.c0, box.c1],
              "areas": [a.label for a in window.areas], "hidden_pixels": len(rows)}  # fmt: skip
    return patch, figure, np.where(replace, pasted, db)


#: How far around a window's own hidden area the audit looks, in times the area's extent.
AUDIT_CONTEXT = 1.5


def _judged_paste(
    scene: Scene, mask: SceneMask, window: SceneWindow, read: WindowValues, hidden: tuple[np.ndarray, np.ndarray],
    fill: np.ndarray, grain: tuple[bool, int, SceneSettings, GrainModel], model: Path,
) -> tuple[Patch, dict]:  # fmt: skip
    """The window's patch and figures, its audit's verdict among them. A window whose fill fails the audit
    gets other grain draws, up to ``settings.attempts`` (:mod:`sardip.scene.escalation`; with grain only):
    the patch kept is the one the choosing detectors prefer, and the figures say which it was."""
    speckle, seed, settings, model_of_grain = grain
    context = _audit_context(scene, mask, window, read.db, hidden)  # read and audited once for every draw
    judge = _window_baseline(scene, context, model)

    def attempt(k: int) -> tuple[tuple[Patch, dict], pd.DataFrame | None]:
        drawn = seed if k == 0 else tile_seed(f"{window.name}/{k}", settings.seed)
        patch, figure, result_db = _paste(scene, window, read, hidden, fill, (speckle, drawn, model_of_grain))
        checks = _audit_window(context, judge, result_db)
        if isinstance(checks, str):
            return (patch, {**figure, "audit": checks}), None
        return (patch, {**figure, "audit": checks.to_dict("records")}), checks

    (patch, figure), _, kept, made = escalate(attempt, settings.attempts if speckle else 1)
    if made > 1:
        figure["escalation"] = {"attempts": made, "kept": kept}
    return patch, figure


class _AuditContext(NamedTuple):
    """What a window's audit sees beyond the window: the original's dB values, every hidden pixel and
    the window's own, and where the window lies in them (``inner``)."""

    original: np.ndarray
    every: np.ndarray
    own: np.ndarray
    inner: tuple[slice, slice]


def _window_baseline(scene: Scene, context: _AuditContext, model: Path) -> Baseline | str:
    """The original's side of a window's audit (:func:`sardip.audit.baseline`), shared by its grain
    draws, or why the window cannot be audited."""
    hidden = context.own & np.isfinite(context.original).all(axis=0)
    try:
        return baseline(context.original, hidden, scene.band_names, model, avoid=context.every)
    except AuditError as err:
        return f"not audited: {err}"


def _audit_window(context: _AuditContext, judge: Baseline | str, result_db: np.ndarray) -> pd.DataFrame | str:
    """The verdict of a window's audit (:func:`sardip.audit.verdict`) with the window's dB values after
    the paste, ``result_db``, in its context, or why it was not audited."""
    if isinstance(judge, str):
        return judge
    result = context.original.copy()
    result[(slice(None), *context.inner)] = result_db
    try:
        return verdict(judge.judge(result))
    except AuditError as err:
        return f"not audited: {err}"


def _audit_context(
    scene: Scene, mask: SceneMask, window: SceneWindow, original: np.ndarray, hidden: tuple[np.ndarray, np.ndarray]
) -> _AuditContext:
    """The window (``original`` dB values, ``hidden``: every hidden pixel, its own) widened to at least
    :data:`AUDIT_CONTEXT` times the own hidden area's extent around it, read from the scene beyond the
    window where its margin is narrower: the natural range of the detectors needs untouched boxes of
    the area's shape nearby (:mod:`sardip.audit.natural`)."""
    every, own = hidden
    rows, cols = np.nonzero(own)
    box = window.box
    whole = (slice(None), slice(None))
    if rows.size == 0:
        return _AuditContext(original, every, own, whole)
    grow = int(np.ceil(AUDIT_CONTEXT * (max(np.ptp(rows), np.ptp(cols)) + 1)))
    wide = Box(max(0, box.r0 + rows.min() - grow), min(scene.grid.height, box.r0 + rows.max() + 1 + grow),
               max(0, box.c0 + cols.min() - grow), min(scene.grid.width, box.c0 + cols.max() + 1 + grow))  # fmt: skip
    if wide.r0 >= box.r0 and wide.r1 <= box.r1 and wide.c0 >= box.c0 and wide.c1 <= box.c1:
        return _AuditContext(original, every, own, whole)
    wide = wide.union(box)
    inner = (slice(box.r0 - wide.r0, box.r1 - wide.r0), slice(box.c0 - wide.c0, box.c1 - wide.c0))
    wide_own = np.zeros(wide.shape, bool)
    wide_own[inner] = own
    return _AuditContext(scene.read_db(wide.window).db, mask.hidden(wide), wide_own, inner)


def _not_nodata(values: np.ndarray, nodata: float | None) -> np.ndarray:
    """Filled integer values that rounded onto the nodata value (0 in a GRD's amplitude, say) moved one
    step into the valid range: a replaced pixel that read as nodata would leave a hole in the data."""
    if nodata is None or values.dtype.kind not in "iu" or math.isnan(nodata):
        return values
    step = -1 if nodata == np.iinfo(values.dtype).max else 1
    return np.where(values == nodata, values.astype(np.int64) + step, values).astype(values.dtype)
