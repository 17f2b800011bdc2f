"""Speckle-consistent filling: give an inpainted area the speckle (and texture) of the image around it.

Model (multiplicative, in dB): a band is ``D(x) = B(x) + N(x)``, a local background level ``B`` (the
local mean of the dB values) plus grain ``N``: speckle, and in a textured scene (a town's point
scatterers, canopy) also the texture that rides on it. A DIP, or any fill that is fitted to or
interpolates dB values, estimates ``B`` in the hole; it cannot know the hole's grain, and it fits that
grain last and with the wrong size (the reason this module exists). :func:`speckle_fill` therefore keeps
the fill's background, a Gaussian low-pass of ``fill_sigma`` px (:func:`fill_background_db`), and adds
only the grain that background lacks (:func:`grain_deficit`): a new grain field drawn from the
statistics of the known pixels of a context ring around the hole (:func:`sardip.masks.ring_mask`,
``CONTEXT_AREA`` times the hole's area), scaled so that the hole's grain variance, the background's
own fine structure included, is the ring's. A DIP fitted for hundreds of iterations carries some of
the scene's fine structure into the hole (a town's street grid, canopy), which a wide low-pass erases
and a full grain then drowns, while a narrow one lets the fit noise of single pixels through (the
widths tried and what the detectors made of them: docs/notes.md). Working in dB deals with the log bias: the
fill already is a dB mean, ``10 log10 R + b(L)`` with ``b(L) = (10 / ln 10) (digamma(L) - ln L)`` for
L-look speckle, and the grain is drawn with the ring's own dB distribution, so no bias has to be added
or removed.

Grain marginal (:func:`grain_field`): the ring's dB values minus their local background, a Gaussian of
``background_sigma`` px with its central ``(2 grain_inner + 1)``-px square removed (a plain low-pass
would take part of the correlated speckle into the background, about a third of its variance for
Sentinel-1-like correlation, and the drawn grain would come out too smooth; the few per cent of variance
the neighbours' own noise adds instead are divided out, :func:`grain_variance_factor`). The distribution
is used as measured (empirical quantiles), not as Gamma(L): in a homogeneous ring it is the log of
Gamma(L) speckle, in a town it also holds the bright scatterers that a Gamma(L) model misses (what the
Gamma(L) model gave on the demo towns: docs/notes.md).

Correlation (:func:`estimate_speckle`), per band, on the ring's homogeneous blocks: the ring is cut into
non-overlapping ``PATCH`` x ``PATCH`` blocks of known pixels; per block the squared coefficient of
variation ``CV^2 = var / mean^2`` of the intensity and the lag-1 autocorrelation of the log intensity
along rows and columns (block mean removed). Texture only raises CV^2, so blocks above
``HOMOGENEOUS_FACTOR`` times the 25th percentile of CV^2 are left out (on pure speckle that keeps over
90 % of the blocks), and the median over the remaining blocks gives ``1 / L`` (the looks, recorded in
the tags; clipped to ``MIN_LOOKS``..``MAX_LOOKS``) and the two lag-1 correlations. Both are corrected
for the finite, correlated block: with a Gaussian correlation shape ``rho(d) = rho_1 ^ (d^2)`` the block
mean removes the share ``c = c_r c_c``, ``c_a = (1 / p^2) sum_{|d| < p} (p - |d|) rho_a(d)`` of the
variance, so ``E[var_block] = (1 - c) sigma^2`` and ``E[rho_block] = (rho_1 - c) / (1 - c)``; the
correction is iterated a few times.

Synthesis (:func:`draw_grain`): a simulated re-acquisition, carried to the ring's grain. Each of
``L`` looks (the looks estimate rounded, at most ``SIM_MAX_LOOKS``) is ``|z|^2`` of circular complex
Gaussian white noise filtered by Gaussian impulse responses along rows and columns, their widths solved
so that the log intensity of the ``L``-look sum has the measured lag-1 correlations
(:func:`log_intensity_corr`, exact for independent looks); the log intensity is ranked, and each rank
becomes the ring grain's quantile of the same level. The rank mapping keeps the ring's marginal (its
bright scatterers too), the simulation gives the grain the joint law of real speckle beyond pairs of
neighbours: its fades (where the complex field passes through zero) are sharp, narrow pits in dB, its
peaks broad. A Gaussian copula matched on the same lag-1 correlations (the earlier synthesis) has
symmetric, round extrema, which the learned detector found (docs/notes.md). The grain's
spread varies in space (:func:`grain_spread`): each hidden pixel scales the drawn grain by the ring's
local spread on its side.
Where the image was resampled onto its grid, two more properties of its grain are drawn
(:func:`draw_gaussian`). The drawn grain is resampled the same way (:mod:`sardip.resampling`): the real
SEN12MS tile's fine structure swells and fades with a period of 21.6 px along rows, a moire of its
interpolation, which the hole continues. And the impulse response's width varies in space,
by as much as the ring's grain shows (:func:`estimate_response_spread`): a stationary draw left the
hole's windows more alike than the ring's. Both
change the correlation a stationary response gives, so the widths are calibrated on a draw
(:func:`drawn_widths`). Images without resampling are filled as before (what the resampled grain
changed on the real tile: docs/notes.md).
Assumptions: the grain's marginal shape and correlation are stationary around the hole (a ring that
straddles two land covers lends the hole their mixed shape, each side's spread), the impulse response
is separable and Gaussian (its width varying only in a resampled image), the looks are independent, the
resampling is linear along one axis at a time, and the hole's background comes from the fill.

The values the fill takes as they are, rather than estimating them from the ring, form the grain model
(:class:`sardip.grain.GrainModel`), owned by the preset that adds speckle."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from functools import lru_cache

import numpy as np
from scipy import ndimage, optimize, special

from sardip.grain import GRAIN, GrainModel
from sardip.masks import ring_mask
from sardip.resampling import ResamplingWave, find_resampling_waves, input_shape, resample

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
#: Largest lag-1 correlation synthesised (a kernel for 0.95 is already ~4 px wide).
MAX_RHO = 0.95
#: Side (px) of the blocks the seam's conditioning is solved in (:func:`condition_on_known`).
KRIGING_BLOCK = 32
#: Most looks the re-acquisition simulates (beyond them the log intensity is close to Gaussian).
SIM_MAX_LOOKS = 16
#: Side (px) of the fixed-seed draw :func:`drawn_widths` calibrates on.
CALIBRATION_SIZE = 256
_SQUARE = np.ones((3, 3), bool)
_CORRECTION_ROUNDS = 4
_CALIBRATION_ROUNDS = 4
#: Spreads (from 0 to the grain model's largest) and draws per spread :func:`estimate_response_spread` simulates.
SPREAD_STEPS, SPREAD_DRAWS = 5, 2
_SERIES_TERMS = 2000


class SpeckleError(ValueError):
    """No usable known pixels around the hole to estimate speckle statistics from."""


class NoGrainError(SpeckleError):
    """Known blocks enough, but none varies: the band has no grain to measure (a dB product clipped at
    its floor over calm water, a constant band)."""


@dataclass(frozen=True)
class SpeckleParams:
    """Speckle statistics of one band.

    ``looks``: L, ENL of linear intensity on the ring's homogeneous blocks. ``rho_rows`` / ``rho_cols``:
    lag-1 autocorrelation of log intensity (dB) between vertical / horizontal neighbours.
    ``sigma_rows`` / ``sigma_cols``: widths (px) of the stationary Gaussian impulse responses that reproduce
    them (:func:`response_for_lag1`; the correlation the seam's conditioning assumes, and the widths drawn
    unless the image was resampled, :func:`drawn_widths`). ``grain_std_db``: spread of the
    ring's grain (dB; pure L-look speckle has ``(10 / ln 10) sqrt(trigamma(L))``, 2.3 dB for L = 4).
    ``patches``: blocks used. ``grain_factor``: the share of the drawn grain's deviations the fill got
    (:func:`grain_deficit`; 1 for a smooth fill, lower where the fill carried fine structure itself).
    ``response_spread``: how much the drawn impulse response's width varies in space (relative), measured
    on the ring of a resampled image (:func:`estimate_response_spread`; 0 without resampling).
    """

    looks: float
    rho_rows: float
    rho_cols: float
    sigma_rows: float
    sigma_cols: float
    grain_std_db: float
    patches: int
    grain_factor: float = 1.0
    response_spread: float = 0.0

    def to_dict(self) -> dict[str, float | int]:
        """Values rounded for provenance tags."""
        return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in asdict(self).items()}


#: The parameters of a band without grain (:class:`NoGrainError`): no looks, no correlation, no spread.
NO_GRAIN = SpeckleParams(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0.0)


@dataclass(frozen=True)
class SpeckleEstimate:
    """What :func:`estimate_speckle` measures on homogeneous blocks: looks, lag-1 correlations, blocks."""

    looks: float
    rho_rows: float
    rho_cols: float
    patches: int


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


def estimate_speckle(intensity: np.ndarray, region: np.ndarray, patch: int = PATCH) -> SpeckleEstimate:
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
    blocks = blocks[np.ptp(blocks.reshape(len(blocks), -1), axis=1) > 0]
    if len(blocks) < MIN_PATCHES:
        raise NoGrainError(f"{len(blocks)} {patch}x{patch} blocks of known pixels vary; need {MIN_PATCHES}")
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
    return SpeckleEstimate(looks=looks, rho_rows=rho_r, rho_cols=rho_c, patches=len(blocks))


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


def _quantiles(grain: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The ``u`` quantiles of the sorted grain sample (linear interpolation between order statistics)."""
    return np.interp(u * (grain.size - 1), np.arange(grain.size), grain)


