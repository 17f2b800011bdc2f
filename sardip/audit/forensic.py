"""The detectors a forensic analyst would run on a published SAR scene, adapted to float dB.

Each is blind to the edit (its statistic is computed over the whole image without the mask) and
returns, for one window side, the samples :mod:`sardip.audit.detectors` ranks by ROC AUC (what does
not depend on the window, :func:`cooc_codes` and :func:`speckle_ratio`, is computed once per band):

- :func:`cooc_score`, residual co-occurrences in the manner of Splicebuster (Cozzolino, Poggi and
  Verdoliva 2015): third-order high-pass residuals along rows and columns, quantised relative to their
  robust spread (:func:`cooc_codes`), co-occurrences of three consecutive levels along and across the
  residual's direction, their local histograms in a window, and the Mahalanobis distance of each
  window's histograms from the image's own robust model (:func:`fit_outlier_model`). Three levels
  (:data:`COOC_COARSE`, the ``cooc`` detector) find smooth fills; five (:data:`COOC_FINE`, ``cooc5``)
  see the fine structure of the grain (runs of large residuals of alternating sign, the residuals'
  tails), which three levels blur: on the SEN12MS tile ``cooc5`` found the grain ``credible`` drew where
  ``cooc`` did not, until the grain was resampled like the image (:mod:`sardip.resampling`;
  ``bench/results/credible.md``).
- :func:`ratio_score`, the ratio-image test of SAR despeckling (Gomez, Ospina and Frery 2017):
  intensity over its local mean should be pure, independent unit-mean speckle; the local mean,
  variance and lag-1 correlation of the ratio are scored against the image's own model.
- :func:`seam_samples`, an analyst scanning closed contours: the dB step across the hidden area's
  boundary, averaged along the boundary, against the same step across parallel contours inside the
  hole and in the ring (:func:`seam_geometry`). It needs the candidate contour, so it ranks its own
  samples instead of a hole-versus-ring map.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from itertools import product
from typing import NamedTuple

import numpy as np
from scipy import ndimage

from sardip.audit.local import local_lag1, local_mean

#: Quantisers of the co-occurrence residuals: (step in robust standard deviations, 1.4826 MAD; largest
#: level kept). ``cooc``'s three levels (edges at +-0.5) find smooth fills; ``cooc5``'s five (edges at
#: +-0.35 and +-1.05) see the grain's fine structure (runs of large residuals of alternating sign) that
#: three levels blur (the other quantisers tried: docs/notes.md).
COOC_COARSE = (1.0, 1)
COOC_FINE = (0.7, 2)
#: Third-order residual (the four-tap finite difference Splicebuster builds its features on).
COOC_RESIDUAL = np.array([-1.0, 3.0, -3.0, 1.0])
#: Side (px) of the local mean the ratio test takes as the backscatter estimate.
RATIO_ESTIMATE = 7
#: Share of pixels the robust feature model keeps at each refit (the rest are candidate outliers).
MODEL_KEEP = 0.75
#: Spacing (px) of the grid of windows the feature model is fitted on, widened so that the grid holds at
#: most ``MODEL_POINTS`` windows (a scene window of 1,024 px).
MODEL_STRIDE = 3
MODEL_POINTS = 8192
#: The feature model keeps the principal directions whose variance is at least this share of the largest.
MODEL_RANK_FLOOR = 1e-3
#: Distances (px) of the contours, inside the hole and out in the ring, that :func:`seam_samples`
#: compares the boundary with; a contour that does not fit in the hole or the ring is skipped.
SEAM_OFFSETS: tuple[int, ...] = (2, 4, 6, 8)

_SQUARE = np.ones((3, 3), bool)


def _shift(a: np.ndarray, step: int, axis: int) -> np.ndarray:
    """``a`` moved ``step`` px back along ``axis`` (out[i] = a[i + step]), the last row or column repeated."""
    pad = [(0, 0)] * a.ndim
    pad[axis] = (0, step)
    return np.take(np.pad(a, pad, mode="edge"), np.arange(step, step + a.shape[axis]), axis=axis)


def _model_grid(shape: tuple[int, int]) -> tuple[slice, slice]:
    """The pixels the feature model is fitted on: a :data:`MODEL_STRIDE` px grid, or a wider one."""
    stride = max(MODEL_STRIDE, int(np.ceil(np.sqrt(shape[0] * shape[1] / MODEL_POINTS))))
    return slice(None, None, stride), slice(None, None, stride)


def fit_outlier_model(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, whitening) of the robust Gaussian model of ``samples`` (N, K): fitted on all of them, then
    twice on the :data:`MODEL_KEEP` share nearest to it, so that an edited minority does not shape the
    model that judges it.

    The model keeps the principal directions of the features' correlation whose variance is at least
    :data:`MODEL_RANK_FLOOR` times the largest. Features can be nearly dependent: the square-rooted
    co-occurrence histograms of one code map lie on a sphere (their squares sum to 1), and in the
    directions off it the covariance is close to singular, so an inverse taken there let the estimation
    noise of real windows outweigh any real difference (smooth fills of the SEN12MS tile's hole then
    scored like, or below, the untouched image: docs/notes.md)."""
    model = _gaussian_model(samples)
    for _ in range(2):
        distance = outlier_distance(samples, model)
        model = _gaussian_model(samples[distance <= np.quantile(distance, MODEL_KEEP)])
    return model


