"""Scene-scale anonymisation: windows only, byte-identical elsewhere, overviews rebuilt, no trace, no harm."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import rasterio
import shapely
import torch
from affine import Affine
from conftest import REAL_S1, write_tif
from rasterio.control import GroundControlPoint

from sardip.cli import main
from sardip.demo import SCENE_TARGETS, scene_targets, write_demo_scene
from sardip.inpaint import FitSettings, OutputPaths, inpaint_file
from sardip.masks import MaskError
from sardip.scene.anonymise import SceneSettings, anonymise_scene
from sardip.scene.source import CACHE_MB, Scene, SceneGrid
from sardip.scene.windows import Area, Box, SceneMask, plan_windows

torch.set_num_threads(1)
OPERA = sorted((Path(__file__).parent / "data" / "opera_rtc" / "2021-11-19").glob("*_V?.tif"))[::-1]  # VV, VH
# These tests check what is written, not the verdict before publishing (tests/test_gate.py).
FAST = SceneSettings(iterations=3, accept_detectable=True)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo scene: 4096 px, tiled and compressed, with overviews and a NaN border, and its targets
    as a GeoPackage in WGS84 (the scene is in UTM)."""
    return write_demo_scene(tmp_path_factory.mktemp("scene"))


@pytest.fixture(scope="module")
def anonymised(demo: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory):
    scene, targets = demo
    out = tmp_path_factory.mktemp("out") / "published.tif"
    return anonymise_scene([scene], str(targets), out, SceneSettings(iterations=3, cog=True, accept_detectable=True))


def _hidden(summary, shape: tuple[int, int], mask: SceneMask) -> np.ndarray:
    hidden = np.zeros(shape, bool)
    for window in summary.windows:
        (r0, r1), (c0, c1) = window["rows"], window["cols"]
        hidden[r0:r1, c0:c1] |= mask.hidden(Box(r0, r1, c0, c1))
    return hidden


def test_only_the_hidden_pixels_change_byte_for_byte(demo, anonymised) -> None:
    scene, targets = demo
    with rasterio.open(scene) as src, rasterio.open(anonymised.out) as dst:
        before, after = src.read(), dst.read()
        grid = SceneGrid(src.width, src.height, src.crs, src.transform)
        assert (dst.crs, dst.transform, dst.dtypes, dst.descriptions) == (
            src.crs,
            src.transform,
            src.dtypes,
            src.descriptions,
        )
        assert np.isnan(dst.nodata) and dst.profile["tiled"] and dst.compression is not None
    hidden = _hidden(anonymised, before.shape[1:], SceneMask(str(targets), grid))
    assert len(anonymised.windows) == len(SCENE_TARGETS) and hidden.sum() == anonymised.hidden_pixels
    assert before[:, ~hidden].tobytes() == after[:, ~hidden].tobytes()  # NaN border included
    assert not np.array_equal(before[:, hidden], after[:, hidden])
    for r, c, h, w in scene_targets(before.shape[-1]):
        assert hidden[r : r + h, c : c + w].all()  # every target is hidden ...
        assert (
            np.median(after[0, r : r + h, c : c + w]) < np.median(before[0, r : r + h, c : c + w]) - 8
        )  # ... and gone


