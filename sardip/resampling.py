"""The resampling a SAR product went through, as it shows in its grain, and the same resampling for a drawn grain.

A product resampled onto a map grid (SEN12MS: Sentinel-1 GRD, terrain-corrected and reprojected to
UTM at 10 m) interpolates between input samples with weights set by where each output pixel falls
between them, its fractional position ``phi`` on the input grid. Where ``phi = 0`` the output is an
input sample and keeps all of its fine structure; where ``phi = 1/2`` it is the mean of two, and the
finest structure is gone. Two grids that differ by a few per cent in spacing, or by a small rotation,
make ``phi`` a plane wave over the image: a moire in the energy of the grain's fine structure. On the
real SEN12MS tile the energy of the third-order residual along rows swings by a factor of about 1.9
between crests and troughs, with a period of 21.6 px (wave vector (-0.006, 0.046) cycles/px), the same
in both bands and with or without the hole; the OPERA RTC crops and the demo scenes have none. A grain
drawn without it leaves the hole's windows more alike than the ring's, which the five-level residual
co-occurrence detector (``cooc5``) finds (``bench/results/credible.md``).

:func:`find_resampling_waves` finds such a wave per interpolation axis from the known pixels, and
:func:`resample` interpolates a field drawn on the input grid at the wave's ``phi`` (linear
interpolation, the usual choice of terrain correction), so the hole continues the ring's moire.
Assumptions: the interpolation is linear along one axis at a time, and the spacing of the two grids
differs by at most a few per cent, so the wave's phase alone places each output pixel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

#: Third-order residual whose local energy shows the moire (the one the co-occurrence detectors use).
RESIDUAL = np.array([-1.0, 3.0, -3.0, 1.0])
#: Gaussian widths (px) of the local energy maps and of the background the grain is measured against.
ENERGY_SIGMA = 1.0
GRAIN_SIGMA = 3.0
#: Frequencies (cycles/px) searched: at least this many cycles over the image, at most this frequency.
MIN_CYCLES = 2.5
MAX_FREQUENCY = 0.2
#: A wave is taken as found when its periodogram peak is this many times the median over frequencies
#: of similar magnitude (within ``ANNULUS`` of it, relative), and the dB values themselves show no more
#: than ``SCENE_LIMIT`` times their median at that frequency (a periodic scene, the demo towns' street
#: grid, also makes the sharpness periodic: 18-57 there, with the dB values at 19-316). The real tile's
#: wave stands at 112 (dB values 1.1), its other axis at 29, the OPERA crops at 3-7. Under pure noise
#: (exponential ordinates) 40 medians are passed by chance with probability about ``M 2^-40``.
SIGNIFICANCE = 40.0
SCENE_LIMIT = 5.0
ANNULUS = 0.3
#: Steps per frequency bin in which the peak frequency is refined.
REFINE = 4


@dataclass(frozen=True)
class ResamplingWave:
    """The phase of a linear interpolation along ``axis`` (0 rows, 1 columns): ``phi = frac(f . x + phase)``
    at pixel ``x = (row, col)``, ``f = frequency`` (cycles/px); ``phi = 0`` on the crests of fine
    structure. ``strength``: the periodogram peak over its median at similar frequencies."""

    axis: int
    frequency: tuple[float, float]
    phase: float
    strength: float

    @property
    def period(self) -> float:
        """Period (px) of the moire."""
        return float(1.0 / np.hypot(*self.frequency))


def _energy_map(db: np.ndarray, known: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Log local sharpness: energy of the third-order residual along ``axis`` over the energy of the grain
    (dB minus its :data:`GRAIN_SIGMA` px Gaussian mean), so that a periodic scene (a town's street grid)
    whose texture is brighter in places does not pass for a moire. Centred, 0 off the usable pixels
    (all four taps and the 5 x 5 neighbourhood known); returned with them."""
    usable = ndimage.binary_erosion(known, np.ones((5, 5), bool))
    if not usable.any():
        return np.zeros_like(db), usable
    x = np.where(known, db, float(db[known].mean()))
    residual = ndimage.correlate1d(x, RESIDUAL, axis=axis, mode="reflect")
    grain = x - ndimage.gaussian_filter(x, GRAIN_SIGMA, mode="reflect")

    def local(a: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter(np.where(usable, a, 0.0), ENERGY_SIGMA)

    log_energy = np.log(np.maximum(local(residual**2), 1e-30) / np.maximum(local(grain**2), 1e-30))
    return np.where(usable, log_energy - log_energy[usable].mean(), 0.0), usable


def _phase(maps: list[np.ndarray], usable: list[np.ndarray], frequency: tuple[float, float]) -> float:
    """Phase (cycles) of the crests of ``maps`` at ``frequency``, fitted jointly over the bands."""
    rows, cols = np.mgrid[: maps[0].shape[0], : maps[0].shape[1]]
    angle = 2 * np.pi * (frequency[0] * rows + frequency[1] * cols)
    cos_sum = sin_sum = 0.0
    for m, ok in zip(maps, usable, strict=True):
        design = np.stack([np.ones(int(ok.sum())), np.cos(angle[ok]), np.sin(angle[ok])], axis=1)
        coef = np.linalg.lstsq(design, m[ok], rcond=None)[0]
        cos_sum, sin_sum = cos_sum + coef[1], sin_sum + coef[2]
    return float(np.arctan2(-sin_sum, cos_sum) / (2 * np.pi))


def _power(maps: list[np.ndarray]) -> np.ndarray:
    """Periodogram (``rfft2``) of ``maps``, summed."""
    return sum(np.abs(np.fft.rfft2(m)) ** 2 for m in maps)


def _refined(maps: list[np.ndarray], fy: float, fx: float) -> tuple[float, float]:
    """The frequency near ``(fy, fx)`` (within one bin, in steps of 1 / :data:`REFINE` bin) where the summed
    periodogram of ``maps`` peaks: a direct DFT at those frequencies, separable, so a scene window costs
    two small matrix products rather than a zero-padded transform."""
    height, width = maps[0].shape
    steps = np.arange(-REFINE, REFINE + 1) / REFINE
    ys, xs = fy + steps / height, fx + steps / width
    along_rows = np.exp(-2j * np.pi * ys[:, None] * np.arange(height)[None, :])
    along_cols = np.exp(-2j * np.pi * xs[:, None] * np.arange(width)[None, :])
    power = sum(np.abs(along_rows @ m @ along_cols.T) ** 2 for m in maps)
    i, j = np.unravel_index(np.argmax(power), power.shape)
    return float(ys[i]), float(xs[j])


def find_resampling_wave(image_db: np.ndarray, hidden: np.ndarray, axis: int) -> ResamplingWave | None:
    """The moire of a linear interpolation along ``axis`` in ``image_db`` (C, H, W, dB), seen on the pixels
    neither hidden nor NaN; ``None`` where none stands out (:data:`SIGNIFICANCE`, :data:`SCENE_LIMIT`).
    The bands share the geometry, so their periodograms are summed."""
    height, width = image_db.shape[1:]
    maps, usable, scene = [], [], []
    for band in image_db.astype(np.float64):
        m, ok = _energy_map(band, np.isfinite(band) & ~hidden, axis)
        if not ok.any():
            continue
        maps.append(m)
        usable.append(ok)
        scene.append(np.where(ok, band - band[ok].mean(), 0.0))
    if not maps:
        return None
    power = _power(maps)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    radius = np.hypot(fy, fx)
    searched = (radius > MIN_CYCLES / min(height, width)) & (radius < MAX_FREQUENCY)
    if not searched.any():
        return None
    peak = np.unravel_index(np.argmax(np.where(searched, power, 0.0)), power.shape)
    annulus = searched & (np.abs(radius - radius[peak]) < ANNULUS * radius[peak] + 1.5 / min(height, width))
    strength = float(power[peak] / np.median(power[annulus]))
    scene_power = _power(scene)
    if strength < SIGNIFICANCE or scene_power[peak] > SCENE_LIMIT * np.median(scene_power[annulus]):
        return None
    frequency = _refined(maps, float(fy[peak[0], 0]), float(fx[0, peak[1]]))
    return ResamplingWave(axis, frequency, _phase(maps, usable, frequency), strength)


def find_resampling_waves(image_db: np.ndarray, hidden: np.ndarray) -> tuple[ResamplingWave, ...]:
    """The waves of :func:`find_resampling_wave` along rows and columns that stand out."""
    found = (find_resampling_wave(image_db, hidden, axis) for axis in (0, 1))
    return tuple(wave for wave in found if wave is not None)


def _positions(shape: tuple[int, int], wave: ResamplingWave) -> tuple[np.ndarray, np.ndarray]:
    """Input index ``k`` (H, W) along the wave's axis and the weight ``phi`` of ``k + 1`` for each output
    pixel; ``k`` starts at 0."""
    rows, cols = np.mgrid[: shape[0], : shape[1]].astype(np.float64)
    theta = wave.frequency[0] * rows + wave.frequency[1] * cols + wave.phase
    theta -= np.floor(theta.min())
    position = (rows, cols)[wave.axis] + theta
    k = np.floor(position).astype(np.int64)
    return k, position - k


def input_shape(shape: tuple[int, int], wave: ResamplingWave) -> tuple[int, int]:
    """Shape of the field :func:`resample` needs to fill ``shape``."""
    k, _ = _positions(shape, wave)
    out = list(shape)
    out[wave.axis] = int(k.max()) + 2
    return out[0], out[1]


def resample(field: np.ndarray, wave: ResamplingWave, shape: tuple[int, int]) -> np.ndarray:
    """``field`` (on the input grid, :func:`input_shape`) linearly interpolated onto ``shape`` at the
    wave's phase."""
    k, phi = _positions(shape, wave)
    if wave.axis == 0:
        cols = np.arange(shape[1])[None, :]
        return (1 - phi) * field[k, cols] + phi * field[k + 1, cols]
    rows = np.arange(shape[0])[:, None]
    return (1 - phi) * field[rows, k] + phi * field[rows, k + 1]
