"""The resampling moire: found where a product was interpolated, not where it was not, and carried into fills."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REAL_S1
from scipy import ndimage

from sardip import speckle
from sardip.demo import correlated_speckle
from sardip.fill import classic_fill
from sardip.geotiff import read_raster
from sardip.grain import GRAIN
from sardip.masks import release_box
from sardip.resampling import ResamplingWave, _energy_map, find_resampling_waves, input_shape, resample

SIZE = 192
WAVE = ResamplingWave(axis=1, frequency=(0.01, 0.05), phase=0.3, strength=0.0)


def _speckle_db(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    return 10 * np.log10(correlated_speckle(rng, shape, 4, 0.6))


def _cycles_apart(a: float, b: float) -> float:
    return abs((a - b + 0.5) % 1.0 - 0.5)


def test_resampling_at_phase_zero_keeps_the_samples_and_at_one_half_averages_them(rng: np.random.Generator) -> None:
    field = rng.standard_normal((8, 12))
    still = ResamplingWave(axis=1, frequency=(0.0, 0.0), phase=0.0, strength=0.0)
    assert input_shape((8, 10), still) == (8, 11)
    np.testing.assert_array_equal(resample(field, still, (8, 10)), field[:, :10])
    half = ResamplingWave(axis=0, frequency=(0.0, 0.0), phase=0.5, strength=0.0)
    np.testing.assert_allclose(resample(field, half, (6, 12)), (field[:6] + field[1:7]) / 2)


def test_a_resampled_image_shows_its_wave_and_an_untouched_one_none(rng: np.random.Generator) -> None:
    hidden = np.zeros((SIZE, SIZE), bool)
    hidden[60:124, 60:124] = True
    fine = input_shape((SIZE, SIZE), WAVE)
    resampled = np.stack([resample(_speckle_db(rng, fine), WAVE, (SIZE, SIZE)) for _ in range(2)])
    (found,) = find_resampling_waves(resampled, hidden)
    assert found.axis == 1
    assert found.frequency == pytest.approx(WAVE.frequency, abs=1.0 / SIZE)
    assert _cycles_apart(found.phase, WAVE.phase) < 0.1
    assert find_resampling_waves(np.stack([_speckle_db(rng, (SIZE, SIZE)) for _ in range(2)]), hidden) == ()


def test_a_periodic_scene_is_not_taken_for_a_resampling(rng: np.random.Generator) -> None:
    """A town's street grid every 16 px makes the grain's fine structure periodic too (point scatterers on
    the blocks); the dB values show the same period, which a resampling would not."""
    rows, cols = np.mgrid[:SIZE, :SIZE]
    blocks = ((rows % 16) > 3) & ((cols % 16) > 3)
    points = blocks & (rng.random((SIZE, SIZE)) < 0.05)
    scene = np.stack([-14 + 8 * blocks + 12 * points + _speckle_db(rng, (SIZE, SIZE)) for _ in range(2)])
    assert find_resampling_waves(scene, np.zeros((SIZE, SIZE), bool)) == ()


def test_the_fill_continues_the_real_tiles_moire(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real SEN12MS tile was interpolated along rows with a period of 21.6 px; the sharpness of its
    hole follows the wave's crests (correlation 0.30), a fill's drawn grain follows them less (0.13 over
    these three draws), a grain drawn without the wave not at all."""
    image = read_raster(REAL_S1).db()
    hidden = release_box(image.shape[1:])
    (wave,) = find_resampling_waves(image, hidden)
    assert (wave.axis, round(wave.period, 1)) == (1, 21.6)
    inner = ndimage.binary_erosion(hidden, iterations=4)
    rows, cols = np.mgrid[: hidden.shape[0], : hidden.shape[1]]
    crest = np.cos(2 * np.pi * (wave.frequency[0] * rows + wave.frequency[1] * cols + wave.phase))

    def follows(db: np.ndarray) -> float:
        maps = [_energy_map(band.astype(np.float64), np.ones_like(hidden), 1)[0] for band in db]
        return float(np.mean([np.corrcoef(m[inner], crest[inner])[0, 1] for m in maps]))

    fill = classic_fill("gdal", image, hidden)
    assert follows(image) > 0.25
    drawn = np.mean([follows(speckle.speckle_fill(image, fill, hidden, seed=s)[0]) for s in range(3)])
    monkeypatch.setattr(speckle, "find_resampling_waves", lambda *_: ())
    without = np.mean([follows(speckle.speckle_fill(image, fill, hidden, seed=s)[0]) for s in range(3)])
    assert drawn > 0.07
    assert drawn > without + 0.05


def test_the_draw_keeps_its_lag1_correlations_with_the_width_varying_and_a_wave(rng: np.random.Generator) -> None:
    params = speckle.SpeckleParams(5.0, 0.7, 0.6, 0.0, 0.0, 2.0, 0, response_spread=0.2)
    for waves in ((), (WAVE,)):
        g = speckle.draw_gaussian(rng, params, (SIZE, SIZE), waves)
        assert speckle._axis_lag1(g, 0) == pytest.approx(0.7, abs=0.02)
        assert speckle._axis_lag1(g, 1) == pytest.approx(0.6, abs=0.02)


def test_the_response_spread_is_measured_on_the_ring() -> None:
    """Grain simulated with a known spread, around the real tile's hole with its wave: the ring's
    estimate finds it (0 stays near 0, 0.3 is told from 0.1); without the wave there is no spread."""
    image = read_raster(REAL_S1).db().astype(np.float64)
    hidden = release_box(image.shape[1:])
    waves = find_resampling_waves(image, hidden)
    known = ~hidden
    params, _, field, ring = speckle._estimate_around(image[0], hidden, speckle.PATCH, GRAIN)
    looks = speckle.simulated_looks(params.looks)

    def estimate(true: float, seed: int) -> float:
        widths = speckle.drawn_widths(params.rho_rows, params.rho_cols, looks, waves, true, GRAIN.response_scale)
        rng = np.random.default_rng(seed)
        draw = speckle._resampled_log_intensity(rng, widths, looks, hidden.shape, waves, true, GRAIN.response_scale)
        grain = speckle.grain_field(np.where(known, draw * 10 / np.log(10), np.nan), ring, params.rho_rows,
                                    params.rho_cols)  # fmt: skip
        return speckle.estimate_response_spread(grain, ring, known, params, waves, GRAIN)

    none, some, more = (np.mean([estimate(true, 100 + k) for k in range(2)]) for true in (0.0, 0.1, 0.3))
    assert none < 0.08 and more > 0.2 and more > some + 0.1
    assert 0 < speckle.estimate_response_spread(field, ring, known, params, waves, GRAIN) < GRAIN.max_response_spread
    assert speckle.estimate_response_spread(field, ring, known, params, (), GRAIN) == 0.0