def _grain_of_gaussian(g: np.ndarray, grain: np.ndarray) -> np.ndarray:
    """``Q(Phi(g))``: standard normal values mapped to the grain's distribution (``grain`` sorted)."""
    return _quantiles(grain, special.ndtr(g))


def simulated_looks(looks: float) -> int:
    """Independent looks the re-acquisition simulates for a looks estimate."""
    return int(np.clip(round(looks), 1, SIM_MAX_LOOKS))


def log_intensity_corr(r: np.ndarray | float, looks: float) -> np.ndarray:
    """Correlation of ``ln I1`` and ``ln I2`` for two ``looks``-look intensities whose looks are pairs of
    circular complex Gaussians with squared correlation magnitude ``r`` (and independent of each other).

    The pair is Kibble's bivariate gamma; in its Laguerre expansion the log's coefficients are ``-1/n``
    for every order ``n``, so ``cov = sum_n r^n B(n, L) / n`` and ``var = trigamma(L)``, the same sum at
    ``r = 1`` (for one look, the dilogarithm ``Li2(r) / zeta(2)``)."""
    n = np.arange(1, _SERIES_TERMS + 1)
    weights = np.exp(special.betaln(n, looks)) / n
    r = np.clip(np.asarray(r, dtype=np.float64), 0.0, 1.0)
    return np.power(r[..., None], n) @ weights / float(special.polygamma(1, looks))


