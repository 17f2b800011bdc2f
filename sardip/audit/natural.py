"""The natural range of the audit's detectors in one image: what untouched boxes of a hidden area's
shape score there.

One hidden area is a noisy judge. A perfect fill (the true reflectivity under a fresh speckle draw)
scores well above or below the untouched image's AUC at the same place, by chance
(``bench/results/audit_noise.md``), so a fixed margin over that one baseline rejects good fills and
passes bad ones by luck. The verdict therefore compares the hidden area with **reference boxes**: the
same hole and ring moved to other places of the untouched original where neither touches a hidden or
missing pixel (:func:`reference_offsets`). They are scored on the original's detector maps, which the
audit computes for its baseline anyway, so each box costs one ranking.

Detectors and bands are combined by their largest standardised score (:func:`natural_range`): a
box's AUC for one detector and band, minus the references' median, over their spread (1.4826 times
the median absolute deviation, at least :attr:`Calibration.min_spread`). The hidden area passes when
its largest standardised score is at most the ``1 - false_alarm`` quantile of the references' own
largest scores, so an untouched box of the image fails with probability about ``false_alarm``
whatever the number of detectors (a max-statistic test). ``bench/bench_verdict.py`` measures that
rate on untouched images and on fresh speckle draws.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
from scipy import signal, stats


@dataclass(frozen=True)
class Calibration:
    """How the verdict is calibrated: the share of untouched boxes it may call edited
    (``false_alarm``), how many reference boxes it draws at most (``references``) and needs at least
    (``min_references``; with fewer, the audit falls back to a fixed margin over the untouched image
    at the same place, :data:`sardip.audit.detectors.TARGETS` ``max_auc_excess``), and the smallest
    spread of a detector's reference AUCs (``min_spread``: ties make small holes' AUCs coarse)."""

    false_alarm: float = 0.05
    references: int = 64
    min_references: int = 16
    min_spread: float = 0.01

    def __post_init__(self) -> None:
        if not 0 < self.false_alarm < 1:
            raise ValueError(f"false_alarm={self.false_alarm}: a share between 0 and 1")
        if self.min_references < 2 or self.references < self.min_references:
            raise ValueError(f"references={self.references}, min_references={self.min_references}: 2 <= min <= max")

    def as_dict(self) -> dict:
        return asdict(self)


#: The calibration the audit uses unless told otherwise.
CALIBRATION = Calibration()


class NaturalRange(NamedTuple):
    """Per score column (detector and band): the references' ``median`` and ``spread``; the
    ``threshold`` on the largest standardised score; the number of ``boxes`` it was drawn from."""

    median: np.ndarray
    spread: np.ndarray
    threshold: float
    boxes: int

    def limits(self) -> np.ndarray:
        """The AUC each score column may reach alone: ``median + threshold * spread``."""
        return self.median + self.threshold * self.spread


def reference_offsets(
    footprint: np.ndarray, forbidden: np.ndarray, calibration: Calibration = CALIBRATION
) -> np.ndarray:
    """(n, 2) row and column shifts that move ``footprint`` (H, W) bool, the hole and its ring, onto
    pixels none of which is ``forbidden`` (hidden or missing), inside the image.

    The shifts lie on the widest square grid that still holds about ``calibration.references`` allowed
    places (where more fit, that many are taken evenly along the grid's rows), so that they spread
    over the image around the hole."""
    rows, cols = np.nonzero(footprint)
    if rows.size == 0:
        return np.zeros((0, 2), np.int64)
    r0, c0 = rows.min(), cols.min()
    box = footprint[r0 : rows.max() + 1, c0 : cols.max() + 1].astype(np.float64)
    if box.shape[0] > forbidden.shape[0] or box.shape[1] > forbidden.shape[1]:
        return np.zeros((0, 2), np.int64)
    # hits[y, x]: forbidden pixels under the box placed with its top-left corner at (y, x)
    hits = signal.fftconvolve(forbidden.astype(np.float64), box[::-1, ::-1], mode="valid")
    allowed = hits < 0.5
    # the widest grid that still holds about ``references`` boxes: overlapping boxes repeat each other,
    # and a natural range drawn from a few places would call every other place unusual
    stride = max(1, int(np.sqrt(allowed.sum() / calibration.references)))
    ys, xs = np.nonzero(allowed[::stride, ::stride])
    offsets = np.stack([ys * stride - r0, xs * stride - c0], axis=1)
    if len(offsets) > calibration.references:
        offsets = offsets[np.round(np.linspace(0, len(offsets) - 1, calibration.references)).astype(int)]
    return offsets


#: Pixels of a hole or ring a reference box ranks at most (every k-th in row order beyond): the
#: detectors' maps are window averages, so neighbouring pixels add little, and the AUC stays unbiased.
MAX_BOX_SAMPLES = 2048


def _thinned(pixels: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    step = -(-pixels[0].size // MAX_BOX_SAMPLES)
    return pixels[0][::step], pixels[1][::step]


def box_aucs(statistic: np.ndarray, hole: np.ndarray, ring: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(n,) ROC AUC of ``statistic`` (H, W) at the hole's pixels against the ring's (at most
    :data:`MAX_BOX_SAMPLES` of each), each moved by one of ``offsets`` (n, 2) (every moved pixel lies in
    the image): P(hole > ring) + P(tie) / 2."""
    if len(offsets) == 0:
        return np.zeros(0)
    hr, hc = _thinned(np.nonzero(hole))
    rr, rc = _thinned(np.nonzero(ring))
    dr, dc = offsets[:, :1], offsets[:, 1:]
    x = statistic[hr[None] + dr, hc[None] + dc]
    y = statistic[rr[None] + dr, rc[None] + dc]
    values = np.concatenate([x, y], axis=1)
    finite = np.isfinite(values)
    ranks = stats.rankdata(np.where(finite, values, np.inf), axis=1)
    n, m = x.shape[1], y.shape[1]
    auc = (ranks[:, :n].sum(axis=1) - n * (n + 1) / 2) / (n * m)
    return np.where(finite.all(axis=1), auc, np.nan)


def natural_range(references: np.ndarray, calibration: Calibration = CALIBRATION) -> NaturalRange:
    """The natural range of ``references`` (n boxes, k score columns): per column the median and spread,
    and the ``1 - false_alarm`` quantile of each box's largest standardised score."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column with no finite score (no seam contour)
        median = np.nanmedian(references, axis=0)
        spread = np.maximum(1.4826 * np.nanmedian(np.abs(references - median), axis=0), calibration.min_spread)
        largest = np.nanmax((references - median) / spread, axis=1)
    largest = largest[np.isfinite(largest)]
    threshold = float(np.quantile(largest, 1 - calibration.false_alarm)) if largest.size else float("nan")
    return NaturalRange(median, spread, threshold, int(references.shape[0]))
