"""Speckle-consistent filling: estimated looks and correlation, synthesis, and the fill itself."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage, special

from sardip.demo import correlated_speckle
from sardip.dip.presets import get_preset
from sardip.grain import GRAIN
from sardip.masks import ring_mask
from sardip.speckle import (
    SpeckleParams,
    draw_grain,
    estimate_speckle,
    fill_background_db,
    grain_deficit,
    grain_field,
    grain_spread,
    log_intensity_corr,
    response_for_lag1,
    speckle_fill,
)

LOOKS, CORR_SIGMA, SIZE = 4, 0.8, 161


def _lag1(a: np.ndarray) -> float:
    """Lag-1 correlation of a field, rows and columns pooled."""
    x = np.concatenate([a[:, 1:].ravel(), a[1:, :].ravel()])
    y = np.concatenate([a[:, :-1].ravel(), a[:-1, :].ravel()])
    return float(np.corrcoef(x, y)[0, 1])


def _scene(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reflectivity dB (2, H, W), speckle (2, H, W), hidden (H, W)): a smooth ramp, correlated speckle."""
    ramp = np.linspace(-16, -8, SIZE)[None, :] + np.zeros((SIZE, 1))
    reflectivity = np.stack([ramp, ramp - 6])
    speckle = np.stack([correlated_speckle(rng, (SIZE, SIZE), LOOKS, CORR_SIGMA) for _ in range(2)])
    hidden = np.zeros((SIZE, SIZE), bool)
    hidden[50:111, 40:101] = True
    return reflectivity, speckle, hidden


def log_bias_db(looks: float) -> float:
    """Mean of ``10 log10 S`` for S ~ Gamma(L, 1/L): where a perfect fit of the dB mean sits below the reflectivity."""
    return float(10 / np.log(10) * (special.digamma(looks) - np.log(looks)))


def test_estimate_recovers_looks_and_correlation(rng: np.random.Generator) -> None:
    speckle = correlated_speckle(rng, (SIZE, SIZE), LOOKS, CORR_SIGMA)
    params = estimate_speckle(speckle * 0.05, np.ones((SIZE, SIZE), bool))
    assert params.looks == pytest.approx(LOOKS, rel=0.15)
    truth = _lag1(speckle)
    assert params.rho_rows == pytest.approx(truth, rel=0.15)
    assert params.rho_cols == pytest.approx(truth, rel=0.15)


def test_log_intensity_correlation_is_the_dilogarithm_for_one_look_and_matches_simulated_looks(
    rng: np.random.Generator,
) -> None:
    """One look: ``Li2(r) / zeta(2)`` (Li2(1/2) = pi^2/12 - ln(2)^2/2); four looks: pairs of simulated
    complex Gaussians with correlation 0.8 (r = 0.64)."""
    li2_half = np.pi**2 / 12 - np.log(2) ** 2 / 2
    assert float(log_intensity_corr(0.5, 1)) == pytest.approx(li2_half / (np.pi**2 / 6), abs=1e-3)
    assert float(log_intensity_corr(0.0, 4)) == 0.0 and float(log_intensity_corr(1.0, 4)) == pytest.approx(1.0)
    z = rng.standard_normal((2, 200_000, 4)) + 1j * rng.standard_normal((2, 200_000, 4))
    w = 0.8 * z[0] + 0.6 * z[1]
    logs = np.log((np.abs(z[0]) ** 2).sum(axis=1)), np.log((np.abs(w) ** 2).sum(axis=1))
    assert float(log_intensity_corr(0.64, 4)) == pytest.approx(np.corrcoef(*logs)[0, 1], abs=0.01)


def _extrema_sharpness(db: np.ndarray) -> float:
    """Mean |discrete Laplacian| at strict local minima over that at maxima (4-neighbours)."""
    lap = db[:-2, 1:-1] + db[2:, 1:-1] + db[1:-1, :-2] + db[1:-1, 2:] - 4 * db[1:-1, 1:-1]
    centre = db[1:-1, 1:-1]
    neighbours = np.stack([db[:-2, 1:-1], db[2:, 1:-1], db[1:-1, :-2], db[1:-1, 2:]])
    minima, maxima = (centre < neighbours).all(axis=0), (centre > neighbours).all(axis=0)
    return float(np.abs(lap[minima]).mean() / np.abs(lap[maxima]).mean())