def response_for_lag1(rho: float, looks: int) -> float:
    """Width (px) of the Gaussian impulse response whose ``looks``-look speckle has log-intensity lag-1
    correlation ``rho`` (0 for rho <= 0.01)."""
    if rho <= 0.01:
        return 0.0
    rho = min(rho, MAX_RHO)
    r = optimize.brentq(lambda x: float(log_intensity_corr(x, looks)) - rho, 0.0, 1.0 - 1e-12, xtol=1e-9)
    return sigma_for_lag1(float(np.sqrt(r)))


def _normal_scores(x: np.ndarray) -> np.ndarray:
    """Each value of ``x`` replaced by the standard normal quantile of its rank."""
    ranks = np.argsort(np.argsort(x, axis=None)).reshape(x.shape)
    return special.ndtri((ranks + 0.5) / x.size)


def _looks_log_intensity(
    rng: np.random.Generator, widths: tuple[float, float], looks: int, shape: tuple[int, int], spread: float,
    scale: float,
) -> np.ndarray:  # fmt: skip
    """Log intensity (H, W) of ``looks`` looks of complex white noise, each filtered by Gaussian impulse
    responses of ``widths`` (rows, columns), circular boundary (so the field is stationary in law). With
    ``spread``, the widths vary in space by +-``spread`` (relative): the same noise filtered at both
    extremes, blended by a weight that is a smooth random field (``scale`` px) and scaled
    back to unit variance."""
    total = np.zeros(shape)
    if spread == 0:
        for _ in range(2 * looks):
            total += ndimage.gaussian_filter(rng.standard_normal(shape), widths, mode="wrap") ** 2
        return np.log(total)
    smooth = ndimage.gaussian_filter(rng.standard_normal(shape), scale, mode="wrap")
    weight = special.ndtr(2 * smooth / smooth.std())
    narrow = tuple(w * (1 - spread) for w in widths)
    wide = tuple(w * (1 + spread) for w in widths)
    for _ in range(2 * looks):
        noise = rng.standard_normal(shape)
        a = ndimage.gaussian_filter(noise, narrow, mode="wrap")
        b = ndimage.gaussian_filter(noise, wide, mode="wrap")
        a, b = a / a.std(), b / b.std()
        blend = weight * a + (1 - weight) * b
        total += blend**2 / (weight**2 + (1 - weight) ** 2 + 2 * weight * (1 - weight) * float(np.mean(a * b)))
    return np.log(total)


def _resampled_log_intensity(
    rng: np.random.Generator,
    widths: tuple[float, float],
    looks: int,
    shape: tuple[int, int],
    waves: tuple[ResamplingWave, ...],
    spread: float,
    scale: float,
) -> np.ndarray:
    """:func:`_looks_log_intensity` (width varying by ``spread`` over ``scale`` px) drawn on the input
    grid of ``waves`` and resampled onto ``shape`` (:func:`sardip.resampling.resample`; with waves along
    both axes, the rows' first, their phase taken at the output pixels)."""
    shapes = [shape]
    for wave in reversed(waves):
        shapes.insert(0, input_shape(shapes[0], wave))
    field = _looks_log_intensity(rng, widths, looks, shapes[0], spread, scale)
    for wave, target in zip(waves, shapes[1:], strict=True):
        field = resample(field, wave, target)
    return field


