"""Speckle-consistent filling: give an inpainted area the speckle of the image around it.

Model (fully developed, multiplicative speckle, linear intensity):

    I(x) = R(x) * S(x),   S ~ Gamma(L, 1/L) (mean 1, ENL of intensity = L),

with S spatially correlated (Sentinel-1 GRD resolves about 20 m on 10 m pixels). A DIP, or any fill
that is fitted to or interpolates dB values, estimates the local mean of ``10 log10 I``, which is
``10 log10 R + b(L)`` with the log bias ``b(L) = (10 / ln 10) (digamma(L) - ln L)`` (about -0.5 dB
for L = 4.4). :func:`speckle_fill` therefore takes a fill ``F`` in dB, low-passed by a Gaussian of
``REFLECTIVITY_SIGMA`` px (a DIP run long enough, or on a small tile, has started to reproduce
speckle-like grain, which is not reflectivity), as a reflectivity estimate
``R^ = 10^((G * F - b(L)) / 10)`` and writes ``10 log10(R^ S)`` inside the hidden area only.

Estimation (:func:`estimate_speckle`), per band, on the known pixels of a context ring around the
hole (:func:`sardip.audit.ring_mask`, ``CONTEXT_AREA`` times the hole's area): the ring is cut into
non-overlapping ``PATCH`` x ``PATCH`` blocks of known pixels; per block the squared coefficient of
variation ``CV^2 = var / mean^2`` of the intensity and the lag-1 autocorrelation of the log
intensity (dB values up to a factor) along rows and columns (block mean removed); the correlation is
taken in dB because that is how the grain looks on a dB display and to the ``lag1`` detector of
:mod:`sardip.audit` (matching the intensity correlation instead left the grain of the real tile
slightly too fine). Texture (edges, bright scatterers) only raises CV^2, so blocks above
``HOMOGENEOUS_FACTOR`` times the 25th percentile of CV^2 are left out (on pure speckle that keeps
over 90 % of the blocks; in a town it keeps the streets), and the median over the remaining blocks
gives ``1 / L`` (clipped to ``MIN_LOOKS``..``MAX_LOOKS``) and the two lag-1 correlations. Both are
corrected for the finite, correlated block: with a Gaussian correlation shape
``rho(d) = rho_1 ^ (d^2)`` the block mean removes the share
``c = c_r c_c``, ``c_a = (1 / p^2) sum_{|d| < p} (p - |d|) rho_a(d)`` of the variance, so
``E[var_block] = (1 - c) sigma^2`` and ``E[rho_block] = (rho_1 - c) / (1 - c)``; the correction is
iterated a few times.

Synthesis (:func:`draw_speckle`): a Gaussian copula. A white N(0, 1) field is low-pass filtered
along rows and columns by Gaussian kernels (circular boundary, so the field is stationary) and
scaled to unit variance; each value ``g`` becomes ``S = F_L^{-1}(Phi(g))`` with ``F_L`` the
Gamma(L, 1/L) distribution function. The marginal is exactly Gamma(L, 1/L) for any real L > 0 (no
rounding of the number of looks); the kernel widths are solved so that the lag-1 correlation of
``ln S`` equals the estimate (the copula's correlation follows from the Gaussian one by
Gauss-Hermite quadrature; ``ln S`` has mean ``digamma(L) - ln L`` and variance ``trigamma(L)``).
Real multilook speckle (the mean of L exponential looks of a correlated complex field,
:func:`sardip.demo.correlated_speckle`) has the same marginal; its lag-1 correlations in intensity
and in dB differ from the copula's by a few per cent, and its joint law beyond pairs of neighbours
differs slightly.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage, optimize, special

from sardip.audit import ring_mask

#: Side (px) of the blocks on which looks and correlation are estimated (``MIN_PATCH`` on tiny tiles).
PATCH = 9
MIN_PATCH = 5
#: Context ring area, in units of the hole's area.
CONTEXT_AREA = 4.0
#: Fewest blocks an estimate may rest on; with fewer, the ring is widened.
MIN_PATCHES = 8
#: Blocks with CV^2 above this factor times the 25th percentile of CV^2 count as textured and are left out.
HOMOGENEOUS_FACTOR = 2.0
#: Range of the looks estimate: fully developed speckle has at least one look.
MIN_LOOKS, MAX_LOOKS = 1.0, 100.0
#: Gaussian width (px) of the low-pass that turns a fill into a reflectivity estimate.
REFLECTIVITY_SIGMA = 2.0
#: Largest lag-1 correlation synthesised (a kernel for 0.95 is already ~4 px wide).
MAX_RHO = 0.95
_CORRECTION_ROUNDS = 4
_HERMITE_NODES = 48


class SpeckleError(ValueError):
    """No usable known pixels around the hole to estimate speckle statistics from."""


@dataclass(frozen=True)
class SpeckleParams:
    """Speckle statistics of one band.

    ``looks``: L, ENL of linear intensity on homogeneous blocks. ``rho_rows`` / ``rho_cols``: lag-1
    autocorrelation of log intensity (dB) between vertical / horizontal neighbours. ``sigma_rows`` /
    ``sigma_cols``: Gaussian kernel widths (px) of the copula field that reproduce them.
    ``log_bias_db``: ``b(L)``, the mean of ``10 log10 S``. ``patches``: blocks used.
    """

    looks: float
    rho_rows: float
    rho_cols: float
    sigma_rows: float
    sigma_cols: float
    log_bias_db: float
    patches: int

    def to_dict(self) -> dict[str, float | int]:
        """Values rounded for provenance tags."""
        return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def log_bias_db(looks: float) -> float:
    """``E[10 log10 S] = (10 / ln 10) (digamma(L) - ln L)`` in dB for S ~ Gamma(L, 1/L); < 0."""
    return float(10 / np.log(10) * (special.digamma(looks) - np.log(looks)))


def _block_share(rho1: float, p: int) -> float:
    """Share ``c_a`` of the variance a p-px block mean removes along one axis, ``rho(d) = rho1^(d^2)``."""
    d = np.arange(-(p - 1), p)
    return float(np.sum((p - np.abs(d)) * np.power(max(rho1, 0.0), d.astype(float) ** 2)) / p**2)


def _blocks(a: np.ndarray, keep: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping p x p blocks of ``a`` (grid anchored at (0, 0)) and whether all of ``keep`` holds."""
    h, w = (a.shape[0] // p) * p, (a.shape[1] // p) * p

    def cut(x: np.ndarray) -> np.ndarray:
        return x[:h, :w].reshape(h // p, p, w // p, p).transpose(0, 2, 1, 3).reshape(-1, p, p)

    return cut(a), cut(keep).all(axis=(1, 2))


def estimate_speckle(intensity: np.ndarray, region: np.ndarray, patch: int = PATCH) -> SpeckleParams:
    """Looks and lag-1 (log-intensity) correlations of linear ``intensity`` (H, W) from the blocks in ``region``.

    See the module docstring for the estimator. Raises :class:`SpeckleError` with fewer than
    ``MIN_PATCHES`` usable blocks.
    """
    intensity = np.asarray(intensity, dtype=np.float64)
    usable = np.asarray(region, dtype=bool) & np.isfinite(intensity) & (intensity > 0)
    blocks, full = _blocks(np.where(usable, intensity, 1.0), usable, patch)
    blocks = blocks[full]
    if len(blocks) < MIN_PATCHES:
        raise SpeckleError(f"{len(blocks)} full {patch}x{patch} blocks of known pixels; need {MIN_PATCHES}")
    centred = blocks - blocks.mean(axis=(1, 2), keepdims=True)
    var = (centred**2).mean(axis=(1, 2))
    ratio = var / blocks.mean(axis=(1, 2)) ** 2
    homogeneous = (var > 0) & (ratio <= HOMOGENEOUS_FACTOR * np.quantile(ratio, 0.25))
    cv2 = float(np.median(ratio[homogeneous]))
    logs = np.log(blocks[homogeneous])
    lcent = logs - logs.mean(axis=(1, 2), keepdims=True)
    lvar = (lcent**2).mean(axis=(1, 2))
    rows_hat = float(np.median((lcent[:, 1:, :] * lcent[:, :-1, :]).mean(axis=(1, 2)) / lvar))
    cols_hat = float(np.median((lcent[:, :, 1:] * lcent[:, :, :-1]).mean(axis=(1, 2)) / lvar))
    rho_r, rho_c = rows_hat, cols_hat
    for _ in range(_CORRECTION_ROUNDS):
        share = _block_share(rho_r, patch) * _block_share(rho_c, patch)
        rho_r = rows_hat * (1 - share) + share
        rho_c = cols_hat * (1 - share) + share
    share = _block_share(rho_r, patch) * _block_share(rho_c, patch)
    looks = float(np.clip((1 - share) / cv2, MIN_LOOKS, MAX_LOOKS))
    rho_r, rho_c = (float(np.clip(r, 0.0, MAX_RHO)) for r in (rho_r, rho_c))
    return SpeckleParams(
        looks=float(looks),
        rho_rows=rho_r,
        rho_cols=rho_c,
        sigma_rows=sigma_for_lag1(copula_gaussian_rho(rho_r, looks)),
        sigma_cols=sigma_for_lag1(copula_gaussian_rho(rho_c, looks)),
        log_bias_db=log_bias_db(looks),
        patches=len(blocks),
    )


def gaussian_lag1(sigma: float) -> float:
    """Lag-1 correlation of white noise filtered by ``scipy.ndimage.gaussian_filter1d(sigma)``.

    ``sum_k h_k h_{k+1} / sum_k h_k^2`` for the discrete kernel ``h`` (truncated at 4 sigma).
    """
    if sigma <= 0:
        return 0.0
    impulse = np.zeros(2 * int(4 * sigma + 0.5) + 3)
    impulse[len(impulse) // 2] = 1.0
    h = ndimage.gaussian_filter1d(impulse, sigma, mode="constant")
    return float(np.dot(h[1:], h[:-1]) / np.dot(h, h))


def sigma_for_lag1(rho: float) -> float:
    """Kernel width (px) whose filtered white noise has lag-1 correlation ``rho`` (0 for rho <= 0.01)."""
    if rho <= 0.01:
        return 0.0
    rho = min(rho, MAX_RHO)
    return float(optimize.brentq(lambda s: gaussian_lag1(s) - rho, 0.05, 20.0, xtol=1e-6))


def _gamma_of_gaussian(g: np.ndarray, looks: float) -> np.ndarray:
    """``F_L^{-1}(Phi(g))``: standard normal values mapped to Gamma(L, 1/L) values (mean 1)."""
    u = np.clip(special.ndtr(g), 1e-12, 1 - 1e-12)
    return special.gammaincinv(looks, u) / looks


def copula_lag1(rho_g: float, looks: float) -> float:
    """Correlation of ``ln F_L^{-1}(Phi(X))`` and ``ln F_L^{-1}(Phi(Y))`` for standard normals of
    correlation ``rho_g`` (Gauss-Hermite quadrature; the log of a Gamma(L, 1/L) value has mean
    ``digamma(L) - ln L`` and variance ``trigamma(L)``)."""
    t, w = np.polynomial.hermite.hermgauss(_HERMITE_NODES)
    x = np.sqrt(2) * t[:, None]
    y = rho_g * x + np.sqrt(max(1 - rho_g**2, 0.0)) * np.sqrt(2) * t[None, :]
    fx, fy = np.log(_gamma_of_gaussian(x, looks)), np.log(_gamma_of_gaussian(y, looks))
    mean = special.digamma(looks) - np.log(looks)
    moment = float(np.sum(w[:, None] * w[None, :] * (fx - mean) * (fy - mean)))
    return moment / np.pi / float(special.polygamma(1, looks))


def copula_gaussian_rho(rho: float, looks: float) -> float:
    """The Gaussian correlation whose copula gives the log-intensity correlation ``rho`` (0 for rho <= 0)."""
    if rho <= 0:
        return 0.0
    rho = min(rho, MAX_RHO)
    return float(optimize.brentq(lambda r: copula_lag1(r, looks) - rho, 0.0, 0.9999, xtol=1e-6))


def draw_speckle(rng: np.random.Generator, shape: tuple[int, int], params: SpeckleParams) -> np.ndarray:
    """A unit-mean Gamma(L, 1/L) speckle field (H, W) with the lag-1 correlations of ``params``."""
    g = rng.standard_normal(shape)
    g = ndimage.gaussian_filter(g, (params.sigma_rows, params.sigma_cols), mode="wrap")
    std = g.std()
    return _gamma_of_gaussian(g / std if std > 0 else g, params.looks)


def _estimate_around(intensity: np.ndarray, hidden: np.ndarray, patch: int) -> SpeckleParams:
    """:func:`estimate_speckle` on a ring of ``CONTEXT_AREA`` x the hole's area, doubled until it holds
    ``MIN_PATCHES`` blocks; on a tile too small even then, blocks of ``MIN_PATCH`` px are used."""
    known = np.isfinite(intensity) & ~hidden
    factor = CONTEXT_AREA
    while True:
        context = ring_mask(hidden, known, factor)
        try:
            return estimate_speckle(intensity, context, patch)
        except SpeckleError:
            if context.sum() < known.sum():
                factor *= 2
            elif patch > MIN_PATCH:
                factor, patch = CONTEXT_AREA, MIN_PATCH
            else:
                raise


def reflectivity_db(fill_db: np.ndarray, sigma: float = REFLECTIVITY_SIGMA) -> np.ndarray:
    """Gaussian low-pass (``sigma`` px) of a dB band (H, W), NaN-aware (normalised convolution); NaN stays NaN."""
    finite = np.isfinite(fill_db)
    weight = ndimage.gaussian_filter(finite.astype(np.float64), sigma, mode="nearest")
    smooth = ndimage.gaussian_filter(np.where(finite, fill_db, 0.0), sigma, mode="nearest")
    return np.where(finite, smooth / np.maximum(weight, 1e-12), np.nan)


def speckle_fill(
    image_db: np.ndarray,
    fill_db: np.ndarray,
    hidden: np.ndarray,
    seed: int,
    *,
    patch: int = PATCH,
) -> tuple[np.ndarray, list[SpeckleParams]]:
    """``image_db`` (C, H, W) with the hidden area replaced by ``fill_db`` (C, H, W, dB) carrying speckle.

    Per band: speckle statistics from the known pixels around ``hidden`` (H, W) bool
    (:func:`estimate_speckle` on ``10^(image_db / 10)``), then inside the hole
    ``10 log10(10^((G * fill - b(L)) / 10) * S)`` (``G *``: :func:`reflectivity_db`) with S from
    :func:`draw_speckle` and
    ``np.random.default_rng(seed)`` (bands drawn in order). Outside the hole the output is
    ``image_db`` itself (same values, bit for bit); NaN in ``fill_db`` stays NaN.
    Returns the output (float32) and the parameters per band.
    """
    image_db = np.asarray(image_db, dtype=np.float32)
    fill_db = np.asarray(fill_db, dtype=np.float64)
    hidden = np.asarray(hidden, dtype=bool)
    if image_db.ndim != 3 or fill_db.shape != image_db.shape or hidden.shape != image_db.shape[1:]:
        raise ValueError(f"image {image_db.shape}, fill {fill_db.shape} and hidden {hidden.shape} do not match")
    rng = np.random.default_rng(seed)
    out = image_db.copy()
    params: list[SpeckleParams] = []
    for band, (known_db, filled_db) in enumerate(zip(image_db, fill_db, strict=True)):
        estimate = _estimate_around(10 ** (known_db.astype(np.float64) / 10), hidden, patch)
        speckle = draw_speckle(rng, hidden.shape, estimate)
        values = 10 * np.log10(speckle) + reflectivity_db(filled_db) - estimate.log_bias_db
        out[band] = np.where(hidden, values, known_db).astype(np.float32)
        params.append(estimate)
    return out, params


def params_tag(params: list[SpeckleParams], bands: tuple[str, ...]) -> str:
    """JSON of the per-band parameters, for a GeoTIFF tag."""
    return json.dumps({b: p.to_dict() for b, p in zip(bands, params, strict=True)}, sort_keys=True)
