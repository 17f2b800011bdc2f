"""The forensic audit: an untouched hole passes, obvious edits are found, and the statistics are right."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_tif
from scipy import ndimage

from sardip.audit import DETECTORS, audit, baseline, roc_auc, verdict, window_enl
from sardip.audit.stage import class_means
from sardip.cli import main
from sardip.demo import correlated_speckle
from sardip.fill import classic_fill
from sardip.geotiff import read_raster
from sardip.masks import release_box, ring_mask

REAL_S1 = Path(__file__).resolve().parent / "data" / "sen12ms_real" / "ROIs1158_spring_s1_1_p30.tif"


def _value(table, metric: str, subject: str = "result", band: str = "VV") -> float:
    rows = table[(table.metric == metric) & (table.subject == subject) & (table.band == band)]
    return float(rows["value"].iloc[0])


@pytest.fixture(scope="module")
def real() -> tuple[np.ndarray, np.ndarray]:
    image = read_raster(REAL_S1).db()
    return image, release_box(image.shape[1:])


def test_ring_is_known_and_about_the_hole_area(real: tuple[np.ndarray, np.ndarray]) -> None:
    _, hidden = real
    ring = ring_mask(hidden, np.ones_like(hidden))
    assert not (ring & hidden).any()
    assert hidden.sum() <= ring.sum() < 1.1 * hidden.sum()


def test_roc_auc() -> None:
    assert roc_auc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 1.0
    assert roc_auc(np.array([1.0]), np.array([1.0])) == 0.5


def test_hole_refilled_with_the_original_scores_like_the_untouched_image(real: tuple[np.ndarray, np.ndarray]) -> None:
    image, hidden = real
    table = audit(image, image.copy(), hidden)
    for band in ("VV", "VH"):
        for name in DETECTORS:
            assert _value(table, f"auc_{name}_max", "result", band) == _value(
                table, f"auc_{name}_max", "original", band
            )
        assert _value(table, f"auc_{next(iter(DETECTORS))}_max", "original", band) < 0.65
        assert _value(table, "hole_correlation", band=band) == pytest.approx(1.0)
    checks = verdict(table)
    assert (checks["auc_result"] == checks["auc_original"]).all() and np.allclose(checks["enl_ratio_factor"], 1)
    assert not checks["ok_correlation"].any()  # the target is still there


def test_a_baseline_judges_each_result_as_a_whole_audit_would(
    real: tuple[np.ndarray, np.ndarray], rng: np.random.Generator
) -> None:
    image = real[0][:, :96, :96]
    hidden = np.zeros(image.shape[1:], bool)
    hidden[40:60, 30:52] = True
    noisy = np.where(hidden, image + rng.normal(0, 2, image.shape), image)
    gap = noisy.copy()
    gap[1, 38, 40] = np.nan  # a result without a value in the ring: its own hole and ring
    against = baseline(image, hidden)
    for result in (image.copy(), noisy, gap):
        pd.testing.assert_frame_equal(against.judge(result), audit(image, result, hidden))


def test_constant_fill_is_found(real: tuple[np.ndarray, np.ndarray]) -> None:
    image, hidden = real
    result = image.copy()
    ring = ring_mask(hidden, np.ones_like(hidden))
    for band in range(2):
        result[band][hidden] = image[band][ring].mean()
    table = audit(image, result, hidden)
    assert _value(table, "auc_cv_max") > 0.9 and _value(table, "epi_hole") == 0
    assert not verdict(table)["ok"].any()


def test_iid_speckle_next_to_correlated_speckle_is_found_by_the_grain_detector(rng: np.random.Generator) -> None:
    size = 127
    hidden = np.zeros((size, size), bool)
    hidden[40:88, 35:83] = True
    correlated = 10 * np.log10(np.stack([correlated_speckle(rng, (size, size), 4, 1.0) for _ in range(2)])) - 10
    iid = 10 * np.log10(rng.gamma(4, 1 / 4, (2, size, size))) - 10
    result = np.where(hidden, iid, correlated)
    table = audit(correlated, result, hidden)
    assert _value(table, "auc_lag1_max") > 0.9
    assert _value(table, "auc_lag1_max", "original") < 0.65


def test_enl_of_speckle_with_known_looks(rng: np.random.Generator) -> None:
    intensity = rng.gamma(5, 1 / 5, (101, 101))
    assert window_enl(intensity, np.ones((101, 101), bool), 25) == pytest.approx(5, rel=0.1)


def test_audit_cli_json(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "constant.tif"
    argv = [str(REAL_S1), "--mask", "release", "-o", str(path), "--method", "constant", "--accept-detectable"]
    assert main(["inpaint", *argv]) == 0
    capsys.readouterr()
    assert main(["audit", str(REAL_S1), str(path), "--mask", "release", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["audit"]["VV"]["result"]["auc_cv_max"] > 0.9
    assert [r["ok"] for r in report["verdict"]] == [False, False]


@pytest.mark.parametrize(
    ("mask", "message"),
    [("box:10,11,10,11", "holds no 5x5 px square"), ("box:0,256,0,254", "leaving 512 known pixels for the ring")],
)
def test_areas_too_small_or_too_large_to_audit_are_refused(
    capsys: pytest.CaptureFixture, mask: str, message: str
) -> None:
    assert main(["audit", str(REAL_S1), str(REAL_S1), "--mask", mask]) == 2
    assert message in capsys.readouterr().err


def _speckle_db(rng: np.random.Generator, size: int, looks: int = 4, corr: float = 1.0) -> np.ndarray:
    """(2, size, size) dB bands of correlated speckle (``corr`` px; 0 = independent pixels)."""
    return np.stack([10 * np.log10(correlated_speckle(rng, (size, size), looks, corr)) - 8 for _ in range(2)])


def _max_auc(table, subject: str = "result") -> dict[str, float]:
    return {name: max(_value(table, f"auc_{name}_max", subject, band) for band in ("VV", "VH")) for name in DETECTORS}


def test_every_detector_is_in_the_registry_with_its_windows() -> None:
    assert set(DETECTORS) == {"cv", "lag1", "cooc", "cooc5", "ratio", "seam", "learned"}
    assert all(d.windows and d.description for d in DETECTORS.values())


def test_an_untouched_image_scores_about_one_half_for_random_holes(rng: np.random.Generator) -> None:
    """Four holes in each of three images: the learned detector's logit varies slowly across an image,
    so the holes of one image are not independent draws (one image gave it 0.70 for all four). Its
    score is one-sided, so chance lands on either side of 0.5."""
    scores = []
    for _ in range(3):
        image = _speckle_db(rng, 160)
        for r, c in rng.integers(20, 100, (4, 2)):
            hidden = np.zeros((160, 160), bool)
            hidden[r : r + 40, c : c + 40] = True
            scores.append(_max_auc(audit(image, image.copy(), hidden), "original"))
    for name, detector in DETECTORS.items():
        mean = np.mean([s[name] for s in scores])
        assert (0.35 if detector.one_sided else 0.5) <= mean < 0.65, name


def test_a_pasted_copy_of_a_distant_patch_is_found_by_the_seam(rng: np.random.Generator) -> None:
    image = _speckle_db(rng, 160)
    hidden = np.zeros((160, 160), bool)
    hidden[60:100, 60:100] = True
    result = image.copy()
    result[:, 60:100, 60:100] = image[:, 5:45, 110:150]  # real grain, but none of it continues across the edge
    table = audit(image, result, hidden)
    checks = verdict(table)
    assert _max_auc(table)["seam"] > 0.75 and _max_auc(table, "original")["seam"] < 0.65
    assert set(checks["detector"]) == {"seam"} and not checks["ok_auc"].all()  # found in VV, VH at its limit


def test_independent_grain_next_to_correlated_grain_is_found_by_the_residual_cooccurrences(
    rng: np.random.Generator,
) -> None:
    image = _speckle_db(rng, 160)
    hidden = np.zeros((160, 160), bool)
    hidden[60:100, 60:100] = True
    table = audit(image, np.where(hidden, _speckle_db(rng, 160, corr=0), image), hidden)
    assert _max_auc(table)["cooc"] > 0.95 and _max_auc(table, "original")["cooc"] < 0.7


@pytest.mark.parametrize("method", ["constant", "biharmonic"])
def test_smooth_fills_of_the_real_tile_are_found_by_the_residual_cooccurrences(
    real: tuple[np.ndarray, np.ndarray], method: str
) -> None:
    """With the inverse of the features' whole covariance, whose directions off the histograms' sphere
    are close to singular, these scored 0.33-0.99 (constant) and 0.71 (biharmonic, like the untouched
    image)."""
    image, hidden = real
    table = audit(image, classic_fill(method, image, hidden), hidden)
    assert _max_auc(table)["cooc"] > 0.95 and _max_auc(table, "original")["cooc"] < 0.8


def test_grain_of_the_wrong_fine_structure_is_found_by_the_fine_cooccurrences(
    real: tuple[np.ndarray, np.ndarray],
) -> None:
    """The real tile's hole as its own background (2 px low-pass) with 6-look speckle through Gaussian
    impulse responses of 1.35 px (its lag-1, 0.74, the ring's) scaled to the ring's grain spread: it
    lacks the real grain's runs of large residuals of alternating sign, and the hole's windows are more
    alike than real ones. Five levels see it, three do not (the fill is crude, without the ring's
    marginal or a grain continued across the edge, so ``cv`` and ``seam`` see it too)."""
    image, hidden = real
    ring = ring_mask(hidden, np.ones_like(hidden))
    grains = _speckle_db(np.random.default_rng(3), hidden.shape[0], looks=6, corr=1.35)
    result = image.copy()
    for band, grain in enumerate(grains):
        background = ndimage.gaussian_filter(image[band], 2.0)
        spread = (image[band] - background)[ring].std()
        result[band] = np.where(hidden, background + (grain - grain.mean()) * spread / grain.std(), image[band])
    table = audit(image, result, hidden)
    assert _max_auc(table)["cooc5"] > 0.75 and _max_auc(table, "original")["cooc5"] < 0.68
    assert _max_auc(table)["cooc"] < _max_auc(table, "original")["cooc"] + 0.05


def test_speckle_of_the_wrong_looks_is_found_by_the_ratio_test(rng: np.random.Generator) -> None:
    image = _speckle_db(rng, 160)
    hidden = np.zeros((160, 160), bool)
    hidden[60:100, 60:100] = True
    table = audit(image, np.where(hidden, _speckle_db(rng, 160, looks=1), image), hidden)
    assert _max_auc(table)["ratio"] > 0.95 and _max_auc(table, "original")["ratio"] < 0.7


def test_class_means_take_the_largest_mean_excess_not_the_mean_of_each_rows_largest() -> None:
    figures = {"enl_ratio_factor": 1.0, "epi_hole": 1.0, "hole_correlation": 0.0, "ok": True}
    rows = pd.DataFrame({"tile_id": ["a", "b"], "land_cover": "Forest", **figures})
    rows = rows.assign(**{f"excess_{d}": -0.1 for d in DETECTORS})
    rows["excess_cv"] = [0.04, -0.12]
    rows["excess_seam"] = [-0.06, 0.02]
    means = class_means(rows, ["land_cover"]).iloc[0]
    assert means["detector"] == "seam" and means["auc_excess"] == pytest.approx(-0.02) and means["meets_targets"]


def _write_pair(folder: Path, original: np.ndarray, result: np.ndarray) -> tuple[str, str]:
    return str(write_tif(folder / "original.tif", original.astype(np.float32))), str(
        write_tif(folder / "result.tif", result.astype(np.float32))
    )


def test_audit_check_is_a_gate_naming_the_detector_band_and_value(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A perfect fill (a fresh draw of the speckle) passes, a smooth one fails naming what it missed. The
    hole is 128 px: on a 64 px hole the learned detector, whose logit varies over its 35 px receptive
    field, gave a perfect fill excesses of -0.16 to +0.24 over four draws; at 128 px -0.08 to +0.05."""
    rng = np.random.default_rng(2)
    original = np.stack([10 * np.log10(rng.gamma(4, 1 / 4, (384, 384))) - 8 for _ in range(2)])
    fresh = np.stack([10 * np.log10(rng.gamma(4, 1 / 4, (384, 384))) - 8 for _ in range(2)])
    mask = "box:128,256,128,256"
    hidden = np.zeros((384, 384), bool)
    hidden[128:256, 128:256] = True
    original_path, fresh_path = _write_pair(tmp_path / "fresh", original, np.where(hidden, fresh, original))
    assert main(["audit", original_path, fresh_path, "--mask", mask, "--check"]) == 0
    smooth = np.where(hidden, original[:, ~hidden].mean(axis=1)[:, None, None], original)
    _, smooth_path = _write_pair(tmp_path / "smooth", original, smooth)
    capsys.readouterr()
    assert main(["audit", original_path, smooth_path, "--mask", mask, "--check", "--json"]) == 1
    err = capsys.readouterr().err
    assert "band VV: detector" in err and "band VH: detector" in err and "excess" in err and "EPI in the hole" in err