def _axis_lag1(x: np.ndarray, axis: int) -> float:
    """Lag-1 correlation of a field along ``axis``."""
    x = x - x.mean()
    a = np.moveaxis(x, axis, 0)
    return float(np.mean(a[1:] * a[:-1]) / np.mean(a * a))


@lru_cache(maxsize=64)
def drawn_widths(
    rho_rows: float,
    rho_cols: float,
    looks: int,
    waves: tuple[ResamplingWave, ...] = (),
    spread: float = 0.0,
    scale: float = GRAIN.response_scale,
) -> tuple[float, float]:
    """Widths (px, rows and columns) of the impulse responses :func:`draw_gaussian` filters with, so that
    its normal scores have the lag-1 correlations ``rho_rows`` / ``rho_cols``: without ``waves`` the
    stationary solution (:func:`response_for_lag1`). In a resampled image the resampling and the width's
    variation in space (``spread`` over ``scale`` px) both change the correlation it gives, so the widths
    are corrected on a fixed-seed draw of :data:`CALIBRATION_SIZE` px: each round scales a width by the
    ratio of the Gaussian-equivalent widths (:func:`sigma_for_lag1`) of the target and of the draw's
    correlation."""
    targets = (rho_rows, rho_cols)
    widths = [response_for_lag1(rho, looks) for rho in targets]
    if not waves:
        return widths[0], widths[1]
    size = (CALIBRATION_SIZE, CALIBRATION_SIZE)
    for _ in range(_CALIBRATION_ROUNDS):
        draw = _resampled_log_intensity(np.random.default_rng(0), tuple(widths), looks, size, waves, spread, scale)
        scores = _normal_scores(draw)
        for axis, target in enumerate(targets):
            drawn = sigma_for_lag1(min(_axis_lag1(scores, axis), MAX_RHO))
            if target > 0.01 and drawn > 0:
                widths[axis] *= sigma_for_lag1(target) / drawn
    return widths[0], widths[1]


def local_sharpness_spread(scores: np.ndarray, region: np.ndarray, scale: float) -> float:
    """How much the grain's fineness varies over ``region``: the standard deviation, over the region's
    pixels whose Gaussian window (``scale`` px) holds at least half as many neighbour pairs as the
    fullest, of the local lag-1 correlation of ``scores`` (normal scores) in that window, rows and
    columns pooled; only pairs of neighbours both in the region count."""
    z = np.where(region, scores, 0.0)
    products, energies, pairs = (np.zeros(region.shape) for _ in range(3))
    for axis in (0, 1):
        prod, energy, both = (np.zeros(region.shape) for _ in range(3))
        a, m = np.moveaxis(z, axis, 0), np.moveaxis(region, axis, 0)
        pair = m[1:] & m[:-1]
        np.moveaxis(both, axis, 0)[:-1] = pair
        np.moveaxis(prod, axis, 0)[:-1] = np.where(pair, a[1:] * a[:-1], 0.0)
        np.moveaxis(energy, axis, 0)[:-1] = np.where(pair, (a[1:] ** 2 + a[:-1] ** 2) / 2, 0.0)
        products += ndimage.gaussian_filter(prod, scale)
        energies += ndimage.gaussian_filter(energy, scale)
        pairs += ndimage.gaussian_filter(both, scale)
    keep = region & (pairs >= pairs.max() / 2) & (energies > 0)
    return float(np.std(products[keep] / energies[keep])) if keep.sum() > 1 else 0.0


