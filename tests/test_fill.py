"""The fill registry: every classic baseline on the real tile, speckle on top, and the ``credible`` preset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch

from sardip.audit.stage import compare_tile, comparison, curve_table, snapshot_curve
from sardip.dip.presets import PRESETS, get_preset
from sardip.experiments import tile_masks
from sardip.figures import fig_audit_curve, fig_audit_methods
from sardip.fill import METHODS, FillError, classic_fill, parse_variant, paste, paste_db
from sardip.fill.spec import FillSpec
from sardip.geotiff import from_db, read_raster
from sardip.grain import CLASSIC_GRAIN, GRAIN
from sardip.inpaint import FitSettings, InpaintError, OutputPaths, inpaint_file
from sardip.masks import release_box, ring_mask
from sardip.scene.settings import SceneSettings
from sardip.seeds import tile_seed

REAL_S1 = Path(__file__).resolve().parent / "data" / "sen12ms_real" / "ROIs1158_spring_s1_1_p30.tif"

torch.set_num_threads(1)
CLASSIC = [name for name, method in METHODS.items() if not method.is_dip]


@pytest.fixture(scope="module")
def real() -> tuple[np.ndarray, np.ndarray]:
    image = read_raster(REAL_S1).db()
    image[1, :4, :] = np.nan  # a nodata strip in VH
    return image, release_box(image.shape[1:])


@pytest.mark.parametrize("name", CLASSIC)
def test_each_baseline_on_the_real_tile(name: str, real: tuple[np.ndarray, np.ndarray]) -> None:
    image, hidden = real
    out = classic_fill(name, image, hidden)
    assert out.dtype == np.float32 and out.shape == image.shape
    np.testing.assert_array_equal(out[:, ~hidden].view(np.uint32), image[:, ~hidden].view(np.uint32))
    for band in range(2):
        ring = image[band][ring_mask(hidden, np.isfinite(image[band]))]
        inside = out[band][hidden]
        assert np.isfinite(inside).all()
        assert ring.min() - 1 <= inside.min() and inside.max() <= ring.max() + 1  # an interpolation of its border
        assert abs(inside.mean() - ring.mean()) < 3
    if name == "constant":
        assert np.ptp(out[0][hidden]) == 0


@pytest.mark.parametrize("speckle", [False, True])
def test_one_paste_keeps_known_pixels_in_the_rasters_units(speckle: bool) -> None:
    opera = sorted((REAL_S1.parents[1] / "opera_rtc" / "2021-11-19").glob("*_V?.tif"))[::-1]  # VV, VH
    raster = read_raster(opera)
    assert raster.units == "linear"
    hidden = np.zeros(raster.grid.shape, bool)
    hidden[30:55, 40:65] = True
    fill_db = np.full(raster.data.shape, -12.0, np.float32)
    result, pasted = paste(raster, fill_db, hidden, speckle=speckle, seed=5)
    np.testing.assert_array_equal(result[:, ~hidden].view(np.uint32), raster.data[:, ~hidden].view(np.uint32))
    np.testing.assert_array_equal(result[:, hidden], from_db(pasted.db, "linear")[:, hidden])
    assert pasted.db.shape == raster.data.shape and bool(pasted.speckle) == speckle
    assert bool(pasted.speckle_tag(raster.band_names)) == speckle
    again = paste_db(raster.db(), fill_db, hidden, speckle=speckle, seed=5)
    np.testing.assert_array_equal(again.db, pasted.db)
    inside = pasted.db[:, hidden]
    assert (np.ptp(inside[np.isfinite(inside)]) > 1) == speckle  # speckle gives the flat fill grain


def test_registry_names() -> None:
    assert parse_variant("gdal+speckle") == (METHODS["gdal"], True)
    assert parse_variant("dip") == (METHODS["dip"], False)
    with pytest.raises(FillError, match="unknown fill method"):
        parse_variant("exemplar")
    with pytest.raises(FillError, match="not a classic fill"):
        classic_fill("dip", np.zeros((1, 4, 4)), np.ones((4, 4), bool))


def test_classic_fill_with_speckle_through_inpaint_file(tmp_path: Path) -> None:
    out = tmp_path / "gdal.tif"
    summary = inpaint_file(
        REAL_S1, "release", OutputPaths(out, raw=tmp_path / "raw.tif"), FitSettings(method="gdal", speckle=True)
    )
    hidden = release_box((256, 256))
    with rasterio.open(REAL_S1) as src, rasterio.open(out) as dst, rasterio.open(tmp_path / "raw.tif") as raw:
        original, result, plain, tags = src.read(), dst.read(), raw.read(), dst.tags()
    np.testing.assert_array_equal(result[:, ~hidden].view(np.uint32), original[:, ~hidden].view(np.uint32))
    assert tags["method"] == "gdal" and tags["speckle"] == "on"
    params = json.loads(tags["speckle_params"])
    assert set(params) == {"VV", "VH", "grain_model"} and 2 < params["VV"]["looks"] < 12
    assert params["grain_model"] == CLASSIC_GRAIN.config_hash() != GRAIN.config_hash()  # one provenance each
    assert params["VV"]["response_spread"] > 0  # the real tile was resampled: the spread is measured
    assert summary.iterations == 0 and summary.speckle == tags["speckle_params"]

    def roughness(a: np.ndarray) -> float:
        return float(np.abs(np.diff(a[0, 92:156, 179:243], axis=1)).mean())

    assert roughness(result) > 2 * roughness(plain)  # the plain fill is smooth, the speckled one is not
    with pytest.raises(InpaintError, match="not iterative"):
        inpaint_file(
            REAL_S1,
            "release",
            OutputPaths(tmp_path / "x.tif", trajectory=tmp_path / "x.tsv"),
            FitSettings(method="telea"),
        )


def test_credible_preset_is_paper_with_speckle() -> None:
    assert "credible" in PRESETS
    credible, paper = get_preset("credible", "Water"), get_preset("paper", "Water")
    assert credible.speckle and not paper.speckle
    assert credible.replace(name="paper", speckle=False, iterations=paper.iterations) == paper


def test_credible_dip_keeps_known_pixels_and_records_speckle(tmp_path: Path) -> None:
    out = tmp_path / "credible.tif"
    inpaint_file(REAL_S1, "release", out, FitSettings(preset="credible", land_cover="Forest", iterations=2))
    hidden = release_box((256, 256))
    with rasterio.open(REAL_S1) as src, rasterio.open(out) as dst:
        original, result, tags = src.read(), dst.read(), dst.tags()
    np.testing.assert_array_equal(result[:, ~hidden].view(np.uint32), original[:, ~hidden].view(np.uint32))
    assert tags["preset"] == "credible" and tags["speckle"] == "on" and "looks" in tags["speckle_params"]


def test_compare_tile_scores_every_method_alike(tmp_path: Path) -> None:
    dip, raw, mask = tmp_path / "dip.tif", tmp_path / "raw.tif", tmp_path / "mask.tif"
    inpaint_file(
        REAL_S1, "release", OutputPaths(dip, raw=raw, mask=mask), FitSettings(method="biharmonic")
    )  # a DIP stand-in
    methods = ["dip", "dip+speckle", "telea", "constant"]
    outputs = {m: tmp_path / f"{m}.tif" for m in methods}
    audit, metrics = compare_tile(REAL_S1, mask, dip, raw, outputs, "t1", "Forest", base_seed=3)
    assert list(dict.fromkeys(audit["fill"])) == methods and set(metrics["fill"]) == set(methods)
    assert not (tmp_path / "dip.tif.tmp").exists() and (tmp_path / "dip+speckle.tif").exists()
    table = comparison(audit, metrics)
    assert list(table["fill"]) == methods
    constant = table.set_index("fill").loc["constant"]
    assert constant["pass_share"] == 0 and not constant["meets_targets"] and constant["auc_cv_result"] > 0.9
    assert fig_audit_methods(table, tmp_path / "fig.png").stat().st_size > 10_000


def test_audit_fills_draw_the_inpainting_stages_seed(tmp_path: Path) -> None:
    """One meaning of the seed: with the base seed, the audit's ``dip+speckle`` draws the grain that the
    inpainting stage gives the same network output (the tile's seed), and a classic fill with speckle
    equals ``sardip inpaint --method gdal --speckle`` with the same base seed and tile."""
    dip, raw, mask = tmp_path / "dip.tif", tmp_path / "raw.tif", tmp_path / "mask.tif"
    inpaint_file(REAL_S1, "release", OutputPaths(dip, raw=raw, mask=mask), FitSettings(method="gdal"))
    outputs = {"dip": dip, "dip+speckle": tmp_path / "dip+speckle.tif", "gdal+speckle": tmp_path / "gdal+speckle.tif"}
    compare_tile(REAL_S1, mask, dip, raw, outputs, "t9", "Forest", base_seed=4)
    raster = read_raster(REAL_S1)
    expected, _ = paste(raster, read_raster(raw).db(), release_box(raster.grid.shape), speckle=True,
                        seed=tile_seed("t9", 4))  # fmt: skip
    assert read_raster(outputs["dip+speckle"]).data.tobytes() == expected.tobytes()
    direct = tmp_path / "direct.tif"
    inpaint_file(REAL_S1, "release", direct, FitSettings(method="gdal", speckle=True, seed=4), tile_id="t9")
    assert read_raster(outputs["gdal+speckle"]).data.tobytes() == read_raster(direct).data.tobytes()


def test_random_boxes_are_seeded_per_tile(tmp_path: Path) -> None:
    """``random:SIZE`` hides another place in each tile (the tile's seed), the same place in every stage."""
    boxes = {}
    for tile in ("tile_a", "tile_b"):
        mask = tmp_path / f"{tile}_mask.tif"
        outputs = OutputPaths(tmp_path / f"{tile}.tif", mask=mask)
        inpaint_file(REAL_S1, "random:40", outputs, FitSettings(method="constant", seed=0), tile_id=tile)
        boxes[tile] = read_raster(mask).data[0] == 0
        assert boxes[tile].sum() == 40 * 40
    assert not np.array_equal(boxes["tile_a"], boxes["tile_b"])
    experiment = tile_masks([REAL_S1, REAL_S1], "random:40", ["tile_a", "tile_b"], 0)
    np.testing.assert_array_equal(experiment, np.stack([boxes["tile_a"], boxes["tile_b"]]))


def test_snapshot_curve_audits_the_dip_along_its_iterations(tmp_path: Path) -> None:
    """After 3 updates the network output is still a near-flat surface: pasted as it is (``dip``) its
    ENL ratio is far from the untouched image's, with speckle-consistent filling it is close."""
    out, snaps, mask = tmp_path / "dip.tif", tmp_path / "snaps", tmp_path / "mask.tif"
    outputs = OutputPaths(out, mask=mask, snapshot_dir=snaps, snapshots=(1, 3))
    inpaint_file(REAL_S1, "release", outputs, FitSettings(preset="paper", land_cover="Forest", iterations=3))
    snapshots = {i: snaps / f"iter_{i:06d}.tif" for i in (1, 3)}
    rows = snapshot_curve(REAL_S1, mask, snapshots, "t1", "Forest", base_seed=5)
    assert len(rows) == 2 * 2 * 2 and set(rows["iterations"]) == {1, 3}
    again = snapshot_curve(REAL_S1, mask, snapshots, "t1", "Forest", base_seed=5)
    assert rows.equals(again)
    curve = curve_table(rows).set_index(["fill", "iterations"])
    plain, speckled = curve.loc[("dip", 3)], curve.loc[("dip+speckle", 3)]
    assert plain["enl_ratio_factor"] > 3 and not plain["meets_targets"]
    assert 1 / 1.5 < speckled["enl_ratio_factor"] < 1.5
    assert fig_audit_curve(curve.reset_index(), tmp_path / "curve.png").stat().st_size > 10_000


def test_tiles_and_scene_windows_share_one_fill_spec_and_its_speckle_rule() -> None:
    assert issubclass(FitSettings, FillSpec) and issubclass(SceneSettings, FillSpec)
    assert not FillSpec("gdal").adds_speckle() and FillSpec("gdal+speckle").adds_speckle()
    assert not FillSpec("gdal+speckle", speckle=False).adds_speckle()  # an explicit choice wins
    assert FillSpec().adds_speckle() and not FillSpec(preset="paper", land_cover="Urban").adds_speckle()
    assert FillSpec("gdal").dip_iterations() == 0 and FillSpec(iterations=7).dip_iterations() == 7
    assert FillSpec().dip_iterations() == get_preset("credible").iterations
    for settings in (FitSettings, SceneSettings):
        with pytest.raises(FillError, match="at least 1 iteration"):
            settings(iterations=0)
        assert settings(method="gdal+speckle").adds_speckle() and settings(method="gdal", iterations=0)
    # one grain model per kind of fill: the classic fills' smooth background takes a wider low-pass
    assert FillSpec("gdal+speckle").grain_model() == CLASSIC_GRAIN and FillSpec().grain_model() == GRAIN
    assert FillSpec().grain_model() == get_preset("credible").grain