def _gaussian_model(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, whitening) of ``samples`` (N, K) in the principal directions of their correlation above
    :data:`MODEL_RANK_FLOOR` of the largest: one fit of :func:`fit_outlier_model`."""
    mean = samples.mean(axis=0)
    scale = np.maximum(samples.std(axis=0), 1e-12)
    variance, directions = np.linalg.eigh(np.atleast_2d(np.cov((samples - mean) / scale, rowvar=False)))
    kept = variance > max(MODEL_RANK_FLOOR * variance[-1], 1e-12)
    return mean, directions[:, kept] / np.sqrt(variance[kept]) / scale[:, None]


def outlier_distance(samples: np.ndarray, model: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Mahalanobis distance (N,) of ``samples`` (N, K) from a :func:`fit_outlier_model` model."""
    mean, whiten = model
    return np.sqrt((((samples - mean) @ whiten) ** 2).sum(axis=1))


def outlier_score(features: np.ndarray) -> np.ndarray:
    """(H, W) distance of each pixel's feature vector ``features`` (K, H, W) from the image's own robust
    model (:func:`fit_outlier_model`), fitted on the windows of a grid (:func:`_model_grid`: neighbouring
    windows overlap, so a denser grid adds little)."""
    k = features.shape[0]
    mean, whiten = fit_outlier_model(features[(slice(None), *_model_grid(features.shape[1:]))].reshape(k, -1).T)
    flat = features.reshape(k, -1)
    projected = whiten.T @ (flat - mean[:, None])  # pixels along the last axis: contiguous products
    return np.sqrt(np.einsum("ij,ij->j", projected, projected)).reshape(features.shape[1:])


@cache
def _cooc_classes(truncation: int) -> np.ndarray:
    """Lookup: code of a level triple (levels ``-truncation..truncation``, base ``2 truncation + 1``) -> its
    class, triples that differ only by sign or order (a residual and its mirror image) sharing one."""
    base = 2 * truncation + 1
    triples = list(product(range(-truncation, truncation + 1), repeat=3))
    code = {t: ((t[0] + truncation) * base + t[1] + truncation) * base + t[2] + truncation for t in triples}
    mirror = {t: (t, t[::-1], tuple(-v for v in t), tuple(-v for v in t[::-1])) for t in triples}
    canonical = {t: min(code[m] for m in mirror[t]) for t in triples}
    names = {c: i for i, c in enumerate(sorted(set(canonical.values())))}
    table = np.zeros(base**3, np.int64)
    for t in triples:
        table[code[t]] = names[canonical[t]]
    return table


def cooc_codes(db: np.ndarray, quantiser: tuple[float, int]) -> np.ndarray:
    """(4, H, W): per (residual direction, co-occurrence direction), the class of each pixel's triple of
    quantised residuals: ``round(r / (step s))`` clipped to +-``truncation``, ``(step, truncation) =
    quantiser`` and ``s`` the residual's robust spread over the band."""
    step, truncation = quantiser
    classes = _cooc_classes(truncation)
    base = 2 * truncation + 1
    out = []
    for residual_axis in (0, 1):
        r = ndimage.correlate1d(db.astype(np.float64), COOC_RESIDUAL, axis=residual_axis, mode="reflect")
        spread = 1.4826 * np.median(np.abs(r - np.median(r)))
        level = np.clip(np.round(r / (step * spread)), -truncation, truncation) if spread > 0 else np.zeros_like(r)
        level = level.astype(np.int64) + truncation
        for axis in (0, 1):
            out.append(classes[(level * base + _shift(level, 1, axis)) * base + _shift(level, 2, axis)])
    return np.stack(out)