def estimate_response_spread(
    field: np.ndarray,
    ring: np.ndarray,
    known: np.ndarray,
    params: SpeckleParams,
    waves: tuple[ResamplingWave, ...],
    grain: GrainModel,
) -> float:
    """The impulse response's variation in width (relative) that makes a simulated re-acquisition's grain
    vary in fineness over the ring as much as the real grain ``field`` (:func:`grain_field` of the
    ``known`` pixels) does there (:func:`local_sharpness_spread`, windows of ``grain.response_scale``
    px): a simulated method of moments. For :data:`SPREAD_STEPS` spreads from 0 to
    ``grain.max_response_spread``, :data:`SPREAD_DRAWS` fixed-seed draws with the band's correlation
    (widths :func:`drawn_widths` calibrated once, without spread, for speed) and the image's waves are
    measured as the real grain is (the same grain field, known pixels and ring), and the real value is
    interpolated between them. Texture that varies the grain's fineness raises the estimate too. Only a
    resampled image (``waves``) has a spread; elsewhere the width is fixed, 0."""
    on_ring = ring & np.isfinite(field)
    if not waves or grain.max_response_spread == 0 or on_ring.sum() < 2:
        return 0.0
    scale = grain.response_scale
    looks = simulated_looks(params.looks)

    def measured(values: np.ndarray) -> float:
        scores = np.zeros(ring.shape)
        scores[on_ring] = _normal_scores(values[on_ring])
        return local_sharpness_spread(scores, on_ring, scale)

    widths = drawn_widths(params.rho_rows, params.rho_cols, looks, waves, 0.0, scale)

    def simulated(spread: float) -> float:
        values = []
        for k in range(SPREAD_DRAWS):
            draw = _resampled_log_intensity(np.random.default_rng(k), widths, looks, ring.shape, waves, spread, scale)
            draw_db = np.where(known, draw * (10 / np.log(10)), np.nan)
            values.append(measured(grain_field(draw_db, ring, params.rho_rows, params.rho_cols, grain)))
        return float(np.mean(values))

    spreads = np.linspace(0.0, grain.max_response_spread, SPREAD_STEPS)
    curve = np.maximum.accumulate([simulated(s) for s in spreads])
    return float(np.interp(measured(field), curve, spreads))


def draw_gaussian(
    rng: np.random.Generator,
    params: SpeckleParams,
    shape: tuple[int, int],
    waves: tuple[ResamplingWave, ...] = (),
    grain: GrainModel = GRAIN,
) -> np.ndarray:
    """Normal scores (H, W) of a simulated re-acquisition: the log intensity of
    :func:`simulated_looks` looks of complex white noise filtered by Gaussian impulse responses
    (:func:`_looks_log_intensity`, widths :func:`drawn_widths` for the lag-1 correlations of ``params``),
    and in a resampled image (``waves``, :func:`sardip.resampling.find_resampling_waves`) with widths
    varying in space and resampled as the image was, each value replaced by the standard normal quantile
    of its rank."""
    looks = simulated_looks(params.looks)
    spread, scale = params.response_spread, grain.response_scale
    widths = drawn_widths(params.rho_rows, params.rho_cols, looks, waves, spread, scale)
    return _normal_scores(_resampled_log_intensity(rng, widths, looks, shape, waves, spread, scale))


def draw_grain(
    rng: np.random.Generator, grain: np.ndarray, params: SpeckleParams, shape: tuple[int, int]
) -> np.ndarray:
    """A grain field (H, W) in dB with the marginal of the sorted sample ``grain`` and the speckle
    structure of ``params`` (its impulse responses and looks)."""
    return _grain_of_gaussian(draw_gaussian(rng, params, shape), grain)


