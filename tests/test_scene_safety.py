"""The scene path as a data provider runs it: nothing of a target survives beside or inside the published
file, no pixel of a hidden area is left as it was, the input's mask, scale and offset are kept, and bad
settings are refused before any fit (issue 31, one test per confirmed defect)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import rasterio
import rasterio.shutil
import shapely
import torch
from conftest import REAL_S1
from rasterio.enums import ColorInterp, MaskFlags, Resampling

from sardip.cli import main
from sardip.masks import MaskError, ring_mask
from sardip.scene.anonymise import SceneSettings, anonymise_scene, needed_bytes, open_scene, plan_scene
from sardip.scene.source import Scene
from sardip.scene.windows import Box, SceneMask
from sardip.speckle import NO_GRAIN, speckle_fill

torch.set_num_threads(1)
HOLE = (slice(100, 130), slice(100, 130))
MASK = "box:100,130,100,130"
# These tests check what is written, not the verdict before publishing (tests/test_gate.py).
CONSTANT = SceneSettings(method="constant", accept_detectable=True)
KNOWINGLY = ["--accept-detectable"]


def _real_db() -> np.ndarray:
    with rasterio.open(REAL_S1) as src:
        return src.read()


def _write(path: Path, data: np.ndarray, *, nodata: float | None = None, mask: np.ndarray | None = None,
           scales: tuple[float, ...] | None = None, offsets: tuple[float, ...] | None = None,
           tags: dict[str, str] | None = None, transform_shift: float = 0.0, **creation: object) -> Path:  # fmt: skip
    """A GeoTIFF on the real tile's grid (its transform moved by ``transform_shift`` px if asked)."""
    with rasterio.open(REAL_S1) as src:
        crs, t = src.crs, src.transform
    transform = rasterio.Affine(t.a, t.b, t.c + transform_shift * t.a, t.d, t.e, t.f)
    profile = {"driver": "GTiff", "width": data.shape[2], "height": data.shape[1], "count": data.shape[0],
               "dtype": data.dtype.name, "crs": crs, "transform": transform, "nodata": nodata, **creation}  # fmt: skip
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        if scales is not None:
            dst.scales, dst.offsets = scales, offsets
        if mask is not None:
            dst.write_mask(mask)
        if tags:
            dst.update_tags(**tags)
    return path


def _pixels_gpkg(path: Path, geometries: list[shapely.Geometry]) -> Path:
    """Geometries given in the real tile's pixel coordinates (x = column, y = row), saved in its CRS."""
    with rasterio.open(REAL_S1) as src:
        crs, t = src.crs, src.transform
    mapped = shapely.transform(np.array(geometries, dtype=object), lambda xy: np.stack(t * xy.T, axis=1))
    kinds = {g.geom_type for g in geometries}
    pyogrio.raw.write(path, geometry=shapely.to_wkb(mapped), field_data=[], fields=[], crs=crs.to_string(),
                      geometry_type=kinds.pop() if len(kinds) == 1 else "Unknown", driver="GPKG")  # fmt: skip
    return path


def _err(capsys: pytest.CaptureFixture) -> str:
    return capsys.readouterr().err


# --- leaks: the target published ------------------------------------------------------------------------