def test_draw_keeps_the_grain_marginal_and_the_speckle_structure(rng: np.random.Generator) -> None:
    """The marginal is the sample's, the lag-1 correlation the target's, and, as in real speckle (the
    demo generator's), the fades are sharper than the peaks, which a Gaussian copula does not give."""
    grain = np.sort(10 * np.log10(rng.gamma(4.4, 1 / 4.4, 5000)))
    sigma = response_for_lag1(0.5, 4)
    field = draw_grain(rng, grain, SpeckleParams(4.4, 0.5, 0.5, sigma, sigma, float(grain.std()), 0), (256, 256))
    intensity = 10 ** (field / 10)
    assert intensity.mean() == pytest.approx(1.0, abs=0.03)
    assert intensity.mean() ** 2 / intensity.var() == pytest.approx(4.4, rel=0.1)
    assert np.quantile(field, [0.05, 0.5, 0.95]) == pytest.approx(np.quantile(grain, [0.05, 0.5, 0.95]), abs=0.2)
    assert _lag1(field) == pytest.approx(0.5, abs=0.03)
    real = 10 * np.log10(correlated_speckle(rng, (256, 256), 4, sigma))
    assert _lag1(real) == pytest.approx(0.5, abs=0.03)
    assert _extrema_sharpness(real) > 1.4
    assert _extrema_sharpness(field) == pytest.approx(_extrema_sharpness(real), rel=0.1)


def test_fill_carries_the_bright_scatterers_of_a_textured_ring(rng: np.random.Generator) -> None:
    """A town: 3 % of the pixels are point scatterers 15 dB above their street. The fill gets about as
    many bright pixels as the ring; L-look speckle alone would give almost none."""
    reflectivity, speckle, hidden = _scene(rng)
    points = rng.random(hidden.shape) < 0.03
    image = (reflectivity + 15 * points + 10 * np.log10(speckle)).astype(np.float32)
    out, _ = speckle_fill(image, np.where(hidden, reflectivity + log_bias_db(LOOKS), image), hidden, seed=3)
    for band in range(2):
        above = out[band] - reflectivity[band] > 10
        assert above[hidden].mean() == pytest.approx(above[~hidden].mean(), rel=0.5)
        assert above[~hidden].mean() > 0.02


def test_fill_restores_looks_and_correlation_and_keeps_known_pixels(rng: np.random.Generator) -> None:
    reflectivity, speckle, hidden = _scene(rng)
    image = (reflectivity + 10 * np.log10(speckle)).astype(np.float32)
    image[1, :3, :] = np.nan  # nodata stays nodata
    fill = reflectivity + log_bias_db(LOOKS)  # what a perfect fit of the dB mean gives
    out, params = speckle_fill(image, fill, hidden, seed=7)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[:, ~hidden].view(np.uint32), image[:, ~hidden].view(np.uint32))
    for band in range(2):
        synthetic = 10 ** ((out[band] - reflectivity[band]) / 10)[50:111, 40:101]
        real = speckle[band][50:111, 40:101]
        assert synthetic.mean() == pytest.approx(1.0, abs=0.08)
        assert synthetic.mean() ** 2 / synthetic.var() == pytest.approx(real.mean() ** 2 / real.var(), rel=0.15)
        assert _lag1(synthetic) == pytest.approx(_lag1(speckle[band]), rel=0.15)
        assert params[band].looks == pytest.approx(LOOKS, rel=0.15)
    again, _ = speckle_fill(image, fill, hidden, seed=7)
    other, _ = speckle_fill(image, fill, hidden, seed=8)
    np.testing.assert_array_equal(again.view(np.uint32), out.view(np.uint32))
    assert not np.array_equal(other[:, hidden], out[:, hidden])


def test_a_fill_with_fine_structure_gets_only_the_grain_it_lacks(rng: np.random.Generator) -> None:
    """A textured scene (4 dB of texture at 2 px) and the fill a perfect fit of it gives: part of the
    texture passes the low-pass, the drawn grain makes up the rest, so the hole's grain spread is the
    ring's (a full grain on top would add the two: 5 % too much spread here). A smooth fill gets all of it."""
    reflectivity, speckle, hidden = _scene(rng)
    texture = ndimage.gaussian_filter(rng.standard_normal(hidden.shape), 2.0)
    reflectivity = reflectivity + 4 * texture / texture.std()
    image = (reflectivity + 10 * np.log10(speckle)).astype(np.float32)
    fill = reflectivity + log_bias_db(LOOKS)
    out, params = speckle_fill(image, fill, hidden, seed=7)
    ring = ring_mask(hidden, ~hidden, 4.0)
    inner = np.zeros_like(hidden)
    inner[56:105, 46:95] = True  # the hole less its seam band, where the grain is conditioned
    for band in range(2):
        rho = (params[band].rho_rows, params[band].rho_cols)
        grain = grain_field(np.where(hidden, np.nan, image[band]).astype(np.float64), ring, *rho)
        grain = np.sort(grain[ring & np.isfinite(grain)])
        factor = grain_deficit(fill_background_db(fill[band]), hidden, params[band])
        assert 0.8 < factor < 0.97
        assert params[band].grain_factor == pytest.approx(factor)  # recorded for the provenance tags
        assert grain_deficit(np.zeros_like(fill[band]), hidden, params[band]) == 1.0
        filled = grain_field(np.where(hidden, out[band], np.nan), hidden, *rho)[inner]
        assert filled.std() == pytest.approx(grain.std(), rel=0.04)