def _kernel_autocorr(sigma: float, lags: int) -> np.ndarray:
    """Correlation at lags ``0..lags`` of white noise filtered by ``gaussian_filter1d(sigma)``."""
    out = np.zeros(lags + 1)
    if sigma <= 0:
        out[0] = 1.0
        return out
    impulse = np.zeros(2 * (int(4 * sigma + 0.5) + lags) + 3)
    impulse[len(impulse) // 2] = 1.0
    h = ndimage.gaussian_filter1d(impulse, sigma, mode="constant")
    out[:] = [np.dot(h[d:], h[: h.size - d]) for d in range(lags + 1)]
    return out / out[0]


@lru_cache(maxsize=64)
def _kriging_corr(sigma_rows: float, sigma_cols: float, looks: int, lags: int) -> np.ndarray:
    """Correlation (read-only, lags ``0..lags`` along rows x columns) of the normal scores of
    :func:`draw_gaussian` under these impulse responses and looks. Kept: the series costs about 65 ms
    per band, and every fill of one tile's hole (each method, each DIP snapshot) has the same ring."""
    complex_corr = np.outer(_kernel_autocorr(sigma_rows, lags), _kernel_autocorr(sigma_cols, lags))
    corr = log_intensity_corr(complex_corr**2, looks)
    corr.flags.writeable = False
    return corr


def known_gaussian(field: np.ndarray, known: np.ndarray, grain: np.ndarray) -> np.ndarray:
    """The known pixels' own grain (:func:`grain_field`) as normal scores, like :func:`draw_gaussian`,
    ``Phi^-1(F(x))``, through the empirical distribution ``F`` of the sorted sample ``grain``. NaN off
    ``known``."""
    levels = (np.arange(grain.size) + 0.5) / grain.size
    return np.where(known, special.ndtri(np.interp(np.nan_to_num(field), grain, levels)), np.nan)


def condition_on_known(
    g: np.ndarray, g_known: np.ndarray, hidden: np.ndarray, params: SpeckleParams, grain: GrainModel = GRAIN
) -> np.ndarray:
    """``g`` (H, W, normal scores of :func:`draw_gaussian`) conditioned, near the hole's boundary, on the
    real grain ``g_known`` (NaN where unknown): conditional simulation by simple kriging under the
    simulated speckle's correlation (:func:`log_intensity_corr` of its impulse responses; the scores
    of a non-Gaussian field, so the kriging is linear, not exact), ``g + C_ps C_ss^-1 (g_known - g)_s``,
    with ``s`` the known pixels within ``grain.seam_band`` px of the hole and ``p`` the hidden pixels
    within as many px of known ones.
    Without it the drawn grain is independent of the real grain across the boundary, a seam that a
    detector of the step across a contour finds (:mod:`sardip.audit.forensic`). Solved per
    :data:`KRIGING_BLOCK` px block, with sources from a margin of twice the band around it."""
    known = np.isfinite(g_known)
    band = grain.seam_band
    if band == 0:
        return g.copy()
    sources = known & ndimage.binary_dilation(hidden, _SQUARE, iterations=band)
    targets = hidden & ndimage.binary_dilation(known, _SQUARE, iterations=band)
    margin = 2 * band
    lags = KRIGING_BLOCK + 2 * margin
    corr = _kriging_corr(params.sigma_rows, params.sigma_cols, simulated_looks(params.looks), lags)
    out = g.copy()
    height, width = g.shape
    for r0 in range(0, height, KRIGING_BLOCK):
        for c0 in range(0, width, KRIGING_BLOCK):
            block = (slice(r0, r0 + KRIGING_BLOCK), slice(c0, c0 + KRIGING_BLOCK))
            if not targets[block].any():
                continue
            pr, pc = np.nonzero(targets[block])
            pr, pc = pr + r0, pc + c0
            rs, cs = max(r0 - margin, 0), max(c0 - margin, 0)
            sr, sc = np.nonzero(sources[rs : r0 + KRIGING_BLOCK + margin, cs : c0 + KRIGING_BLOCK + margin])
            if sr.size == 0:
                continue
            sr, sc = sr + rs, sc + cs
            c_ss = corr[np.abs(sr[:, None] - sr[None]), np.abs(sc[:, None] - sc[None])]
            c_ps = corr[np.abs(pr[:, None] - sr[None]), np.abs(pc[:, None] - sc[None])]
            weights = np.linalg.solve(c_ss + grain.kriging_nugget * np.eye(sr.size), c_ps.T)
            out[pr, pc] = g[pr, pc] + (g_known[sr, sc] - g[sr, sc]) @ weights
    return out


def _normalised_convolution(db: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``kernel``-weighted local mean of a dB band (H, W) over its finite pixels; NaN stays NaN."""
    finite = np.isfinite(db)
    weight = ndimage.convolve(finite.astype(np.float64), kernel, mode="nearest")
    total = ndimage.convolve(np.where(finite, db, 0.0), kernel, mode="nearest")
    return np.where(finite, total / np.maximum(weight, 1e-12), np.nan)


def _gaussian_kernel(sigma: float, inner: int = -1) -> np.ndarray:
    """2-D Gaussian kernel (truncated at 4 sigma) with the central ``2 inner + 1`` square set to 0."""
    r = int(4 * sigma + 0.5)
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    kernel = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    kernel[(np.abs(x) <= inner) & (np.abs(y) <= inner)] = 0.0
    return kernel


def fill_background_db(fill_db: np.ndarray, sigma: float = GRAIN.fill_sigma) -> np.ndarray:
    """Gaussian low-pass (``sigma`` px) of a dB band (H, W), NaN-aware (normalised convolution); NaN stays NaN."""
    return _normalised_convolution(fill_db, _gaussian_kernel(sigma))


def _background_kernel(grain: GrainModel) -> np.ndarray:
    """The ring's background kernel: Gaussian of ``grain.background_sigma`` px without its central square."""
    return _gaussian_kernel(grain.background_sigma, grain.grain_inner)


def grain_variance_factor(sigma_rows: float, sigma_cols: float, grain: GrainModel = GRAIN) -> float:
    """``var(x - B x) / var(x)`` for white noise filtered by Gaussians of ``sigma_rows`` / ``sigma_cols``
    px and ``B`` the normalised background kernel: how much subtracting the background inflates the
    variance of correlated noise (about 1.05 for Sentinel-1-like correlation)."""
    kernel = _background_kernel(grain)
    n = 4 * kernel.shape[0]
    impulse = np.zeros((n, n))
    impulse[n // 2, n // 2] = 1.0
    noise = ndimage.gaussian_filter(impulse, (sigma_rows, sigma_cols), mode="wrap")
    residual = noise - ndimage.convolve(noise, kernel / kernel.sum(), mode="wrap")
    return float(np.sum(residual**2) / np.sum(noise**2))


def grain_field(
    db: np.ndarray, ring: np.ndarray, rho_rows: float, rho_cols: float, grain: GrainModel = GRAIN
) -> np.ndarray:
    """The grain (H, W) of a dB band (NaN = unknown): each value minus the Gaussian-weighted mean of its
    neighbours, its own ``2 grain.grain_inner + 1`` square left out, with its spread about the mean on
    ``ring`` divided by the square root of :func:`grain_variance_factor` for the lag-1 correlations
    ``rho_rows`` / ``rho_cols`` of the dB values (module docstring). Its finite values on the ring,
    sorted, are the grain sample the fill draws from."""
    residual = db - _normalised_convolution(db, _background_kernel(grain))
    on_ring = residual[ring]
    centre = on_ring[np.isfinite(on_ring)].mean()
    factor = grain_variance_factor(sigma_for_lag1(rho_rows), sigma_for_lag1(rho_cols), grain)
    return centre + (residual - centre) / np.sqrt(factor)


def _masked_smooth(where: np.ndarray, sigma: float, *values: np.ndarray) -> list[np.ndarray]:
    """Gaussian-weighted means (``sigma`` px) of each of ``values`` over the pixels ``where``, at every
    pixel (the weights filtered once for all of them)."""
    weight = np.maximum(ndimage.gaussian_filter(where.astype(np.float64), sigma, mode="nearest"), 1e-12)
    return [ndimage.gaussian_filter(np.where(where, v, 0.0), sigma, mode="nearest") / weight for v in values]


def grain_spread(field: np.ndarray, ring: np.ndarray, hidden: np.ndarray, grain: GrainModel = GRAIN) -> np.ndarray:
    """The grain's spread (H, W) relative to its mean spread on ``ring``, interpolated into ``hidden``.

    Where the texture changes across the ring (the OPERA RTC crops: terrain, a field edge), one
    stationary grain spread evenly over the hole matches neither side. The local variance of the grain
    field (:func:`grain_field`, NaN off the known pixels) in Gaussian windows of ``grain.spread_sigma`` px
    on the ring is carried into the hole with Gaussian weights over the ring pixels (``grain.spread_reach``
    times the hole's largest inradius, at least ``grain.spread_sigma``), so each hidden pixel takes the spread of
    the ring on its side; the ratio to the ring's mean is 1 in a stationary ring, up to estimation
    noise."""
    on = ring & np.isfinite(field)
    values = np.nan_to_num(field)
    mean, square = _masked_smooth(on, grain.spread_sigma, values, values**2)
    local = np.maximum(square - mean**2, 0.0)
    reach = max(grain.spread_reach * float(ndimage.distance_transform_edt(hidden).max()), grain.spread_sigma)
    (carried,) = _masked_smooth(on, reach, local)
    overall = float(local[on].mean())
    return np.sqrt(carried / overall) if overall > 0 else np.ones_like(carried)


def grain_deficit(
    background: np.ndarray, hidden: np.ndarray, params: SpeckleParams, grain: GrainModel = GRAIN
) -> float:
    """Factor on the drawn grain's deviations so the hole's grain variance is the ring's: ``sqrt(1 - v_b /
    v)``, ``v = params.grain_std_db ** 2`` the variance of the ring's grain and ``v_b`` that of the
    background's own grain field (:func:`grain_field`, measured on the hidden pixels alone as on the ring),
    0 where the background already holds as much. A smooth fill (GDAL, a DIP far from the known pixels)
    gets the whole grain; a fill that continues the scene's fine structure gets only what it lacks."""
    total = params.grain_std_db**2
    own = grain_field(np.where(hidden, background, np.nan), hidden, params.rho_rows, params.rho_cols, grain)[hidden]
    own = own[np.isfinite(own)]
    if total <= 0 or own.size < 2:
        return 1.0
    return float(np.sqrt(max(1.0 - float(own.var()) / total, 0.0)))


def _estimate_around(
    db: np.ndarray, hidden: np.ndarray, patch: int, grain: GrainModel
) -> tuple[SpeckleParams, np.ndarray, np.ndarray, np.ndarray] | None:
    """Speckle parameters, sorted grain sample, grain field (:func:`grain_field`) and context ring of one
    dB band around ``hidden``: :func:`estimate_speckle` on a ring of ``CONTEXT_AREA`` x the hole's area, doubled
    until it holds ``MIN_PATCHES`` blocks (on a tile too small even then, blocks of ``MIN_PATCH`` px are
    used); the grain sample on the same ring. ``None`` when the known pixels have no grain at all
    (:class:`NoGrainError` on the largest ring)."""
    known = np.isfinite(db) & ~hidden
    intensity = 10 ** (db / 10)
    factor = CONTEXT_AREA
    while True:
        context = ring_mask(hidden, known, factor)
        try:
            estimate = estimate_speckle(intensity, context, patch)
            break
        except SpeckleError as err:
            if context.sum() < known.sum():
                factor *= 2
            elif patch > MIN_PATCH:
                factor, patch = CONTEXT_AREA, MIN_PATCH
            elif isinstance(err, NoGrainError):
                return None
            else:
                raise
    field = grain_field(np.where(known, db, np.nan), context, estimate.rho_rows, estimate.rho_cols, grain)
    on_ring = field[context]
    grain = np.sort(on_ring[np.isfinite(on_ring)])
    params = SpeckleParams(
        looks=estimate.looks,
        rho_rows=estimate.rho_rows,
        rho_cols=estimate.rho_cols,
        sigma_rows=response_for_lag1(estimate.rho_rows, simulated_looks(estimate.looks)),
        sigma_cols=response_for_lag1(estimate.rho_cols, simulated_looks(estimate.looks)),
        grain_std_db=float(grain.std()),
        patches=estimate.patches,
    )
    return params, grain, field, context


def speckle_fill(
    image_db: np.ndarray,
    fill_db: np.ndarray,
    hidden: np.ndarray,
    seed: int,
    *,
    patch: int = PATCH,
    grain: GrainModel = GRAIN,
) -> tuple[np.ndarray, list[SpeckleParams]]:
    """``image_db`` (C, H, W) with the hidden area replaced by ``fill_db`` (C, H, W, dB) carrying grain.

    Per band: speckle statistics and grain from the known pixels around ``hidden`` (H, W) bool
    (:func:`estimate_speckle`, :func:`grain_field`), then inside the hole ``G * fill + N`` (``G *``:
    :func:`fill_background_db`) with N from :func:`draw_grain`, conditioned on the real grain at the
    boundary and scaled by the grain ``G * fill`` lacks (:func:`grain_deficit`) and the ring's local
    spread (:func:`grain_spread`), and ``np.random.default_rng(seed)`` (bands drawn in order), under the
    grain model ``grain``. A band whose known pixels have no grain (:class:`NoGrainError`: a constant
    band, a floor-clipped one) gets ``fill_db`` as it is and
    :data:`NO_GRAIN` as its parameters. Outside the hole the output is ``image_db`` itself (same
    values, bit for bit); NaN in ``fill_db`` stays NaN. Returns the output (float32) and the parameters
    per band.
    """
    image_db = np.asarray(image_db, dtype=np.float32)
    fill_db = np.asarray(fill_db, dtype=np.float64)
    hidden = np.asarray(hidden, dtype=bool)
    if image_db.ndim != 3 or fill_db.shape != image_db.shape or hidden.shape != image_db.shape[1:]:
        raise ValueError(f"image {image_db.shape}, fill {fill_db.shape} and hidden {hidden.shape} do not match")
    rng = np.random.default_rng(seed)
    waves = find_resampling_waves(image_db, hidden)
    out = image_db.copy()
    params: list[SpeckleParams] = []
    for band, (known_db, filled_db) in enumerate(zip(image_db, fill_db, strict=True)):
        around = _estimate_around(known_db.astype(np.float64), hidden, patch, grain)
        if around is None:
            out[band] = np.where(hidden, filled_db, known_db).astype(np.float32)
            params.append(NO_GRAIN)
            continue
        estimate, sample, field, ring = around
        known = np.isfinite(known_db) & ~hidden
        spread = estimate_response_spread(field, ring, known, estimate, waves, grain)
        estimate = replace(estimate, response_spread=spread)
        g = draw_gaussian(rng, estimate, hidden.shape, waves, grain)
        g = condition_on_known(g, known_gaussian(field, known, sample), hidden, estimate, grain)
        centre = float(sample.mean())
        background = fill_background_db(filled_db, grain.fill_sigma)
        factor = grain_deficit(background, hidden, estimate, grain)
        scale = factor * grain_spread(field, ring, hidden, grain)
        values = background + centre + (_grain_of_gaussian(g, sample) - centre) * scale
        out[band] = np.where(hidden, values, known_db).astype(np.float32)
        params.append(replace(estimate, grain_factor=factor))
    return out, params


def params_tag(params: list[SpeckleParams], bands: tuple[str, ...], grain: GrainModel = GRAIN) -> str:
    """JSON of the per-band parameters and the grain model's hash, for a GeoTIFF tag."""
    record = {b: p.to_dict() for b, p in zip(bands, params, strict=True)}
    return json.dumps({**record, "grain_model": grain.config_hash()}, sort_keys=True)
