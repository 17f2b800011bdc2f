"""Can anyone tell where the image was edited? A forensic audit of one inpainted tile.

Per band, the hidden area H (after the edit) is compared with a ring R of known pixels around it of
about the same area (:func:`sardip.masks.ring_mask`), and every statistic is also computed on the untouched
original with the same H and R: the **baseline**, i.e. what an unedited image scores.

Consistency of H with R (``subject`` = ``result`` or ``original``):

- ``enl_hole``, ``enl_ring``, ``enl_ratio``: ENL = mean^2 / var of **linear intensity**
  ``10^(dB/10)`` over ``p`` x ``p`` windows, averaged over windows (H: windows inside H; R: windows of
  known pixels centred in R); ``p = min(25, max(5, s // 2))`` with ``s`` the side of the largest square
  in H (25 px, the paper's patch, for a 64 px hole). The ratio is hole / ring.
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

import numpy as np
import pandas as pd
from scipy import ndimage, stats

from sardip.audit.forensic import (
    COOC_COARSE,
    COOC_FINE,
    cooc_codes,
    cooc_samples,
    ratio_score,
    seam_samples,
    speckle_ratio,
)
from sardip.audit.local import local_lag1, local_mean, windows_in
from sardip.audit.localiser import DEFAULT_MODEL, logits
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
    "max_auc_excess": 0.07,  # every detector's AUC at most this above its baseline AUC
    "enl_ratio_factor": 1.5,  # hole/ring ENL ratio within this factor of the baseline's ratio
    "epi_min": 0.7,
    "epi_max": 1.4,
    "max_hole_correlation": 0.5,
}


class AuditError(ValueError):
    """A hidden area the audit cannot judge; the message says why and what to change."""


def window_enl(intensity: np.ndarray, centres: np.ndarray, w: int) -> float:
    """Mean over windows centred at ``centres`` (H, W) bool of mean^2 / var (ddof 0) of linear intensity."""
    if not centres.any():
        return float("nan")
    a = np.nan_to_num(intensity.astype(np.float64))
    mean = local_mean(a, w)
    var = np.maximum(local_mean(a * a, w) - mean**2, 0.0)
    with np.errstate(divide="ignore"):
        ratio = mean[centres] ** 2 / var[centres]
    return float(np.mean(ratio))


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


#: (prepared dB band, hole, ring, window) -> (samples from the edit, samples from around it).
Samples = Callable[[np.ndarray, np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def hole_and_ring(statistic: Callable[[np.ndarray, int], np.ndarray]) -> Samples:
    """The samples of a map detector: its statistic at the hole's pixels against the ring's."""

    def samples(db: np.ndarray, hole: np.ndarray, ring: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
        stat = statistic(db, w)
        return stat[hole], stat[ring]

    return samples


def _as_is(db: np.ndarray) -> np.ndarray:
    return db


@dataclass(frozen=True)
class Detector:
    """A blind detector: ``samples`` of ``prepare(db)`` for each window side of ``windows``, ranked by ROC
    AUC. ``prepare`` holds what does not depend on the window (a net's forward pass, residual codes),
    so it runs once per band; with ``uses_model`` it is called as ``prepare(model, db)``, the weights
    file of the learned detector given to :func:`audit`. ``one_sided``: the statistic is known to rise
    where pixels were edited, so the AUC is kept as it is rather than folded to ``max(AUC, 1 - AUC)``."""

    description: str
    samples: Samples
    windows: tuple[int, ...] = WINDOWS
    prepare: Callable[..., np.ndarray] = _as_is
    one_sided: bool = False
    uses_model: bool = False


#: Name -> detector. Scores appear as ``auc_<name>`` (per window) and ``auc_<name>_max``.
DETECTORS: dict[str, Detector] = {
    "cv": Detector("local coefficient of variation of linear intensity (missing speckle)", hole_and_ring(local_cv)),
    "lag1": Detector("local lag-1 autocorrelation of dB values (texture grain)", hole_and_ring(local_lag1)),
    "cooc": Detector(
        "outlier score of third-order residual co-occurrences, 3 levels, against the image's own model (Splicebuster)",
        cooc_samples(COOC_COARSE),
        COOC_WINDOWS,
        partial(cooc_codes, quantiser=COOC_COARSE),
    ),
    "cooc5": Detector(
        "outlier score of third-order residual co-occurrences, 5 levels: the grain's fine structure "
        "(runs of large residuals of alternating sign)",
        cooc_samples(COOC_FINE),
        COOC_WINDOWS,
        partial(cooc_codes, quantiser=COOC_FINE),
    ),
    "ratio": Detector(
        "outlier score of the ratio image's local mean, variance and correlation (intensity over local mean)",
        hole_and_ring(ratio_score),
        COOC_WINDOWS,
        speckle_ratio,
    ),
    "learned": Detector(
        "CNN localiser trained on the audit's own fills, filled-or-real logit (sardip.audit.localiser)",
        hole_and_ring(local_mean),
        LEARNED_WINDOWS,
        logits,
        one_sided=True,
        uses_model=True,
    ),
    "seam": Detector(
        "dB step across the hidden area's boundary against parallel contours inside and around it",
        seam_samples,
        SEAM_WINDOWS,
    ),
}


def _fill_nan(db: np.ndarray) -> np.ndarray:
    """NaN replaced by the band's median, so local filters stay finite (those pixels are never scored)."""
    finite = np.isfinite(db)
    return np.where(finite, db, np.median(db[finite]) if finite.any() else 0.0).astype(np.float64)


def _subject_rows(db: np.ndarray, hole: np.ndarray, ring: np.ndarray, w_enl: int, model: Path) -> dict:
    """Every statistic of one band of one subject: {(metric, window): value}."""
    intensity = 10 ** (db.astype(np.float64) / 10)
    known = ~hole & np.isfinite(db)
    ring_centres = ring & windows_in(known, w_enl)
    enl_h = window_enl(intensity, windows_in(hole, w_enl), w_enl)
    enl_r = window_enl(intensity, ring_centres, w_enl)
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
    for name, detector in DETECTORS.items():
        scores = []
        prepared = detector.prepare(model, filled) if detector.uses_model else detector.prepare(filled)
        for w in detector.windows:
            auc = roc_auc(*detector.samples(prepared, hole, ring, w))
            score = auc if detector.one_sided or not np.isfinite(auc) else max(auc, 1 - auc)
            out[(f"auc_{name}", w)] = score
            scores.append(score)
        out[(f"auc_{name}_max", None)] = float(np.nanmax(scores)) if np.isfinite(scores).any() else float("nan")
    return out


def audit(
    original: np.ndarray,
    result: np.ndarray,
    hidden: np.ndarray,
    bands: Sequence[str] = ("VV", "VH"),
    model: str | Path = DEFAULT_MODEL,
) -> pd.DataFrame:
    """The audit of one tile as a long table (columns :data:`COLUMNS`).

    ``original`` and ``result`` (C, H, W) dB, ``hidden`` (H, W) bool (True = edited); ``model`` the
    learned detector's weights (:mod:`sardip.audit.localiser`). Pixels NaN in
    either image are left out of H and R. ``window`` is the ENL or detector window (NA otherwise).
    Raises :class:`AuditError` when H is too small to judge (no ``MIN_HOLE_SIDE`` px square) or too
    large for a ring (fewer known pixels left around it than ``MIN_RING_SHARE`` of its area).
    """
    original = np.asarray(original, dtype=np.float64)
    result = np.asarray(result, dtype=np.float64)
    hidden = np.asarray(hidden, dtype=bool)
    if original.ndim != 3 or original.shape != result.shape or hidden.shape != original.shape[1:]:
        raise ValueError(f"original {original.shape}, result {result.shape}, hidden {hidden.shape} do not match")
    if len(bands) != original.shape[0]:
        raise ValueError(f"{len(bands)} band names for {original.shape[0]} bands")
    if not hidden.any():
        raise AuditError("the mask hides no pixel: nothing to audit")
    if not windows_in(hidden, MIN_HOLE_SIDE).any():
        raise AuditError(
            f"the hidden area ({int(hidden.sum())} px) holds no {MIN_HOLE_SIDE}x{MIN_HOLE_SIDE} px square: too small "
            "to measure its speckle (ENL), edges (EPI) or local statistics; audit a larger area"
        )
    rows: list[dict] = []
    w_enl = enl_window(hidden)
    for band, orig_b, res_b in zip(bands, original, result, strict=True):
        valid = np.isfinite(orig_b) & np.isfinite(res_b)
        hole = hidden & valid
        ring = ring_mask(hidden, valid)
        if ring.sum() < MIN_RING_SHARE * hole.sum():
            raise AuditError(
                f"band {band}: the mask hides {hidden.mean():.1%} of the raster, leaving {int(ring.sum())} known "
                f"pixels for the ring around {int(hole.sum())} hidden ones (at least {MIN_RING_SHARE:.0%} of the "
                "hole's area is needed to compare them); audit a smaller area or a larger raster"
            )
        for subject, db in (("result", res_b), ("original", orig_b)):
            values = _subject_rows(db, hole, ring, w_enl, Path(model))
            if subject == "result":
                values[("epi_hole", None)] = epi(orig_b, res_b, hole)[0]
                x, y = orig_b[hole], res_b[hole]
                corr = np.corrcoef(x, y)[0, 1] if x.std() > 0 and y.std() > 0 else 0.0
                values[("hole_correlation", None)] = float(corr)
            for (metric, window), value in values.items():
                rows.append({"band": band, "subject": subject, "metric": metric, "window": window, "value": value})
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.astype({"window": "Int64", "value": "float64"})


def target_checks(figures: pd.DataFrame) -> pd.DataFrame:
    """Whether the verdict figures of each row (``auc_excess``, ``enl_ratio_factor``, ``epi_hole``,
    ``hole_correlation``) meet :data:`TARGETS`: ``ok_auc``, ``ok_enl``, ``ok_epi``, ``ok_correlation``
    and ``ok`` (all four); NaN meets nothing."""
    factor = TARGETS["enl_ratio_factor"]
    checks = pd.DataFrame(
        {
            "ok_auc": figures["auc_excess"] <= TARGETS["max_auc_excess"],
            "ok_enl": figures["enl_ratio_factor"].between(1 / factor, factor),
            "ok_epi": figures["epi_hole"].between(TARGETS["epi_min"], TARGETS["epi_max"]),
            "ok_correlation": figures["hole_correlation"] <= TARGETS["max_hole_correlation"],
        },
        index=figures.index,
    )
    checks["ok"] = checks.all(axis=1)
    return checks


def verdict(table: pd.DataFrame) -> pd.DataFrame:
    """Per band, the target figures of :data:`TARGETS` and whether each is met.

    Columns: ``band``, ``detector`` (the one that finds the edit best), its ``auc_result`` and
    ``auc_original`` (``auc_<name>_max`` of the result and of the baseline) and ``auc_excess`` (their
    difference, the maximum over detectors), ``excess_<name>`` for every detector,
    ``enl_ratio_factor`` (result ratio / baseline ratio), ``epi_hole``, ``hole_correlation``, and the
    :func:`target_checks` columns.
    """
    out = []
    for band, rows in table.groupby("band", sort=False):
        value = rows.set_index(["subject", "metric"])["value"]
        value = value[~value.index.duplicated()]
        excess = {d: value["result", f"auc_{d}_max"] - value["original", f"auc_{d}_max"] for d in DETECTORS}
        worst = max(excess, key=lambda d: -np.inf if np.isnan(excess[d]) else excess[d])
        factor = value["result", "enl_ratio"] / value["original", "enl_ratio"]
        out.append(
            {
                "band": band,
                "detector": worst,
                "auc_result": value["result", f"auc_{worst}_max"],
                "auc_original": value["original", f"auc_{worst}_max"],
                "auc_excess": excess[worst],
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
                f"band {band}: detector {row['detector']} finds the edit: AUC {row['auc_result']:.3f} against "
                f"{row['auc_original']:.3f} on the untouched image, excess {row['auc_excess']:.3f} "
                f"(target <= {TARGETS['max_auc_excess']})"
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