def cooc_score(quantiser: tuple[float, int]) -> Callable[[np.ndarray, int], np.ndarray]:
    """The ``cooc`` detectors' statistic for one quantiser: the outlier score (:func:`fit_outlier_model`,
    fitted on the model's grid) of each pixel's ``w`` x ``w`` window of residual co-occurrence
    histograms (per code map of :func:`cooc_codes`, square-rooted, so rare and common triples weigh
    alike). With five levels a window has 156 of them."""
    classes = int(_cooc_classes(quantiser[1]).max()) + 1

    def score(codes: np.ndarray, w: int) -> np.ndarray:
        features = np.empty((len(codes) * classes, *codes.shape[1:]))
        for i, (code_map, c) in enumerate(product(codes, range(classes))):
            features[i] = np.sqrt(np.clip(local_mean((code_map == c).astype(np.float64), w), 0.0, 1.0))
        return outlier_score(features)

    return score


def speckle_ratio(db: np.ndarray) -> np.ndarray:
    """Linear intensity over its :data:`RATIO_ESTIMATE` px local mean: unit-mean speckle where the
    backscatter is locally constant."""
    intensity = 10 ** (db.astype(np.float64) / 10)
    return intensity / np.maximum(local_mean(intensity, RATIO_ESTIMATE), 1e-30)


def ratio_score(ratio: np.ndarray, w: int) -> np.ndarray:
    """Outlier score of the ratio image's (:func:`speckle_ratio`) local mean, log variance and lag-1
    correlation in ``w`` x ``w`` windows under the image's own model."""
    mean = local_mean(ratio, w)
    var = np.maximum(local_mean(ratio * ratio, w) - mean**2, 1e-12)
    return outlier_score(np.stack([mean, np.log(var), local_lag1(ratio, w)]))


#: The four neighbours a contour pixel's step is taken to.
_NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1))


class SeamGeometry(NamedTuple):
    """The contours :func:`seam_samples` compares, which depend on the hidden area alone: per contour,
    the (4, H, W) pixels of its region whose neighbour in each direction lies outside it; the
    hole's boundary (``boundary``), the pixels whose 3 x 3 square lies in the hole and ring
    (``inside``), and the parallel contours that fit there (``others``)."""

    boundary: np.ndarray
    inside: np.ndarray
    others: tuple[np.ndarray, ...]


def _crossings(region: np.ndarray) -> np.ndarray:
    """(4, H, W): the pixels of ``region`` whose neighbour in each direction lies outside it (neighbours
    beyond the image do not count)."""
    padded = np.pad(region, 1, constant_values=True)
    h, w = region.shape
    return np.stack([region & ~padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in _NEIGHBOURS])


def seam_geometry(hole: np.ndarray, ring: np.ndarray) -> SeamGeometry:
    """The hole's boundary and the contours :data:`SEAM_OFFSETS` px inside the hole and out in the ring
    whose pixels and outer neighbours all lie in the hole or the ring."""
    inside = ndimage.binary_erosion(hole | ring, _SQUARE)
    others = []
    for offset in SEAM_OFFSETS:
        for region in (
            ndimage.binary_dilation(hole, _SQUARE, iterations=offset),
            ndimage.binary_erosion(hole, _SQUARE, iterations=offset),
        ):
            crossings = _crossings(region)
            contour = crossings.any(axis=0)
            if contour.any() and not (contour & ~inside).any():
                others.append(crossings)
    return SeamGeometry(_crossings(hole), inside, tuple(others))


def _steps(differences: np.ndarray, crossings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(contour, step): a contour's pixels and the mean absolute dB difference to their neighbours
    outside its region (0 elsewhere), from every pixel's ``differences`` (4, H, W) to its neighbours."""
    count = crossings.sum(axis=0)
    contour = count > 0
    return contour, np.where(contour, (differences * crossings).sum(axis=0) / np.maximum(count, 1), 0.0)


def _along(contour: np.ndarray, step: np.ndarray, w: int) -> np.ndarray:
    """Per contour pixel, the mean step of the contour's own pixels in its ``w`` x ``w`` window."""
    weight = ndimage.uniform_filter(contour.astype(np.float64), w, mode="constant")
    mean = ndimage.uniform_filter(step, w, mode="constant") / np.maximum(weight, 1e-12)
    return mean[contour]


def seam_samples(db: np.ndarray, geometry: SeamGeometry, w: int) -> tuple[np.ndarray, np.ndarray]:
    """(boundary, elsewhere): the step across the hole's boundary, averaged over ``w`` px of boundary,
    and the same across the parallel contours of ``geometry`` (:func:`seam_geometry`)."""
    if not geometry.others:
        return np.empty(0), np.empty(0)
    padded = np.pad(db, 1, mode="edge")
    h, w_ = db.shape
    differences = np.stack([np.abs(db - padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w_]) for dy, dx in _NEIGHBOURS])
    boundary, step = _steps(differences, geometry.boundary)
    inside = geometry.inside
    others = [_along(*_steps(differences, crossings), w) for crossings in geometry.others]
    return _along(boundary & inside, step * inside, w), np.concatenate(others)