def test_stale_overviews_and_statistics_beside_the_output_are_removed_not_published(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    db = _real_db()
    db[:, 100:140, 100:140] = 5.0  # the target: far brighter than the fields around it
    scene = _write(tmp_path / "scene.tif", db)
    pub = tmp_path / "pub.tif"
    shutil.copy(scene, pub)  # an earlier publication, with pyramids built as QGIS and gdaladdo -ro do
    with rasterio.Env(TIFF_USE_OVR=True), rasterio.open(pub, "r+") as dst:
        dst.build_overviews([2, 4], Resampling.average)
    (tmp_path / "pub.tif.aux.xml").write_text(
        '<PAMDataset><Metadata><MDI key="TARGET">r100c100</MDI></Metadata><PAMRasterBand band="1"><Metadata>'
        '<MDI key="STATISTICS_MAXIMUM">5</MDI></Metadata></PAMRasterBand></PAMDataset>'
    )
    pub.unlink()  # the file is gone, its overviews are not: GDAL would serve them with a new pub.tif
    argv = ["inpaint", str(scene), "--mask", "box:100,140,100,140", "-o", str(pub), "--method", "constant", *KNOWINGLY]
    assert main(argv) == 2
    err = _err(capsys)
    assert "pub.tif.aux.xml, pub.tif.ovr" in err and "--overwrite" in err and not pub.exists()

    assert main([*argv, "--overwrite"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pub.provenance.json", "pub.tif", "scene.tif"]
    with rasterio.open(pub) as dst:
        assert dst.files == [str(pub)] and dst.overviews(1) == []
        assert "TARGET" not in dst.tags() and "STATISTICS_MAXIMUM" not in dst.tags(1)
        assert dst.read(1, window=((100, 140), (100, 140))).max() < -5
        quarter = dst.read(1, out_shape=(64, 64), resampling=Resampling.average)  # a GIS zoomed out
    assert quarter[25:35, 25:35].max() < -5


#: (units, stored dtype, nodata, scale) of a product, and the value of a strip across the target.
PRODUCTS = {
    "db float32, NaN nodata strip": ("db", "float32", float("nan"), None, float("nan")),
    "db float32, 0 dB strip": ("db", "float32", None, None, 0.0),
    "linear float32, negative strip": ("linear", "float32", None, None, -0.001),
    "linear float32, no nodata, 0 strip (a GRD border)": ("linear", "float32", None, None, 0.0),
    "linear float32, NaN nodata, 0 strip (clipped sigma0)": ("linear", "float32", float("nan"), None, 0.0),
    "linear float32, nodata 0, negative strip": ("linear", "float32", 0.0, None, -0.001),
    "linear float32, nodata 0, 0 strip": ("linear", "float32", 0.0, None, 0.0),
    "amplitude float32, negative strip": ("amplitude", "float32", None, None, -0.01),
    "amplitude uint16, no nodata, 0 strip (a GRD border)": ("amplitude", "uint16", None, None, 0),
    "amplitude uint16, nodata 1, 0 strip": ("amplitude", "uint16", 1, None, 0),
    "db int16 x100, negative strip": ("db", "int16", None, 0.01, -500),
}


def _no_data(values: np.ndarray, units: str, nodata: float | None) -> np.ndarray:
    """What the file says holds no data: its nodata value and NaN, or, declaring none, 0 in linear units."""
    out = np.isnan(values) if values.dtype.kind == "f" else np.zeros(values.shape, bool)
    if nodata is not None and not np.isnan(nodata):
        out |= values == nodata
    if nodata is None and units != "db":
        out |= values == 0
    return out


def _stored(db: np.ndarray, units: str, dtype: str, scale: float | None) -> np.ndarray:
    if units == "db":
        values = db / scale if scale else db
    else:
        values = 10 ** (db / (10 if units == "linear" else 20)) * (1000 if dtype == "uint16" else 1)
    return (np.rint(values) if np.dtype(dtype).kind in "iu" else values).astype(dtype)


@pytest.mark.parametrize("path", ["scene", "whole-raster"])
@pytest.mark.parametrize("product", list(PRODUCTS))
def test_every_pixel_of_a_hidden_area_is_replaced_or_nodata(
    tmp_path: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture, product: str, path: str
) -> None:
    units, dtype, nodata, scale, strip = PRODUCTS[product]
    db = _real_db()
    db[:, HOLE[0], HOLE[1]] = 5.0
    values = _stored(db, units, dtype, scale)
    values[:, 110:120, 95:135] = strip  # the strip crosses the hole's edge
    scales = (scale, scale) if scale else None
    scene = _write(tmp_path / "scene.tif", values, nodata=nodata, scales=scales, offsets=(0.0, 0.0))
    caplog.set_level(logging.INFO)
    argv = ["inpaint", str(scene), "--mask", MASK, "-o", str(tmp_path / "out.tif"), "--method", "constant", *KNOWINGLY]
    argv += ["--units", units] + (["--whole-raster"] if path == "whole-raster" else [])
    if path == "whole-raster" and scale:
        assert main(argv) == 2 and "honours them" in _err(capsys)  # raw numbers would be fitted: refused
        return
    assert main(argv) == 0
    with rasterio.open(tmp_path / "out.tif") as dst:
        out = dst.read()
        assert dst.dtypes[0] == dtype and dst.scales == (scales or (1.0, 1.0))
    no_data = _no_data(values, units, nodata)
    hole = np.zeros(values.shape[1:], bool)
    hole[HOLE] = True
    assert out[:, ~hole].tobytes() == values[:, ~hole].tobytes()
    for band in range(2):
        kept, replaced = hole & no_data[band], hole & ~no_data[band]
        assert out[band][kept].tobytes() == values[band][kept].tobytes()  # nodata stays nodata
        assert len(np.unique(out[band][replaced])) == 1  # one constant fill: every pixel with data replaced
        assert not np.isin(out[band][replaced], values[band][replaced]).any()
    hidden = int((hole & ~no_data.all(axis=0)).sum())
    if path == "whole-raster":
        return
    assert f"{hidden:,} px hidden" in capsys.readouterr().out
    assert f"window 1/1, {hidden:,} px hidden" in caplog.text  # the progress line counts the same pixels


def test_a_dip_fill_replaces_non_positive_pixels_too(tmp_path: Path) -> None:
    linear = (10 ** (_real_db() / 10)).astype(np.float32)
    linear[:, 110:120, 95:135] = -0.001
    scene = _write(tmp_path / "scene.tif", linear)
    settings = SceneSettings(iterations=3, units="linear", accept_detectable=True)
    summary = anonymise_scene([scene], MASK, tmp_path / "out.tif", settings)
    with rasterio.open(tmp_path / "out.tif") as dst:
        hole = dst.read()[:, HOLE[0], HOLE[1]]
    assert summary.hidden_pixels == 900 and (hole > 0).all() and (hole != linear[:, HOLE[0], HOLE[1]]).all()


# --- wrong output ---------------------------------------------------------------------------------------


def test_an_internal_mask_is_kept_and_masked_pixels_are_neither_fitted_nor_written(tmp_path: Path) -> None:
    db = _real_db()
    db[:, :, :50] = 0.0  # masked: not data, and far brighter than the fields
    mask = np.full(db.shape[1:], 255, np.uint8)
    mask[:, :50] = 0
    scene = _write(tmp_path / "scene.tif", db, mask=mask)
    anonymise_scene([scene], "box:100,130,40,70", tmp_path / "out.tif", CONSTANT)
    with rasterio.open(tmp_path / "out.tif") as dst:
        out = dst.read()
        assert all(flags == [MaskFlags.per_dataset] for flags in dst.mask_flag_enums) and dst.files == [
            str(tmp_path / "out.tif")
        ]
        assert np.array_equal(dst.read_masks(1), mask)
    assert (out[:, :, :50] == 0).all()  # masked pixels in the hole written as they were
    hidden = np.zeros(mask.shape, bool)
    hidden[100:130, 40:70] = True
    ring = ring_mask(hidden, mask > 0)
    for band in range(2):
        fill = np.unique(out[band, 100:130, 50:70])
        assert len(fill) == 1 and abs(fill[0] - 10 * np.log10(np.mean(10 ** (db[band][ring] / 10)))) < 3
        assert abs(fill[0] - db[band][ring].mean()) < 1e-3  # the constant fill: the known ring's mean dB


def test_an_alpha_band_is_copied_and_masks_what_it_covers(tmp_path: Path) -> None:
    amplitude = np.rint(10 ** (_real_db()[:1] / 20) * 1000).astype(np.uint16)
    alpha = np.full(amplitude.shape, 65535, np.uint16)
    alpha[:, :, :50] = 0
    amplitude[:, :, :50] = 60000  # under the alpha: not data
    scene = _write(tmp_path / "scene.tif", np.concatenate([amplitude, alpha]), photometric="MINISBLACK", alpha="YES")
    with rasterio.open(scene) as src:
        assert src.colorinterp[1] == ColorInterp.alpha
    summary = anonymise_scene([scene], "box:100,130,40,70", tmp_path / "out.tif", CONSTANT)
    assert summary.hidden_pixels == 30 * 20
    with rasterio.open(tmp_path / "out.tif") as dst:
        out = dst.read()
        assert dst.colorinterp == (ColorInterp.gray, ColorInterp.alpha)
    assert np.array_equal(out[1], alpha[0]) and (out[0, :, :50] == 60000).all()
    fill = np.unique(out[0, 100:130, 50:70])
    assert len(fill) == 1 and fill[0] < 5000  # not pulled up by the pixels under the alpha


def test_scale_and_offset_are_honoured_when_detecting_fitting_and_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    db = _real_db()
    raw = np.rint((db + 10) / 0.01).astype(np.int16)  # dB = raw x 0.01 - 10
    scene = _write(tmp_path / "scene.tif", raw, scales=(0.01, 0.01), offsets=(-10.0, -10.0))
    argv = ["inpaint", str(scene), "--mask", MASK, "-o", str(tmp_path / "out.tif"), "--method", "constant", *KNOWINGLY]
    assert main(argv) == 0
    assert "units: db" in capsys.readouterr().out
    with rasterio.open(tmp_path / "out.tif") as dst:
        out = dst.read()
        assert dst.scales == (0.01, 0.01) and dst.offsets == (-10.0, -10.0)
    hidden = np.zeros(db.shape[1:], bool)
    hidden[HOLE] = True
    ring = ring_mask(hidden, np.ones_like(hidden))
    for band in range(2):
        fill = np.unique(out[band][hidden])
        assert len(fill) == 1 and abs(fill[0] * 0.01 - 10 - db[band][ring].mean()) < 0.01


def test_area_or_point_is_kept(tmp_path: Path) -> None:
    scene = _write(tmp_path / "scene.tif", _real_db(), tags={"AREA_OR_POINT": "Point"})
    anonymise_scene([scene], MASK, tmp_path / "out.tif", CONSTANT)
    with rasterio.open(scene) as src, rasterio.open(tmp_path / "out.tif") as dst:
        assert dst.tags()["AREA_OR_POINT"] == "Point" and dst.transform == src.transform


def test_max_side_judges_connected_hidden_areas_after_rasterising(tmp_path: Path) -> None:
    squares = [shapely.box(c, r, c + 10, r + 10) for r in range(60, 180, 10) for c in range(60, 180, 10)]
    tiled = _pixels_gpkg(tmp_path / "tiled.gpkg", squares)  # 144 touching squares: one 120 px area
    with pytest.raises(MaskError, match=r"polygon 1 \(layer .*\) and 141 more .* hides an area 120x120 px, more"):
        anonymise_scene([REAL_S1], str(tiled), tmp_path / "tiled.tif", CONSTANT)
    apart = _pixels_gpkg(tmp_path / "apart.gpkg", [shapely.MultiPolygon([squares[0], shapely.box(0, 240, 10, 250)])])
    summary = anonymise_scene([REAL_S1], str(apart), tmp_path / "apart.tif", CONSTANT)
    assert [w["areas"] for w in summary.windows] == [["polygon 1 part 1 (layer apart)"],
                                                     ["polygon 1 part 2 (layer apart)"]]  # fmt: skip
    road = _pixels_gpkg(tmp_path / "road.gpkg", [shapely.LineString([(10, 10), (240, 200)]).buffer(3)])
    assert anonymise_scene([REAL_S1], str(road), tmp_path / "road.tif", CONSTANT).hidden_pixels > 1000


def test_the_seed_places_a_random_box(tmp_path: Path) -> None:
    def rows(seed: int) -> list[int]:
        settings = SceneSettings(method="constant", seed=seed, overwrite=True, accept_detectable=True)
        summary = anonymise_scene([REAL_S1], "random:16", tmp_path / f"seed{seed}.tif", settings)
        assert json.loads(summary.sidecar.read_text())["seed"] == seed
        return summary.windows[0]["rows"] + summary.windows[0]["cols"]

    assert len({tuple(rows(seed)) for seed in (0, 1, 2)}) == 3
    assert rows(1) == rows(1)


# --- data loss and wasted work --------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".tif", ".gpkg"])
def test_a_mask_file_is_an_input_and_never_the_output(
    tmp_path: Path, capsys: pytest.CaptureFixture, suffix: str
) -> None:
    if suffix == ".tif":
        values = np.ones((1, 256, 256), np.uint8)
        values[0, HOLE[0], HOLE[1]] = 0
        mask = _write(tmp_path / "rmask.tif", values)
    else:
        mask = _pixels_gpkg(tmp_path / "vmask.gpkg", [shapely.box(100, 100, 130, 130)])
    before = mask.read_bytes()
    assert (
        main(["inpaint", str(REAL_S1), "--mask", str(mask), "-o", str(mask), "--overwrite", "--iterations", "2"]) == 2
    )
    assert "is the input" in _err(capsys) and mask.read_bytes() == before


def test_an_unwritable_output_folder_is_refused_before_any_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() == 0:  # root writes through permission bits: an immutable folder stops it
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("running as root, and chattr +i is not available here")
    else:
        folder.chmod(0o555)
    caplog.set_level(logging.INFO)
    try:
        code = main(["inpaint", str(REAL_S1), "--mask", MASK, "-o", str(folder / "out.tif"), "--iterations", "500"])
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)
    assert code == 2 and "cannot be written" in _err(capsys)
    assert "using cpu" not in caplog.text and not any(folder.iterdir())  # no fit started, nothing left


def test_the_free_space_estimate_of_a_vrt_counts_its_pixels(tmp_path: Path) -> None:
    vrt = tmp_path / "scene.vrt"
    rasterio.shutil.copy(REAL_S1, vrt, driver="VRT")
    with open_scene([vrt], CONSTANT) as scene:
        assert vrt.stat().st_size < 256 * 256 * 2 * 4 <= needed_bytes(scene, cog=False) - 2**26


# --- crashes and false refusals -------------------------------------------------------------------------


def test_complex_pixels_are_refused_at_once(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    slc = _write(tmp_path / "slc.tif", (_real_db()[:1] + 1j * _real_db()[1:]).astype(np.complex64))
    assert main(["inpaint", str(slc), "--mask", MASK, "-o", str(tmp_path / "out.tif")]) == 2
    assert "complex pixels" in _err(capsys) and not (tmp_path / "out.tif").exists()


def test_a_band_without_grain_is_filled_without_grain(tmp_path: Path) -> None:
    db = _real_db()
    db[1] = -30.0  # a dB product clipped at its floor over calm water
    hidden = np.zeros(db.shape[1:], bool)
    hidden[HOLE] = True
    fill = np.full_like(db, -29.0)
    out, params = speckle_fill(db, fill, hidden, seed=0)
    assert params[1] == NO_GRAIN and (out[1][hidden] == -29.0).all() and params[0].looks > 1
    scene = _write(tmp_path / "scene.tif", db)
    summary = anonymise_scene([scene], MASK, tmp_path / "out.tif", SceneSettings(iterations=3, accept_detectable=True))
    assert summary.hidden_pixels == 900


def test_points_lines_and_slivers_on_pixel_edges_hide_the_pixels_they_lie_on(tmp_path: Path) -> None:
    geometries = [shapely.Point(100, 100), shapely.LineString([(60, 80), (90, 80)]), shapely.box(150, 40, 170, 40.0001)]
    mask = _pixels_gpkg(tmp_path / "edges.gpkg", geometries)
    summary = anonymise_scene([REAL_S1], str(mask), tmp_path / "out.tif", CONSTANT)
    with rasterio.open(tmp_path / "out.tif") as dst:
        changed = (dst.read() != _real_db()).any(axis=0)
    expected = np.zeros(changed.shape, bool)
    expected[100, 100] = expected[80, 60:90] = expected[40, 150:170] = True
    assert np.array_equal(changed, expected) and summary.hidden_pixels == expected.sum()


def test_grids_a_billionth_of_a_pixel_apart_are_one_grid(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = _real_db()
    vv = _write(tmp_path / "s_VV.tif", db[:1])
    vh = _write(tmp_path / "s_VH.tif", db[1:], transform_shift=1e-9)
    mask_values = np.ones((1, 256, 256), np.uint8)
    mask_values[0, HOLE[0], HOLE[1]] = 0
    mask = _write(tmp_path / "mask.tif", mask_values, transform_shift=1e-9)
    assert anonymise_scene([vv, vh], str(mask), tmp_path / "out.tif", CONSTANT).hidden_pixels == 900
    far = _write(tmp_path / "far_VH.tif", db[1:], transform_shift=1e-3)
    assert main(["inpaint", str(vv), str(far), "--mask", MASK, "-o", str(tmp_path / "far.tif")]) == 2
    assert "not on the same grid: transform" in _err(capsys)


def test_a_margin_without_context_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    argv = ["inpaint", str(REAL_S1), "--mask", MASK, "-o", str(tmp_path / "o.tif"), "--method", "gdal", "--margin", "0"]
    assert main(argv) == 2
    assert "margin=0: at least 1 px of context" in _err(capsys) and not any(tmp_path.iterdir())


def test_a_neighbours_grow_ring_reaches_into_a_window(tmp_path: Path) -> None:
    mask = _pixels_gpkg(tmp_path / "near.gpkg", [shapely.box(50, 50, 60, 60)])
    with Scene.open([REAL_S1]) as scene:
        assert scene.grid is not None
        hidden = SceneMask(str(mask), scene.grid, grow=3).hidden(Box(0, 100, 62, 100))  # 2 px right of it
        plan = plan_scene(scene, str(mask), SceneSettings(method="constant", grow=3))
    assert hidden[50:60, 0].all() and not hidden[:, 1:].any()
    assert plan.windows[0].areas[0].box == Box(47, 63, 47, 63)


@pytest.mark.parametrize("cog", [False, True], ids=["gtiff", "cog"])
def test_the_products_descriptive_tags_and_overview_levels_are_kept_its_statistics_are_not(
    tmp_path: Path, cog: bool
) -> None:
    """A GRD-like product: its TIFF tags and product tags are published as they were (a file without them
    would itself be a trace), its overviews rebuilt from the anonymised pixels at its own levels, and
    nothing that describes the original pixels (statistics) or an earlier edit (sardip's tags) is copied."""
    db = _real_db()
    db[:, 100:130, 100:130] = 5.0  # the target
    product = {"TIFFTAG_IMAGEDESCRIPTION": "Sentinel-1A IW GRD HR L1", "TIFFTAG_SOFTWARE": "Sentinel-1 IPF 002.91",
               "TIFFTAG_DATETIME": "2019:07:04 17:21:33", "MISSION": "S1A"}  # fmt: skip
    scene = _write(tmp_path / "scene.tif", db, tags={**product, "SARDIP_METHOD": "dip"})
    with rasterio.open(scene, "r+") as dst:
        dst.update_tags(1, POLARISATION="VV", STATISTICS_MAXIMUM="5", STATISTICS_MEAN="-12")
        dst.build_overviews([2, 4, 8, 16], Resampling.average)
    out = tmp_path / "out.tif"
    argv = ["inpaint", str(scene), "--mask", MASK, "-o", str(out), "--method", "constant", *KNOWINGLY]
    assert main(argv + (["--cog"] if cog else [])) == 0
    with rasterio.open(out) as dst:
        tags = dst.tags()
        assert {k: tags.get(k) for k in product} == product and "SARDIP_METHOD" not in tags
        assert dst.tags(1) == {"POLARISATION": "VV"}
        assert dst.overviews(1) == [2, 4, 8, 16]
        for level in (2, 8):  # the levels are made from the anonymised pixels
            side = 256 // level
            zoomed = dst.read(1, out_shape=(side, side), resampling=Resampling.nearest)
            assert zoomed[100 // level + 1 : 130 // level - 1, 100 // level + 1 : 130 // level - 1].max() < -5