def test_fill_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="do not match"):
        speckle_fill(np.zeros((2, 8, 8)), np.zeros((2, 8, 9)), np.zeros((8, 8), bool), 0)


def _across_boundary(field: np.ndarray, hidden: np.ndarray) -> float:
    """Correlation of the pairs of horizontal neighbours with one pixel hidden and the other known."""
    left, right = field[:, :-1], field[:, 1:]
    crossing = hidden[:, :-1] != hidden[:, 1:]
    return float(np.corrcoef(left[crossing], right[crossing])[0, 1])


def test_the_drawn_grain_continues_the_real_grain_across_the_boundary(rng: np.random.Generator) -> None:
    """Without the conditioning the pairs that straddle the boundary are independent (a seam)."""
    reflectivity, speckle, hidden = _scene(rng)
    image = (reflectivity + 10 * np.log10(speckle)).astype(np.float32)
    out, _ = speckle_fill(image, reflectivity + log_bias_db(LOOKS), hidden, seed=7)
    for band in range(2):
        real = _across_boundary(10 * np.log10(speckle[band]), hidden)
        assert real > 0.3
        assert _across_boundary(out[band] - reflectivity[band], hidden) == pytest.approx(real, abs=0.12)


def test_the_grain_spread_follows_the_ring_side_by_side(rng: np.random.Generator) -> None:
    """Left of the hole 1-look speckle, right of it 16 looks: each side of the fill takes its own side's
    grain spread (a stationary grain would give both halves the mix), and a stationary ring gives 1."""
    reflectivity, _, hidden = _scene(rng)
    columns = np.arange(SIZE)[None, :] < 70  # the hole spans columns 40-100
    speckle = np.stack([np.where(columns, correlated_speckle(rng, (SIZE, SIZE), 1, CORR_SIGMA),
                                 correlated_speckle(rng, (SIZE, SIZE), 16, CORR_SIGMA)) for _ in range(2)])  # fmt: skip
    image = (reflectivity + 10 * np.log10(speckle)).astype(np.float32)
    out, _ = speckle_fill(image, reflectivity + log_bias_db(4), hidden, seed=5)
    grain = (out - reflectivity)[:, 55:106]
    real = 10 * np.log10(speckle)[:, 55:106]
    for band in range(2):
        ratio_fill = grain[band, :, 45:60].std() / grain[band, :, 80:95].std()
        ratio_real = real[band, :, 45:60].std() / real[band, :, 80:95].std()
        assert ratio_real > 3
        assert ratio_fill > 0.6 * ratio_real
    flat = np.where(hidden, np.nan, 10 * np.log10(correlated_speckle(rng, (SIZE, SIZE), LOOKS, CORR_SIGMA)))
    ring = ring_mask(hidden, ~hidden, 4.0)
    spread = grain_spread(flat, ring, hidden)[hidden]
    assert spread.mean() == pytest.approx(1.0, abs=0.05) and spread.std() < 0.05


def test_the_grain_model_is_in_the_hash_of_the_preset_that_adds_speckle() -> None:
    credible, paper = get_preset("credible"), get_preset("paper", "Forest")
    wider = credible.replace(grain=GRAIN.replace(fill_sigma=3.0))
    assert wider.config_hash() != credible.config_hash() and wider.to_dict()["grain"]["fill_sigma"] == 3.0
    assert "grain" not in paper.to_dict()  # a preset without speckle: the grain model shapes nothing
    assert GRAIN.replace(max_response_spread=0.2).config_hash() != GRAIN.config_hash()
    with pytest.raises(ValueError, match="max_response_spread"):
        GRAIN.replace(max_response_spread=1.5)


def test_a_grain_model_given_as_a_parameter_changes_the_fill(rng: np.random.Generator) -> None:
    image = np.stack([10 * np.log10(correlated_speckle(rng, (96, 96), 4, 0.8)) - 8 for _ in range(2)])
    hidden = np.zeros((96, 96), bool)
    hidden[30:60, 30:60] = True
    fill = np.where(hidden, -8.0, image)
    same, _ = speckle_fill(image, fill, hidden, seed=3)
    again, _ = speckle_fill(image, fill, hidden, seed=3, grain=GRAIN)
    other, _ = speckle_fill(image, fill, hidden, seed=3, grain=GRAIN.replace(seam_band=0))
    np.testing.assert_array_equal(same, again)
    assert not np.array_equal(same, other) and np.array_equal(same[:, ~hidden], other[:, ~hidden])
