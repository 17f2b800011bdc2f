"""Known answers of the credibility metrics, region handling, file reading and the ``metrics`` command."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import torch
from conftest import REAL_S1, write_tif
from pytorch_msssim import ms_ssim, ssim
from scipy.ndimage import uniform_filter

from sardip.cli import main
from sardip.metrics import (
    COLUMNS,
    METRICS,
    SCENARIOS,
    db_to_unit,
    nia_ssim,
    summarise,
    tile_metrics,
    tile_metrics_files,
)


def value(frame: pd.DataFrame, metric: str, scenario: str, band: str = "VV") -> float:
    row = frame[(frame["metric"] == metric) & (frame["scenario"] == scenario) & (frame["band"] == band)]
    assert len(row) == 1
    return float(row["value"].iloc[0])


def speckled(rng: np.random.Generator, shape: tuple[int, ...], looks: float) -> np.ndarray:
    """dB image of a smooth reflectivity times Gamma(L, 1/L) intensity speckle."""
    reflectivity = 10 ** (np.linspace(-15, -8, shape[-1]) / 10)
    intensity = reflectivity * rng.gamma(looks, 1 / looks, size=shape)
    return (10 * np.log10(intensity)).astype(np.float32)


@pytest.fixture
def real() -> np.ndarray:
    with rasterio.open(REAL_S1) as src:
        return src.read().astype(np.float32)


def hole(shape: tuple[int, int], rows: slice, cols: slice) -> np.ndarray:
    hidden = np.zeros(shape, dtype=bool)
    hidden[rows, cols] = True
    return hidden


def test_table_layout(rng: np.random.Generator) -> None:
    image = speckled(rng, (2, 64, 64), 4)
    frame = tile_metrics(image, image, hole((64, 64), slice(20, 44), slice(20, 44)))
    assert tuple(frame.columns) == COLUMNS
    assert len(frame) == 2 * len(SCENARIOS) * len(METRICS)
    assert frame["ms_ssim_scales"].notna().sum() == 2 * len(SCENARIOS)
    assert frame["method"].str.len().min() > 10


@pytest.mark.parametrize("shape", [(2, 256, 256), (2, 37, 31)])
def test_identical_images_score_perfectly(rng: np.random.Generator, shape: tuple[int, ...]) -> None:
    image = speckled(rng, shape, 4.4)
    hidden = hole(shape[1:], slice(20, 34), slice(12, 28))
    frame = tile_metrics(image, image, hidden)
    for metric in ("ssim", "ms_ssim", "epi"):
        np.testing.assert_allclose(frame.loc[frame["metric"] == metric, "value"], 1.0, atol=1e-9)
    np.testing.assert_allclose(frame.loc[frame["metric"] == "enl_rel_change", "value"], 0.0, atol=1e-12)


def test_full_image_matches_pytorch_msssim(real: np.ndarray, rng: np.random.Generator) -> None:
    result = real + rng.normal(0, 1.5, real.shape).astype(np.float32)
    frame = tile_metrics(real, result, hole((256, 256), slice(92, 156), slice(179, 243)))
    # pytorch-msssim builds its window in float32, hence agreement to 1e-5 rather than 1e-9
    for b, band in enumerate(("VV", "VH")):
        x = torch.from_numpy(db_to_unit(real[b : b + 1]).astype(np.float64))[None]
        y = torch.from_numpy(db_to_unit(result[b : b + 1]).astype(np.float64))[None]
        assert value(frame, "ssim", "FI", band) == pytest.approx(float(ssim(x, y, data_range=1)), abs=1e-5)
        assert value(frame, "ms_ssim", "FI", band) == pytest.approx(float(ms_ssim(x, y, data_range=1)), abs=1e-5)
    fi_ms = frame[(frame["metric"] == "ms_ssim") & (frame["scenario"] == "FI")]
    assert (fi_ms["ms_ssim_scales"] == 5).all() and (fi_ms["ms_ssim_win"] == 11).all()


def test_change_inside_hole_only_leaves_known_pixels_perfect(real: np.ndarray) -> None:
    hidden = hole((256, 256), slice(92, 156), slice(179, 243))
    result = real.copy()
    result[:, hidden] = uniform_filter(real, size=(1, 7, 7))[:, hidden]
    frame = tile_metrics(real, result, hidden)
    for band in ("VV", "VH"):
        for metric in ("ssim", "ms_ssim", "epi"):
            assert value(frame, metric, "NIA", band) == pytest.approx(1.0, abs=1e-9)
        assert value(frame, "enl_rel_change", "NIA", band) == pytest.approx(0.0, abs=1e-12)
        assert value(frame, "ssim", "FI", band) < 1
        assert value(frame, "ssim", "OIA", band) < value(frame, "ssim", "FI", band)
        # smoothing removes edges and speckle: EPI falls, ENL rises, inside the hole
        assert value(frame, "epi", "OIA", band) < 0.5
        assert value(frame, "enl_result", "OIA", band) > 2 * value(frame, "enl_original", "OIA", band)
    # the real tile's hole holds 4 full 25 px patches, ENL of intensity about 5.6 (REFERENCE section 5)
    assert value(frame, "enl_original", "OIA") == pytest.approx(5.6, abs=0.3)
    assert frame.loc[(frame["metric"] == "enl_original") & (frame["scenario"] == "OIA"), "support"].eq(4).all()


def test_nia_ssim_is_the_tables_nia_ssim(real: np.ndarray, rng: np.random.Generator) -> None:
    """The convergence filter's measure: the same number as the table's NIA SSIM, per band; 1 for a
    composite that keeps the known pixels, below 1 for an output that only approximates them."""
    hidden = hole((256, 256), slice(92, 156), slice(179, 243))
    generated = (real + rng.normal(0, 1.0, real.shape)).astype(np.float32)
    frame = tile_metrics(real, generated, hidden)
    expected = [value(frame, "ssim", "NIA", band) for band in ("VV", "VH")]
    np.testing.assert_allclose(nia_ssim(real, generated, hidden), expected, rtol=0, atol=1e-12)
    assert max(expected) < 0.99
    published = np.where(hidden, generated, real)
    np.testing.assert_allclose(nia_ssim(real, published, hidden), 1.0, atol=1e-9)


def test_blur_lowers_epi(rng: np.random.Generator) -> None:
    image = speckled(rng, (2, 96, 96), 4.4)
    blurred = uniform_filter(image, size=(1, 3, 3)).astype(np.float32)
    frame = tile_metrics(image, blurred, hole((96, 96), slice(30, 70), slice(30, 70)))
    for scenario in SCENARIOS:
        assert 0 < value(frame, "epi", scenario) < 0.8


@pytest.mark.parametrize("looks", [1.0, 4.0])
def test_enl_of_gamma_speckle_is_the_number_of_looks(rng: np.random.Generator, looks: float) -> None:
    image = 10 * np.log10(rng.gamma(looks, 1 / looks, size=(2, 200, 200))).astype(np.float32)
    frame = tile_metrics(image, image, hole((200, 200), slice(50, 150), slice(50, 150)))
    for scenario in ("FI", "OIA"):
        assert value(frame, "enl_original", scenario) == pytest.approx(looks, rel=0.1)


def test_small_hole_at_tile_edge_on_odd_size(rng: np.random.Generator) -> None:
    image = speckled(rng, (2, 37, 31), 4.4)
    result = image + rng.normal(0, 0.5, image.shape).astype(np.float32)
    hidden = hole((37, 31), slice(0, 12), slice(20, 31))  # corner, 12x11 px: smaller than an ENL patch
    frame = tile_metrics(image, result, hidden)
    oia_enl = frame[(frame["scenario"] == "OIA") & frame["metric"].str.startswith("enl")]
    assert oia_enl["fallback"].all() and oia_enl["support"].eq(1).all()
    assert not frame.loc[frame["scenario"] == "FI", "fallback"].any()
    assert value(frame, "ssim", "OIA") < 1 and frame.loc[frame["metric"] == "ssim", "support"].min() == 2
    scales = frame.loc[frame["metric"] == "ms_ssim"].set_index(["band", "scenario"])["ms_ssim_scales"]
    assert scales[("VV", "FI")] == 2 and scales[("VV", "OIA")] == 1
    assert frame["value"].notna().all()


def test_ms_ssim_on_64px_tiles_reduces_scales(rng: np.random.Generator) -> None:
    image = speckled(rng, (2, 64, 64), 4.4)
    result = image + rng.normal(0, 1, image.shape).astype(np.float32)
    frame = tile_metrics(image, result, hole((64, 64), slice(23, 39), slice(45, 61)))
    scales = frame.loc[frame["metric"] == "ms_ssim"].set_index(["band", "scenario"])["ms_ssim_scales"]
    assert scales[("VH", "FI")] == 3 and scales[("VH", "OIA")] == 1
    assert 0 < value(frame, "ms_ssim", "FI", "VH") < 1


def test_region_too_small_for_a_window_gives_nan(rng: np.random.Generator) -> None:
    image = speckled(rng, (2, 40, 40), 4.4)
    frame = tile_metrics(image, image, hole((40, 40), slice(10, 16), slice(10, 16)))
    assert np.isnan(value(frame, "ssim", "OIA")) and np.isnan(value(frame, "ms_ssim", "OIA"))
    assert value(frame, "epi", "OIA") == pytest.approx(1.0)


def test_a_one_pixel_mask_gives_documented_nans_without_warnings(capsys: pytest.CaptureFixture) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's divide-by-zero warning was printed here
        assert main(["metrics", str(REAL_S1), str(REAL_S1), "--mask", "box:10,11,10,11", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    oia = report["metrics"]["OIA"]["VV"]
    assert {k: oia[k] for k in ("ssim", "ms_ssim", "enl_original", "enl_result", "epi")} == dict.fromkeys(
        ("ssim", "ms_ssim", "enl_original", "enl_result", "epi")
    )  # NaN (null), never inf
    assert (
        "SSIM window" in report["notes"]["OIA/VV/ssim"]
        and "fewer than 2 pixels" in report["notes"]["OIA/VV/enl_result"]
    )
    assert report["metrics"]["FI"]["VV"]["ssim"] == pytest.approx(1.0)
    assert main(["metrics", str(REAL_S1), str(REAL_S1), "--mask", "box:10,11,10,11"]) == 0
    assert "enl_result OIA: NaN: the region has fewer than 2 pixels" in capsys.readouterr().out


def test_nan_pixels_are_left_out(rng: np.random.Generator) -> None:
    image = speckled(rng, (2, 64, 64), 4.4)
    image[:, :3, :] = np.nan
    frame = tile_metrics(image, image.copy(), hole((64, 64), slice(20, 44), slice(20, 44)))
    assert frame["value"].notna().all()
    np.testing.assert_allclose(frame.loc[frame["metric"] == "ssim", "value"], 1.0, atol=1e-9)


def test_shape_mismatch_is_refused(rng: np.random.Generator) -> None:
    image = speckled(rng, (2, 32, 32), 4.4)
    with pytest.raises(ValueError, match="must both be"):
        tile_metrics(image, image[:, :, :30], np.zeros((32, 32), bool))
    with pytest.raises(ValueError, match="hidden mask"):
        tile_metrics(image, image, np.zeros((31, 32), bool))
    with pytest.raises(ValueError, match="band names"):
        tile_metrics(image, image, np.zeros((32, 32), bool), bands=("VV",))


def perturbed_copy(path: Path, real: np.ndarray, rng: np.random.Generator) -> Path:
    with rasterio.open(REAL_S1) as src:
        profile = src.profile
    data = real.copy()
    data[:, 92:156, 179:243] += rng.normal(0, 2, (2, 64, 64)).astype(np.float32)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


def test_real_tile_files_against_perturbed_copy(tmp_path: Path, real: np.ndarray, rng: np.random.Generator) -> None:
    result = perturbed_copy(tmp_path / "result.tif", real, rng)
    frame = tile_metrics_files(REAL_S1, result, "release", "p30", "Forest")
    assert list(frame.columns[:2]) == ["tile_id", "land_cover"] and set(frame["band"]) == {"VV", "VH"}
    assert value(frame, "ssim", "NIA") == pytest.approx(1.0, abs=1e-9)
    assert value(frame, "ssim", "OIA") < 0.9
    assert value(frame, "epi", "OIA") > 1  # added noise adds gradient

    summary = summarise(pd.concat([frame, frame.assign(tile_id="p31")]))
    assert list(summary.columns) == ["land_cover", "band", "scenario", "metric", "mean", "std", "n"]
    assert summary["n"].eq(2).all() and summary["std"].abs().max() == pytest.approx(0.0)


def test_mismatched_grids_are_refused(tmp_path: Path, real: np.ndarray) -> None:
    other = write_tif(tmp_path / "other.tif", real)  # same size, other CRS and origin
    with pytest.raises(ValueError, match=r"other\.tif.*not on the same grid|not on the same grid.*other\.tif"):
        tile_metrics_files(REAL_S1, other, "release", "t", "Forest")
    assert main(["metrics", str(REAL_S1), str(other), "--mask", "release"]) == 2


def test_band_count_mismatch_is_refused(tmp_path: Path, real: np.ndarray) -> None:
    with rasterio.open(REAL_S1) as src:
        profile = {**src.profile, "count": 1}
    single = tmp_path / "single.tif"
    with rasterio.open(single, "w", **profile) as dst:
        dst.write(real[:1])
    with pytest.raises(ValueError, match="bands"):
        tile_metrics_files(REAL_S1, single, "release", "t", "Forest")


def test_cli_json_and_text(tmp_path: Path, real: np.ndarray, rng: np.random.Generator, capsys) -> None:
    result = perturbed_copy(tmp_path / "result.tif", real, rng)
    mask = tmp_path / "mask.tif"
    with rasterio.open(REAL_S1) as src:
        profile = {**src.profile, "count": 1, "dtype": "uint8"}
    known = np.ones((1, 256, 256), np.uint8)
    known[0, 92:156, 179:243] = 0
    with rasterio.open(mask, "w", **profile) as dst:
        dst.write(known)

    assert main(["metrics", str(REAL_S1), str(result), "--mask", str(mask), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["metrics"]) == set(SCENARIOS)
    assert set(out["metrics"]["OIA"]["VH"]) == set(METRICS)
    assert out["metrics"]["NIA"]["VV"]["ssim"] == pytest.approx(1.0)
    assert out["ms_ssim_scales"]["OIA/VV"] == 3

    # inverted, the file marks the known area as the target: NIA is now the old hole
    assert main(["metrics", str(REAL_S1), str(result), "--mask", str(mask), "--invert-mask"]) == 0
    text = capsys.readouterr().out
    assert "ms_ssim" in text and "VH" in text and "NIA" in text