def test_overviews_are_rebuilt_from_the_anonymised_pixels(demo, anonymised) -> None:
    scene, _ = demo
    r, c, h, w = scene_targets(4096)[2]
    with rasterio.open(anonymised.out) as dst, rasterio.open(anonymised.out, overview_level=0) as ovr:
        assert dst.overviews(1) and dst.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        full = dst.read(1, window=((r - 8, r + h + 8), (c - 8, c + w + 8))).astype(np.float64)
        level = ovr.read(1, window=(((r - 8) // 2, (r + h + 8) // 2), ((c - 8) // 2, (c + w + 8) // 2)))
    with rasterio.open(scene) as src:
        original = src.read(1, window=((r - 8, r + h + 8), (c - 8, c + w + 8))).astype(np.float64)

    def decimated(a: np.ndarray) -> np.ndarray:
        return a.reshape(a.shape[0] // 2, 2, a.shape[1] // 2, 2).mean(axis=(1, 3))

    np.testing.assert_allclose(level, decimated(full), rtol=1e-5, atol=1e-4)
    assert np.abs(level - decimated(original)).max() > 5  # the original's target is not in the overview


def test_the_published_file_tells_nothing_and_the_sidecar_everything(anonymised) -> None:
    with rasterio.open(anonymised.out) as dst:
        assert set(dst.tags()) <= {"AREA_OR_POINT"}
        assert all(not dst.tags(b) for b in range(1, dst.count + 1))
        assert all(flags == [rasterio.enums.MaskFlags.nodata] for flags in dst.mask_flag_enums)
    assert not anonymised.out.with_name(anonymised.out.name + ".aux.xml").exists()
    assert sorted(p.name for p in anonymised.out.parent.iterdir()) == ["published.provenance.json", "published.tif"]
    sidecar = json.loads(anonymised.sidecar.read_text())
    assert sidecar["method"] == "dip" and sidecar["preset"] == "credible" and sidecar["iterations"] == 3
    assert sidecar["preset_params"]["speckle"] and sidecar["seed"] == 0 and sidecar["sardip_version"]
    digest = hashlib.sha256(Path(sidecar["mask"]["spec"]).read_bytes()).hexdigest()
    assert list(sidecar["mask"]["sha256"].values()) == [digest]
    assert len(sidecar["windows"]) == len(SCENE_TARGETS)
    assert all("audit" in w and w["hidden_pixels"] > 0 for w in sidecar["windows"])


def test_a_window_gives_what_a_whole_raster_fit_of_it_gives(demo, anonymised, tmp_path: Path) -> None:
    scene, targets = demo
    window = anonymised.windows[0]
    (r0, r1), (c0, c1) = window["rows"], window["cols"]
    with rasterio.open(scene) as src:
        crop = src.read(window=((r0, r1), (c0, c1)))
        transform = src.window_transform(((r0, r1), (c0, c1)))
        grid = SceneGrid(src.width, src.height, src.crs, src.transform)
    hidden = SceneMask(str(targets), grid).hidden(Box(r0, r1, c0, c1))
    profile = {"driver": "GTiff", "width": c1 - c0, "height": r1 - r0, "crs": "EPSG:32633", "transform": transform}
    with rasterio.open(tmp_path / "crop.tif", "w", count=2, dtype="float32", nodata=np.nan, **profile) as dst:
        dst.write(crop)
        dst.descriptions = ("VV", "VH")
    with rasterio.open(tmp_path / "mask.tif", "w", count=1, dtype="uint8", **profile) as dst:
        dst.write((~hidden).astype(np.uint8)[None])
    settings = FitSettings(preset="credible", iterations=3, seed=0)
    inpaint_file(tmp_path / "crop.tif", str(tmp_path / "mask.tif"), OutputPaths(tmp_path / "alone.tif"), settings,
                 tile_id=window["window"])  # fmt: skip
    with rasterio.open(tmp_path / "alone.tif") as alone, rasterio.open(anonymised.out) as dst:
        np.testing.assert_array_equal(alone.read()[:, hidden], dst.read(window=((r0, r1), (c0, c1)))[:, hidden])


def test_touching_areas_share_a_window_near_ones_overlap_and_each_pixel_is_written_once() -> None:
    areas = [Area(Box(10, 20, 10, 20), "a"), Area(Box(20, 30, 15, 25), "b"), Area(Box(60, 70, 60, 70), "c"),
             Area(Box(400, 410, 900, 1000), "d")]  # fmt: skip
    windows = plan_windows(areas, margin=16, multiple=32, shape=(420, 1000))
    assert [sorted(a.label for a in w.areas) for w in windows] == [["a", "b"], ["c"], ["d"]]
    first, second, last = (w.box for w in windows)
    assert first.touches(second)  # their contexts overlap, yet they stay two small windows
    assert (first.r0, first.c0) == (0, 0) and first.shape[0] % 32 == 0 and first.shape[1] % 32 == 0
    assert last.r1 == 420 and last.c1 == 1000  # clipped at the scene edge
    assert all(w.box.r0 <= a.box.r0 and a.box.r1 <= w.box.r1 for w in windows for a in w.areas)
    written = np.zeros((420, 1000), int)
    for w in windows:
        written[w.box.r0 : w.box.r1, w.box.c0 : w.box.c1] += w.own()
    assert written.max() == 1 and written.sum() == sum(a.box.shape[0] * a.box.shape[1] for a in areas)
    assert len({w.name for w in windows}) == len(windows)


def test_dense_polygons_do_not_chain_into_one_window(tmp_path: Path) -> None:
    """A row of areas closer than two margins: each keeps its own window, and every one is hidden."""
    with rasterio.open(REAL_S1) as src:
        t, crs, original = src.transform, src.crs.to_string(), src.read()
    columns = range(20, 240, 40)
    boxes = [(t.c + (c + 0.25) * t.a, t.f + 115.75 * t.e, t.c + (c + 15.75) * t.a, t.f + 100.25 * t.e) for c in columns]
    mask = _polygons(tmp_path / "dense.gpkg", crs, boxes)
    summary = anonymise_scene([REAL_S1], str(mask), tmp_path / "dense.tif", dataclasses.replace(FAST, margin=32))
    assert len(summary.windows) == len(columns)
    assert max(w["rows"][1] - w["rows"][0] for w in summary.windows) == 96  # 16 px + 2 x 32 px, not the row
    hidden = np.zeros(original.shape[1:], bool)
    for c in columns:
        hidden[100:116, c : c + 16] = True
    with rasterio.open(summary.out) as dst:
        result = dst.read()
    assert summary.hidden_pixels == hidden.sum() and (result[:, hidden] != original[:, hidden]).mean() > 0.99
    assert (result[:, ~hidden] == original[:, ~hidden]).all()


def test_uint16_amplitude_round_trips_in_uint16(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with rasterio.open(REAL_S1) as src:
        db = src.read()
        profile = {"crs": src.crs, "transform": src.transform}
    amplitude = np.rint(np.clip(10 ** (db / 20) * 1000, 1, 65535)).astype(np.uint16)
    amplitude[:, :, :12] = 0  # the GRD border: no data
    path = tmp_path / "grd.tif"
    with rasterio.open(path, "w", driver="GTiff", width=256, height=256, count=2, dtype="uint16", **profile) as dst:
        dst.write(amplitude)
    caplog.set_level("INFO")
    summary = anonymise_scene([path], "box:0,60,0,60", tmp_path / "out.tif", FAST)
    assert summary.units == "amplitude" and "taken as amplitude digital numbers" in caplog.text
    with rasterio.open(tmp_path / "out.tif") as dst:
        out = dst.read()
        assert dst.dtypes == ("uint16", "uint16")
    hidden = np.zeros((256, 256), bool)
    hidden[:60, :60] = True
    assert (out[:, :, :12] == 0).all()  # nodata kept, never fitted
    assert out[:, ~hidden].tobytes() == amplitude[:, ~hidden].tobytes()
    inside = out[:, hidden[:, :] & (np.arange(256) >= 12)[None, :]]
    assert (inside > 0).all() and not np.array_equal(inside, amplitude[:, hidden & (np.arange(256) >= 12)[None, :]])


def test_opera_polarisation_files_in_linear_power_with_nan_nodata(tmp_path: Path) -> None:
    summary = anonymise_scene(OPERA, "box:30,62,40,72", tmp_path / "out.tif", FAST)
    assert summary.units == "linear"
    with rasterio.open(OPERA[0]) as vv, rasterio.open(OPERA[1]) as vh, rasterio.open(tmp_path / "out.tif") as dst:
        original, out = np.stack([vv.read(1), vh.read(1)]), dst.read()
        assert dst.descriptions == ("VV", "VH") and np.isnan(dst.nodata)
    hidden = np.zeros(original.shape[1:], bool)
    hidden[30:62, 40:72] = True
    assert out[:, ~hidden].tobytes() == original[:, ~hidden].tobytes()
    assert np.array_equal(np.isnan(out), np.isnan(original))
    assert (out[:, hidden][np.isfinite(out[:, hidden])] > 0).all()


def test_a_gcp_raster_keeps_its_gcps_and_vector_masks_map_through_them(tmp_path: Path) -> None:
    with rasterio.open(REAL_S1) as src:
        data, crs, transform = src.read(), src.crs, src.transform
    gcps = [GroundControlPoint(r, c, *(transform * (c, r))) for r in (0, 128, 256) for c in (0, 128, 256)]
    path = tmp_path / "gcp.tif"
    with rasterio.open(path, "w", driver="GTiff", width=256, height=256, count=2, dtype="float32", gcps=gcps,
                       crs=crs) as dst:  # fmt: skip
        dst.write(data)
    polygon = shapely.box(*(transform * (100, 140)), *(transform * (140, 100)))
    mask = tmp_path / "target.gpkg"
    pyogrio.raw.write(mask, geometry=shapely.to_wkb([polygon]), field_data=[], fields=[], geometry_type="Polygon",
                      crs=crs.to_string(), driver="GPKG")  # fmt: skip
    anonymise_scene([path], str(mask), tmp_path / "out.tif", FAST)
    with rasterio.open(tmp_path / "out.tif") as dst:
        out_gcps, out_crs = dst.gcps
        out = dst.read()
        assert len(out_gcps) == 9 and out_crs == crs and dst.crs is None
    changed = (out != data).any(axis=0)
    rows, cols = np.nonzero(changed)
    assert abs(rows.min() - 100) <= 1 and abs(rows.max() - 139) <= 1 and abs(cols.min() - 100) <= 1


def _polygons(path: Path, crs: str, boxes: list[tuple[float, float, float, float]]) -> Path:
    pyogrio.raw.write(path, geometry=shapely.to_wkb([shapely.box(*b) for b in boxes]), field_data=[], fields=[],
                      geometry_type="Polygon", crs=crs, driver="GPKG")  # fmt: skip
    return path


def _real_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "in.tif"
    copy.write_bytes(REAL_S1.read_bytes())
    return copy


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("same_path", "is the input"),
        ("symlink", "is the input"),
        ("hardlink", "is the input"),
        ("relative", "is the input"),
        ("exists", "pass --overwrite"),
        ("outside", "polygon 1 (layer"),
        ("too_large", "more than 200 px across both ways"),
        ("ambiguous", "give their units"),
        ("disk", "GiB free"),
        ("no_crs", "--allow-no-crs"),
    ],
)
def test_refusals_name_the_problem_and_leave_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, case: str, message: str
) -> None:
    source = _real_copy(tmp_path)
    before = source.read_bytes()
    with rasterio.open(source) as src:
        t, crs = src.transform, src.crs.to_string()
    out, mask = tmp_path / "out.tif", "box:100,140,100,140"
    if case == "same_path":
        out = source
    elif case == "symlink":
        out = tmp_path / "link.tif"
        out.symlink_to(source)
    elif case == "hardlink":
        out = tmp_path / "hard.tif"
        os.link(source, out)
    elif case == "relative":
        monkeypatch.chdir(tmp_path)
        out = Path("sub/../in.tif")
        (tmp_path / "sub").mkdir()
    elif case == "exists":
        out.write_bytes(b"keep me")
    elif case == "outside":
        mask = str(_polygons(tmp_path / "far.gpkg", crs, [(t.c + 1e6, t.f, t.c + 1e6 + 100, t.f + 100)]))
    elif case == "too_large":
        mask = "box:0,250,0,250"
        monkeypatch.setattr("sardip.commands.inpaint.MAX_SIDE", 200)
    elif case == "ambiguous":
        values = np.abs(np.random.default_rng(0).normal(3, 1, (2, 64, 64))).astype(np.float32)
        values[:, :2, :2] = -1.0
        source = write_tif(tmp_path / "odd.tif", values)
        before, mask = source.read_bytes(), "box:10,20,10,20"
    elif case == "disk":
        monkeypatch.setattr("shutil.disk_usage", lambda p: type("usage", (), {"free": 1000})())
    elif case == "no_crs":
        with rasterio.open(source) as src:
            data = src.read()
        source = tmp_path / "bare.tif"
        with rasterio.open(source, "w", driver="GTiff", width=256, height=256, count=2, dtype="float32") as dst:
            dst.write(data)
        before = source.read_bytes()
    listing = sorted(p.name for p in tmp_path.rglob("*"))
    code = main(["inpaint", str(source), "--mask", mask, "-o", str(out), "--iterations", "2"])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.rglob("*")) == listing  # no output, no temporary file


def test_too_large_a_polygon_is_named(tmp_path: Path) -> None:
    grid = SceneGrid(2000, 2000, rasterio.crs.CRS.from_epsg(32633), Affine(10, 0, 0, 0, -10, 20000))
    mask = _polygons(tmp_path / "big.gpkg", "EPSG:32633", [(100, 10000, 200, 10100), (0, 0, 9000, 9000)])
    scene_mask = SceneMask(str(mask), grid)
    with pytest.raises(MaskError, match=r"polygon 2 \(layer .*\) of .* hides an area 900x900 px"):
        for window in plan_windows(scene_mask.areas(), margin=64, multiple=1, shape=grid.shape):
            scene_mask.check_width(window.areas)


@pytest.mark.parametrize(
    ("signum", "said"), [(signal.SIGTERM, "terminated (SIGTERM)"), (signal.SIGINT, "interrupted (Ctrl-C)")]
)
def test_an_interrupted_run_leaves_the_input_and_no_output(tmp_path: Path, signum: int, said: str) -> None:
    """Ctrl-C or a scheduler's SIGTERM during the fit: one line says so and that nothing was written, no
    traceback, the signal's exit status, the input untouched and no file left."""
    source = _real_copy(tmp_path)
    before = source.read_bytes()
    out = tmp_path / "out.tif"
    cmd = [sys.executable, "-m", "sardip.cli", "inpaint", str(source), "--mask", "box:40,200,40,200", "-o",
           str(out), "--iterations", "5000", "--max-side", "256"]  # fmt: skip
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.stderr is not None
    for line in proc.stderr:
        if "using cpu" in line or "claimed GPU" in line:  # the fit has started
            break
    proc.send_signal(signum)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 128 + signum
    assert "Traceback" not in rest
    assert rest.strip().splitlines()[-1] == f"sardip inpaint: {said}; nothing was written at {out}"
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.tif"]


def test_a_raster_mask_of_the_scene_is_read_by_blocks(tmp_path: Path) -> None:
    with rasterio.open(REAL_S1) as src:
        profile = {"crs": src.crs, "transform": src.transform}
    values = np.ones((256, 256), np.uint8)
    values[120:140, 50:200] = 0  # crosses the 128 px block border of the mask
    mask = tmp_path / "mask.tif"
    with rasterio.open(mask, "w", driver="GTiff", width=256, height=256, count=1, dtype="uint8", tiled=True,
                       blockxsize=128, blockysize=128, **profile) as dst:  # fmt: skip
        dst.write(values[None])
    summary = anonymise_scene([REAL_S1], str(mask), tmp_path / "out.tif", FAST)
    assert len(summary.windows) == 1 and summary.hidden_pixels == 20 * 150
    assert summary.windows[0]["areas"] == ["raster region at rows 120-140, cols 50-200"]


def test_an_open_scene_holds_gdal_block_cache_to_cache_mb() -> None:
    """Windows read across the tiles of a compressed scene fill GDAL's cache; at its default (5 % of
    the memory) the peak RSS grew with the scene. rasterio takes the value in bytes."""
    from rasterio._env import get_gdal_config

    before = get_gdal_config("GDAL_CACHEMAX")
    with Scene.open([REAL_S1]):
        assert get_gdal_config("GDAL_CACHEMAX") == CACHE_MB * 2**20
    assert get_gdal_config("GDAL_CACHEMAX") == before
