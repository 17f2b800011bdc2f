"""Can anyone tell where the image was edited? A forensic audit of one inpainted tile.

Per band, the hidden area H (after the edit) is compared with a ring R of known pixels around it of
about the same area (:func:`sardip.masks.ring_mask`), and every statistic is also computed on the untouched
original with the same H and R: the **baseline**, i.e. what an unedited image scores.

Consistency of H with R (``subject`` = ``result`` or ``original``):

- ``enl_hole``, ``enl_ring``, ``enl_ratio``: ENL = mean^2 / var of **linear intensity**
  ``10^(dB/10)`` over ``p`` x ``p`` windows, averaged over windows (H: windows inside H; R: the known
  pixels of the windows centred in R, at least half of each window); ``p = min(25, max(5, s // 2))``
  with ``s`` the side of the largest square in H (25 px, the paper's patch, for a 64 px hole). The
  ratio is hole / ring.
- ``level_shift_db``: mean dB in H minus mean dB in R. ``wasserstein_db``: 1-Wasserstein distance
  between the dB histograms of H and R (dB).
- ``grain_lag{1,2}_{hole,ring}``: autocorrelation of dB values at lag 1 and 2 px inside the region
  (pairs with both pixels inside, mean of the row and column directions).
- ``epi_hole`` (result only): :func:`sardip.metrics.epi` inside H, result over original.
- ``hole_correlation`` (result only): Pearson correlation of result and original dB values in H;
  near 1 means the target is still there.

Blind detectors (:data:`DETECTORS`, a registry: add stronger ones there) compute a statistic over the
image without knowing the mask, for each window side of the detector, and score how well it separates
the edit from its surroundings by the ROC AUC of the Mann-Whitney statistic. The local-moment detectors
(``cv``, ``lag1``: windows :data:`WINDOWS`) and the forensic ones of :mod:`sardip.audit.forensic`
(``cooc`` and ``cooc5``, residual co-occurrences in the manner of Splicebuster quantised to three and
five levels, and ``ratio``, the ratio-image test: windows :data:`COOC_WINDOWS`) and ``learned``, a CNN
localiser trained on the audit's own fills (:mod:`sardip.audit.learned`), compare H with R pixels;
``seam`` compares the step across the boundary of H with the step across parallel contours inside H and
in R (:data:`SEAM_WINDOWS`: the boundary length it averages over). A detector does not know whether the
edit raises or lowers its statistic, so the score is the two-sided ``max(AUC, 1 - AUC)``: 0.5 =
undetectable, 1 = found. ``learned`` does know: its logit is trained to be high where pixels were
filled, so its score is the one-sided AUC (below 0.5 where it takes the hole for more real than the
ring, which two-sided would call found). ``auc_<name>`` rows carry the window; ``auc_<name>_max`` is the
maximum over windows. Even an untouched image scores above 0.5 (its hole area differs from its ring by
chance and by content), which is why the baseline matters.

:func:`verdict` checks the targets of :data:`TARGETS` against the baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage, stats

from sardip.audit.forensic import (
    COOC_COARSE,
    COOC_FINE,
    cooc_codes,
    cooc_score,
    ratio_score,
    seam_geometry,
    seam_samples,
    speckle_ratio,
)
from sardip.audit.local import local_lag1, local_mean, windows_in
from sardip.audit.localiser import DEFAULT_MODEL, logits
from sardip.audit.natural import CALIBRATION, Calibration, box_aucs, natural_range, reference_offsets
from sardip.audit.roc import roc_auc
from sardip.geotiff import read_pair
from sardip.masks import make_mask, ring_mask
from sardip.metrics import ENL_PATCH, epi

#: Window sides (px) of the local-moment detectors (``cv``, ``lag1``).
WINDOWS: tuple[int, ...] = (5, 9, 15)
#: Window sides (px) of the histogram detectors (``cooc``, ``cooc5``, ``ratio``): a histogram needs more pixels.
COOC_WINDOWS: tuple[int, ...] = (9, 15, 25)
#: Lengths (px) of boundary the ``seam`` detector averages its step over.
SEAM_WINDOWS: tuple[int, ...] = (1, 5, 9)
#: Window sides (px) the ``learned`` detector's logit map is averaged over (1: as the net gives it).
LEARNED_WINDOWS: tuple[int, ...] = (1, 5, 9)
SUBJECTS: tuple[str, ...] = ("result", "original")
COLUMNS: tuple[str, ...] = ("band", "subject", "metric", "window", "value")

#: Smallest hidden area the audit judges: it must hold one square of this side (the smallest ENL window).
MIN_HOLE_SIDE = 5
#: The ring must hold at least this share of the hole's pixels, or the comparison says nothing.
MIN_RING_SHARE = 0.5

#: Pass criteria (result against the untouched original's baseline).
TARGETS: dict[str, float] = {
    # without a natural range (too few reference boxes): every detector's AUC at most this above the
    # untouched image's at the same place
    "max_auc_excess": 0.07,
    "enl_ratio_factor": 1.5,  # hole/ring ENL ratio within this factor of the baseline's ratio
    "epi_min": 0.7,
    "epi_max": 1.4,
    "max_hole_correlation": 0.5,
}


class AuditError(ValueError):
    """A hidden area the audit cannot judge; the message says why and what to change."""


def window_enl(intensity: np.ndarray, centres: np.ndarray, w: int, within: np.ndarray | None = None) -> float:
    """Mean over windows centred at ``centres`` (H, W) bool of mean^2 / var (ddof 0) of linear intensity,
    over the pixels of each window that lie ``within`` (H, W) bool (all by default); a window with less
    than half of its pixels there is left out."""
    a = np.nan_to_num(intensity.astype(np.float64))
    inside = np.ones(a.shape) if within is None else within.astype(np.float64)
    share = local_mean(inside, w)
    centres = centres & (share >= 0.5)
    if not centres.any():
        return float("nan")
    share = share[centres]
    mean = local_mean(a * inside, w)[centres] / share
    var = np.maximum(local_mean(a * a * inside, w)[centres] / share - mean**2, 0.0)
    with np.errstate(divide="ignore"):
        return float(np.mean(mean**2 / var))


def enl_window(hidden: np.ndarray) -> int:
    """ENL window side for a hole: ``min(25, max(5, s // 2))``, ``s`` the side of its largest square."""
    s = int(2 * ndimage.distance_transform_cdt(np.pad(hidden, 1), metric="chessboard").max() - 1)
    return min(ENL_PATCH, max(5, s // 2))


def region_lag_corr(db: np.ndarray, region: np.ndarray, lag: int) -> float:
    """Pearson correlation of dB pairs ``lag`` px apart with both pixels in ``region``, rows and columns pooled."""
    xs, ys = [], []
    for axis in (0, 1):
        a = np.moveaxis(db, axis, 0)
        r = np.moveaxis(region, axis, 0)
        both = r[lag:] & r[:-lag]
        xs.append(a[:-lag][both])
        ys.append(a[lag:][both])
    x, y = np.concatenate(xs), np.concatenate(ys)
    if x.size < 3 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


# --- blind detectors ----------------------------------------------------------------------------------


def local_cv(db: np.ndarray, w: int) -> np.ndarray:
    """Local coefficient of variation std / mean of linear intensity ``10^(dB/10)`` (missing speckle: low)."""
    a = 10 ** (db.astype(np.float64) / 10)
    mean = local_mean(a, w)
    var = np.maximum(local_mean(a * a, w) - mean**2, 0.0)
    return np.sqrt(var) / np.maximum(mean, 1e-30)


#: (hole, ring) -> what a detector of its own samples derives from the candidate area alone (contours).
Geometry = Callable[[np.ndarray, np.ndarray], Any]
#: (prepared dB band, geometry, window) -> (samples from the edit, samples from around it).
Samples = Callable[[np.ndarray, Any, int], tuple[np.ndarray, np.ndarray]]
#: (prepared dB band, window) -> a statistic per pixel.
Statistic = Callable[[np.ndarray, int], np.ndarray]


def _as_is(db: np.ndarray) -> np.ndarray:
    return db


@dataclass(frozen=True)
class Detector:
    """A blind detector, ranked by ROC AUC for each window side of ``windows``: a ``statistic`` map of
    ``prepare(db)``, its values at the hole against the ring's, or, for a detector that needs the
    candidate area itself (a contour), its own ``samples`` of the ``geometry`` of the hole and ring.
    ``prepare`` holds what does not depend on the window (a net's forward pass, residual codes), so it
    runs once per band; with ``uses_model`` it is called as ``prepare(model, db)``, the weights file of
    the learned detector given to :func:`audit`. ``one_sided``: the statistic is known to rise where
    pixels were edited, so the AUC is kept as it is rather than folded to ``max(AUC, 1 - AUC)``."""

    description: str
    statistic: Statistic | None = None
    samples: Samples | None = None
    geometry: Geometry | None = None
    windows: tuple[int, ...] = WINDOWS
    prepare: Callable[..., np.ndarray] = _as_is
    one_sided: bool = False
    uses_model: bool = False

    def __post_init__(self) -> None:
        if (self.statistic is None) == (self.samples is None) or (self.samples is None) != (self.geometry is None):
            raise ValueError(f"detector {self.description!r}: give a statistic map, or samples and their geometry")

    def fold(self, auc: np.ndarray | float) -> np.ndarray | float:
        """The score of an AUC: as it is (``one_sided``) or ``max(AUC, 1 - AUC)``."""
        return auc if self.one_sided else np.fmax(auc, 1 - auc)

    def scores(
        self, prepared: np.ndarray, hole: np.ndarray, ring: np.ndarray, w: int, offsets: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """(the AUC of the hole against the ring, the AUCs (n,) of the same hole and ring moved by each of
        ``offsets`` (n, 2): :func:`sardip.audit.natural.box_aucs`), unfolded."""
        if self.statistic is not None:
            stat = self.statistic(prepared, w)
            return roc_auc(stat[hole], stat[ring]), box_aucs(stat, hole, ring, offsets)
        # a detector of its own samples sees each moved box through a crop around it (pad: its window)
        rows, cols = np.nonzero(hole | ring)
        pad = w + 2
        r0, r1, c0, c1 = rows.min() - pad, rows.max() + 1 + pad, cols.min() - pad, cols.max() + 1 + pad
        big = np.pad(prepared, pad, mode="edge")
        crop = (slice(r0 + pad, r1 + pad), slice(c0 + pad, c1 + pad))
        shape = self.geometry(np.pad(hole, pad)[crop], np.pad(ring, pad)[crop])
        moved = [
            roc_auc(*self.samples(big[r0 + pad + dr : r1 + pad + dr, c0 + pad + dc : c1 + pad + dc], shape, w))
            for dr, dc in offsets
        ]
        return roc_auc(*self.samples(prepared, self.geometry(hole, ring), w)), np.array(moved, dtype=np.float64)


#: Name -> detector. Scores appear as ``auc_<name>`` (per window) and ``auc_<name>_max``.
DETECTORS: dict[str, Detector] = {
    "cv": Detector("local coefficient of variation of linear intensity (missing speckle)", local_cv),
    "lag1": Detector("local lag-1 autocorrelation of dB values (texture grain)", local_lag1),
    "cooc": Detector(
        "outlier score of third-order residual co-occurrences, 3 levels, against the image's own model (Splicebuster)",
        cooc_score(COOC_COARSE),
        windows=COOC_WINDOWS,
        prepare=partial(cooc_codes, quantiser=COOC_COARSE),
    ),
    "cooc5": Detector(
        "outlier score of third-order residual co-occurrences, 5 levels: the grain's fine structure "
        "(runs of large residuals of alternating sign)",
        cooc_score(COOC_FINE),
        windows=COOC_WINDOWS,
        prepare=partial(cooc_codes, quantiser=COOC_FINE),
    ),
    "ratio": Detector(
        "outlier score of the ratio image's local mean, variance and correlation (intensity over local mean)",
        ratio_score,
        windows=COOC_WINDOWS,
        prepare=speckle_ratio,
    ),
    "learned": Detector(
        "CNN localiser trained on the audit's own fills, filled-or-real logit (sardip.audit.localiser)",
        local_mean,
        windows=LEARNED_WINDOWS,
        prepare=logits,
        one_sided=True,
        uses_model=True,
    ),
    "seam": Detector(
        "dB step across the hidden area's boundary against parallel contours inside and around it",
        samples=seam_samples,
        geometry=seam_geometry,
        windows=SEAM_WINDOWS,
    ),
}


def _fill_nan(db: np.ndarray) -> np.ndarray:
    """NaN replaced by the band's median, so local filters stay finite (those pixels are never scored)."""
    finite = np.isfinite(db)
    return np.where(finite, db, np.median(db[finite]) if finite.any() else 0.0).astype(np.float64)


def _subject_rows(
    db: np.ndarray, hole: np.ndarray, ring: np.ndarray, w_enl: int, model: Path, offsets: np.ndarray
) -> tuple[dict, dict[str, np.ndarray]]:
    """Every statistic of one band of one subject, {(metric, window): value}, and per detector the
    scores (n,) of the reference boxes the hole and ring moved by each of ``offsets`` (n, 2) make
    (the largest over the detector's windows)."""
    intensity = 10 ** (db.astype(np.float64) / 10)
    known = ~hole & np.isfinite(db)
    enl_h = window_enl(intensity, windows_in(hole, w_enl), w_enl)
    # a ring narrower than half the window (square holes of 6-8 and 32-48 px) holds no window of known
    # pixels alone: each ring window counts its known pixels
    enl_r = window_enl(intensity, ring, w_enl, within=known)
    out: dict[tuple[str, int | None], float] = {
        ("enl_hole", w_enl): enl_h,
        ("enl_ring", w_enl): enl_r,
        ("enl_ratio", w_enl): enl_h / enl_r if enl_r else float("nan"),
        ("level_shift_db", None): float(db[hole].mean() - db[ring].mean()),
        ("wasserstein_db", None): float(stats.wasserstein_distance(db[hole], db[ring])),
    }
    for lag in (1, 2):
        out[(f"grain_lag{lag}_hole", None)] = region_lag_corr(db, hole, lag)
        out[(f"grain_lag{lag}_ring", None)] = region_lag_corr(db, ring, lag)
    filled = _fill_nan(db)
    references = {}
    for name, detector in DETECTORS.items():
        scores, moved = [], []
        prepared = detector.prepare(model, filled) if detector.uses_model else detector.prepare(filled)
        for w in detector.windows:
            auc, others = detector.scores(prepared, hole, ring, w, offsets)
            out[(f"auc_{name}", w)] = float(detector.fold(auc))
            scores.append(out[(f"auc_{name}", w)])
            moved.append(detector.fold(others))
        out[(f"auc_{name}_max", None)] = float(np.nanmax(scores)) if np.isfinite(scores).any() else float("nan")
        with np.errstate(invalid="ignore"):
            references[name] = np.fmax.reduce(np.stack(moved), axis=0) if len(offsets) else np.zeros(0)
    return out, references


def _natural_rows(
    bands: Sequence[str], references: dict[str, dict[str, np.ndarray]], calibration: Calibration
) -> list[dict]:
    """The rows of subject ``natural``: per band ``natural_boxes`` and, where there are enough, per detector
    the reference boxes' median and spread (``auc_<name>_median``, ``auc_<name>_spread``) and the
    threshold on the largest standardised score (``natural_threshold``), :mod:`sardip.audit.natural`."""
    columns = [(band, name) for band in bands for name in DETECTORS]
    matrix = np.stack([references[band][name] for band, name in columns], axis=1)
    boxes = matrix.shape[0]
    rows = [{"band": band, "metric": "natural_boxes", "value": float(boxes)} for band in bands]
    if boxes >= calibration.min_references:
        natural = natural_range(matrix, calibration)
        basis = {"natural_threshold": natural.threshold, "natural_false_alarm": calibration.false_alarm}
        rows += [{"band": band, "metric": m, "value": v} for band in bands for m, v in basis.items()]
        for (band, name), median, spread in zip(columns, natural.median, natural.spread, strict=True):
            rows.append({"band": band, "metric": f"auc_{name}_median", "value": float(median)})
            rows.append({"band": band, "metric": f"auc_{name}_spread", "value": float(spread)})
    return [{**row, "subject": "natural", "window": None} for row in rows]


def _check_shapes(original: np.ndarray, hidden: np.ndarray, bands: Sequence[str]) -> None:
    if original.ndim != 3 or hidden.shape != original.shape[1:]:
        raise ValueError(f"original {original.shape}, hidden {hidden.shape} do not match")
    if len(bands) != original.shape[0]:
        raise ValueError(f"{len(bands)} band names for {original.shape[0]} bands")
    if not hidden.any():
        raise AuditError("the mask hides no pixel: nothing to audit")
    if not windows_in(hidden, MIN_HOLE_SIDE).any():
        raise AuditError(
            f"the hidden area ({int(hidden.sum())} px) holds no {MIN_HOLE_SIDE}x{MIN_HOLE_SIDE} px square: too small "
            "to measure its speckle (ENL), edges (EPI) or local statistics; audit a larger area"
        )


@dataclass(frozen=True)
class Baseline:
    """The untouched original's side of an audit, computed once for every result judged against it
    (:meth:`judge`): per band its statistics and the natural range of the detectors, the hole and ring.
    Grain draws of one window (:mod:`sardip.scene.escalation`) and fill variants at one place share it,
    and each then costs only its own side. Made by :func:`baseline`."""

    original: np.ndarray
    hidden: np.ndarray
    bands: tuple[str, ...]
    model: Path
    avoid: np.ndarray | None
    calibration: Calibration
    valid: np.ndarray  # (C, H, W): pixels finite in the original and in the results it is made for
    regions: dict[str, tuple[np.ndarray, np.ndarray]]
    rows: dict[str, list[dict]]  # per band, the original's rows; under "", the natural range's

    def judge(self, result: np.ndarray) -> pd.DataFrame:
        """The audit of ``result`` (C, H, W dB) against this baseline, as :func:`audit` gives it. A result
        with NaN where the original has values changes the hole and ring: it gets a baseline of its own."""
        result = np.asarray(result, dtype=np.float64)
        if result.shape != self.original.shape:
            raise ValueError(f"original {self.original.shape}, result {result.shape} do not match")
        valid = np.isfinite(self.original) & np.isfinite(result)
        if not np.array_equal(valid, self.valid):
            own = baseline(self.original, self.hidden, self.bands, self.model, avoid=self.avoid,
                           calibration=self.calibration, valid=valid)  # fmt: skip
            return own.judge(result)
        rows: list[dict] = []
        w_enl = enl_window(self.hidden)
        for band, orig_b, res_b in zip(self.bands, self.original, result, strict=True):
            hole, ring = self.regions[band]
            values, _ = _subject_rows(res_b, hole, ring, w_enl, self.model, np.zeros((0, 2), int))
            values[("epi_hole", None)] = epi(orig_b, res_b, hole)[0]
            x, y = orig_b[hole], res_b[hole]
            corr = np.corrcoef(x, y)[0, 1] if x.std() > 0 and y.std() > 0 else 0.0
            values[("hole_correlation", None)] = float(corr)
            rows += _rows(band, "result", values) + self.rows[band]
        frame = pd.DataFrame(rows + self.rows[""], columns=list(COLUMNS))
        return frame.astype({"window": "Int64", "value": "float64"})


def _rows(band: str, subject: str, values: dict) -> list[dict]:
    return [{"band": band, "subject": subject, "metric": m, "window": w, "value": v} for (m, w), v in values.items()]


def baseline(
    original: np.ndarray,
    hidden: np.ndarray,
    bands: Sequence[str] = ("VV", "VH"),
    model: str | Path = DEFAULT_MODEL,
    *,
    avoid: np.ndarray | None = None,
    calibration: Calibration = CALIBRATION,
    valid: np.ndarray | None = None,
) -> Baseline:
    """The original's side of :func:`audit` (same arguments, less the result), for results whose pixels
    are finite wherever ``valid`` (C, H, W) is, by default wherever the original is. Raises
    :class:`AuditError` as :func:`audit` does."""
    original = np.asarray(original, dtype=np.float64)
    hidden = np.asarray(hidden, dtype=bool)
    _check_shapes(original, hidden, bands)
    valid = np.isfinite(original) if valid is None else np.asarray(valid, dtype=bool)
    regions = {}
    for band, valid_b in zip(bands, valid, strict=True):
        regions[band] = (hidden & valid_b, ring_mask(hidden, valid_b))
        hole, ring = regions[band]
        if ring.sum() < MIN_RING_SHARE * hole.sum():
            raise AuditError(
                f"band {band}: the mask hides {hidden.mean():.1%} of the raster, leaving {int(ring.sum())} known "
                f"pixels for the ring around {int(hole.sum())} hidden ones (at least {MIN_RING_SHARE:.0%} of the "
                "hole's area is needed to compare them); audit a smaller area or a larger raster"
            )
    footprint = np.logical_or.reduce([hole | ring for hole, ring in regions.values()])
    forbidden = hidden | ~np.isfinite(original).all(axis=0) | (False if avoid is None else np.asarray(avoid, bool))
    offsets = reference_offsets(footprint, forbidden, calibration)
    rows: dict[str, list[dict]] = {}
    references = {}
    w_enl = enl_window(hidden)
    for band, orig_b in zip(bands, original, strict=True):
        values, references[band] = _subject_rows(orig_b, *regions[band], w_enl, Path(model), offsets)
        rows[band] = _rows(band, "original", values)
    rows[""] = _natural_rows(bands, references, calibration)
    return Baseline(original, hidden, tuple(bands), Path(model), avoid, calibration, valid, regions, rows)


def audit(
    original: np.ndarray,
    result: np.ndarray,
    hidden: np.ndarray,
    bands: Sequence[str] = ("VV", "VH"),
    model: str | Path = DEFAULT_MODEL,
    *,
    avoid: np.ndarray | None = None,
    calibration: Calibration = CALIBRATION,
) -> pd.DataFrame:
    """The audit of one tile as a long table (columns :data:`COLUMNS`).

    ``original`` and ``result`` (C, H, W) dB, ``hidden`` (H, W) bool (True = edited); ``model`` the
    learned detector's weights (:mod:`sardip.audit.localiser`). Pixels NaN in
    either image are left out of H and R. ``window`` is the ENL or detector window (NA otherwise).
    Subjects ``result`` and ``original`` hold the statistics of each image; ``natural`` the natural
    range of the detectors in the original (:mod:`sardip.audit.natural`), from reference boxes that
    touch neither a hidden pixel, nor one of ``avoid`` (other edited pixels), nor a missing one.
    Raises :class:`AuditError` when H is too small to judge (no ``MIN_HOLE_SIDE`` px square) or too
    large for a ring (fewer known pixels left around it than ``MIN_RING_SHARE`` of its area). Several
    results at one place: :func:`baseline` once, then :meth:`Baseline.judge` for each.
    """
    original = np.asarray(original, dtype=np.float64)
    result = np.asarray(result, dtype=np.float64)
    if original.shape != result.shape:
        raise ValueError(f"original {original.shape}, result {result.shape} do not match")
    valid = np.isfinite(original) & np.isfinite(result)
    return baseline(original, hidden, bands, model, avoid=avoid, calibration=calibration, valid=valid).judge(result)


def target_checks(figures: pd.DataFrame) -> pd.DataFrame:
    """Whether the verdict figures of each row (``auc_excess``, ``enl_ratio_factor``, ``epi_hole``,
    ``hole_correlation``) meet :data:`TARGETS`: ``ok_auc`` (no detector above its limit),
    ``ok_enl``, ``ok_epi``, ``ok_correlation`` and ``ok`` (all four); NaN meets nothing."""
    factor = TARGETS["enl_ratio_factor"]
    checks = pd.DataFrame(
        {
            "ok_auc": figures["auc_excess"] <= 0,
            "ok_enl": figures["enl_ratio_factor"].between(1 / factor, factor),
            "ok_epi": figures["epi_hole"].between(TARGETS["epi_min"], TARGETS["epi_max"]),
            "ok_correlation": figures["hole_correlation"] <= TARGETS["max_hole_correlation"],
        },
        index=figures.index,
    )
    checks["ok"] = checks.all(axis=1)
    return checks


def _limits(value: pd.Series) -> tuple[dict[str, float], dict[str, float]]:
    """(detector -> the AUC it may reach, what the limits stand on) of one band's audit values: the
    natural range's limit where there were enough reference boxes, else the untouched image's AUC at
    the same place plus ``max_auc_excess``."""
    basis = {m: float(value.get(("natural", m), np.nan)) for m in ("natural_boxes", "natural_false_alarm")}
    threshold = float(value.get(("natural", "natural_threshold"), np.nan))
    if np.isfinite(threshold):
        natural = value["natural"]
        limits = {d: natural[f"auc_{d}_median"] + threshold * natural[f"auc_{d}_spread"] for d in DETECTORS}
        return limits, basis
    return {d: value["original", f"auc_{d}_max"] + TARGETS["max_auc_excess"] for d in DETECTORS}, basis


def verdict(table: pd.DataFrame) -> pd.DataFrame:
    """Per band, the target figures of :data:`TARGETS` and whether each is met.

    Columns: ``band``, ``detector`` (the one furthest above, or nearest below, its limit), its
    ``auc_result`` (``auc_<name>_max`` of the result), ``auc_original`` (the same of the untouched
    image), ``auc_limit`` (what it may reach: the natural range's limit, :mod:`sardip.audit.natural`,
    from ``natural_boxes`` reference boxes; with too few of them, 0 boxes or under
    ``min_references``, ``auc_original + max_auc_excess``) and ``auc_excess`` (``auc_result -
    auc_limit``, at most 0 to pass), ``natural_boxes`` and ``natural_false_alarm`` (NaN without a
    natural range), ``excess_<name>`` for every detector, ``enl_ratio_factor``
    (result ratio / baseline ratio), ``epi_hole``, ``hole_correlation``, and the
    :func:`target_checks` columns.
    """
    out = []
    for band, rows in table.groupby("band", sort=False):
        value = rows.set_index(["subject", "metric"])["value"]
        value = value[~value.index.duplicated()]
        limits, basis = _limits(value)
        excess = {d: value["result", f"auc_{d}_max"] - limits[d] for d in DETECTORS}
        worst = max(excess, key=lambda d: -np.inf if np.isnan(excess[d]) else excess[d])
        factor = value["result", "enl_ratio"] / value["original", "enl_ratio"]
        out.append(
            {
                "band": band,
                "detector": worst,
                "auc_result": value["result", f"auc_{worst}_max"],
                "auc_original": value["original", f"auc_{worst}_max"],
                "auc_limit": limits[worst],
                "auc_excess": excess[worst],
                **basis,
                **{f"excess_{d}": excess[d] for d in DETECTORS},
                "enl_ratio_factor": factor,
                "epi_hole": value["result", "epi_hole"],
                "hole_correlation": value["result", "hole_correlation"],
            }
        )
    figures = pd.DataFrame(out)
    return figures.join(target_checks(figures))


def missed_targets(checks: pd.DataFrame) -> list[str]:
    """One line per target a :func:`verdict` row misses, naming the band, the detector or statistic and
    its value against the target (empty when every target is met)."""
    factor = TARGETS["enl_ratio_factor"]
    lines = []
    for row in checks.to_dict("records"):
        band = row["band"]
        if not row["ok_auc"]:
            lines.append(
                f"band {band}: detector {row['detector']} finds the edit: AUC {row['auc_result']:.3f} against a "
                f"limit of {row['auc_limit']:.3f} ({limit_basis(row)}), excess {row['auc_excess']:.3f}"
            )
        if not row["ok_enl"]:
            lines.append(
                f"band {band}: ENL ratio hole/ring is {row['enl_ratio_factor']:.3f} times the untouched image's "
                f"(target {1 / factor:.3f}-{factor})"
            )
        if not row["ok_epi"]:
            lines.append(
                f"band {band}: EPI in the hole {row['epi_hole']:.3f} (target {TARGETS['epi_min']}-{TARGETS['epi_max']})"
            )
        if not row["ok_correlation"]:
            lines.append(
                f"band {band}: hole correlation with the original {row['hole_correlation']:.3f}, the target is "
                f"still there (target <= {TARGETS['max_hole_correlation']})"
            )
    return lines


def limit_basis(row: dict) -> str:
    """What a verdict row's ``auc_limit`` stands on, in words."""
    boxes = int(np.nan_to_num(row.get("natural_boxes", 0)))
    if np.isfinite(row.get("natural_false_alarm", np.nan)):
        return (f"the natural range of {boxes} untouched boxes of its shape nearby, "
                f"false-alarm rate {row['natural_false_alarm']:.0%}")  # fmt: skip
    return (f"{boxes} untouched boxes of its shape fit nearby, too few for a natural range: the untouched "
            f"image's AUC {row['auc_original']:.3f} + {TARGETS['max_auc_excess']}")  # fmt: skip


def audit_files(
    original_path: str | Path,
    result_path: str | Path,
    mask_path_or_spec: str | Path,
    *,
    invert_mask: bool = False,
    model: str | Path = DEFAULT_MODEL,
) -> pd.DataFrame:
    """:func:`audit` of two GeoTIFFs (read in dB) with a :func:`sardip.masks.make_mask` spec or file
    (raster masks: 0 = hidden unless ``invert_mask``) under the learned detector's weights ``model``.
    Raises ``ValueError`` when the grids or band counts differ."""
    original, result = read_pair(original_path, result_path)
    hidden = make_mask(str(mask_path_or_spec), original.grid, invert=invert_mask)
    return audit(original.db(), result.db(), hidden, original.band_names, model)
