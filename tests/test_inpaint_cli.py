"""``sardip inpaint``: real OPERA and SEN12MS rasters in, anonymised GeoTIFF out; bad input, no output."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import torch
from rasterio.errors import NotGeoreferencedWarning
from rasterio.transform import from_origin

from sardip.cli import main
from sardip.dip.presets import get_preset
from sardip.inpaint import FitSettings, inpaint_file

torch.set_num_threads(1)
DATA = Path(__file__).resolve().parent / "data"
REAL_S1 = DATA / "sen12ms_real" / "ROIs1158_spring_s1_1_p30.tif"
OPERA = DATA / "opera_rtc" / "2021-11-19"


def _opera() -> list[str]:
    return [str(next(OPERA.glob("*_VV.tif"))), str(next(OPERA.glob("*_VH.tif")))]


def test_opera_linear_pair_through_cli(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "anon.tif"
    argv = [*_opera(), "--mask", "box:30,62,40,72", "-o", str(out), "--preset", "paper", "--land-cover", "Urban"]
    argv += ["--iterations", "12", "--report-every", "4", "--raw-out", "--mask-out", "--trajectory"]
    argv += ["--snapshots", "0,8", "--checkpoint", "--checkpoint-every", "4", "--whole-raster"]
    assert main(["inpaint", *argv]) == 0
    assert "hidden fraction: 0.1024" in capsys.readouterr().out
    with rasterio.open(_opera()[0]) as vv, rasterio.open(_opera()[1]) as vh, rasterio.open(out) as dst:
        original = np.stack([vv.read(1), vh.read(1)])
        result = dst.read()
        assert (dst.crs, dst.transform, dst.count, dst.dtypes[0]) == (vv.crs, vv.transform, 2, vv.dtypes[0])
        assert dst.descriptions == ("VV", "VH")
        assert np.isnan(dst.nodata) and np.isnan(vv.nodata)
        tags = dst.tags()
    hidden = np.zeros((100, 100), bool)
    hidden[30:62, 40:72] = True
    outside = original[:, ~hidden]
    np.testing.assert_array_equal(result[:, ~hidden].view(np.uint32), outside.view(np.uint32))  # NaN included
    inside, src_inside = result[:, hidden], original[:, hidden]
    assert np.array_equal(np.isnan(inside), np.isnan(src_inside))
    valid = inside[np.isfinite(inside)]
    assert (valid > 0).all() and 1e-5 < np.median(valid) < 10  # linear power, not dB
    assert not np.array_equal(inside, src_inside)
    params = json.loads(tags["preset_params"])
    assert tags["method"] == "dip" and tags["preset"] == "paper" and tags["units"] == "linear"
    assert params["activation"] == "relu" and tags["config_hash"] == get_preset("paper", "Urban").config_hash()
    assert tags["iterations"] == "12" and tags["seed"] == "0" and "box:30,62,40,72" in tags["mask"]
    table = pd.read_csv(tmp_path / "anon_trajectory.tsv", sep="\t")
    assert list(table.columns) == ["iteration", "loss", "ssim_known", "lr", "seconds"]
    assert table["iteration"].tolist() == [4, 8, 12]
    with rasterio.open(tmp_path / "anon_mask.tif") as mask:
        np.testing.assert_array_equal(mask.read(1), (~hidden).astype(np.uint8))
    with rasterio.open(tmp_path / "anon_raw.tif") as raw:
        np.testing.assert_array_equal(raw.read()[:, hidden], result[:, hidden])
    assert sorted(p.name for p in (tmp_path / "anon_snapshots").iterdir()) == ["iter_000000.tif", "iter_000008.tif"]
    assert not (tmp_path / "anon.ckpt").exists()
    assert not list(tmp_path.glob(".*tmp*"))


def test_sen12ms_db_tile_file_api(tmp_path: Path) -> None:
    out = tmp_path / "p30.tif"
    settings = FitSettings(preset="authors-release", iterations=3, device="cpu", report_every=3)
    summary = inpaint_file(REAL_S1, "release", out, settings)
    assert summary.hidden_fraction == pytest.approx(64 * 64 / 256**2)
    with rasterio.open(REAL_S1) as src, rasterio.open(out) as dst:
        a, b = src.read(), dst.read()
        assert dst.profile["dtype"] == src.profile["dtype"] and dst.tags()["units"] == "db"
    hidden = np.zeros((256, 256), bool)
    hidden[92:156, 179:243] = True
    np.testing.assert_array_equal(a[:, ~hidden], b[:, ~hidden])
    assert np.isfinite(b).all() and not np.array_equal(a[:, hidden], b[:, hidden])


def _all_nan(path: Path) -> str:
    profile = {"driver": "GTiff", "width": 40, "height": 40, "count": 1, "dtype": "float32", "nodata": np.nan}
    profile |= {"crs": "EPSG:32611", "transform": from_origin(500000, 4000000, 30, 30)}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.full((1, 40, 40), np.nan, np.float32))
    return str(path)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not_raster", "not_raster.txt"),
        ("mismatch", ""),
        ("all_nan", "nodata"),
        ("bad_mask", "box:1,2"),
        ("unknown_preset", "authors-release"),
        ("no_class", "land-cover"),
        ("zero_iterations", "at least 1 iteration"),
    ],
)
@pytest.mark.parametrize("path", [["--whole-raster", "--trajectory"], []], ids=["whole-raster", "windows"])
def test_bad_input_leaves_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture, case: str, message: str, path: list[str]
) -> None:
    text = tmp_path / "not_raster.txt"
    text.write_text("hello")
    inputs = {
        "not_raster": [str(text)],
        "mismatch": [str(REAL_S1), _opera()[0]],
        "all_nan": [_all_nan(tmp_path / "nan.tif")],
    }.get(case, [str(REAL_S1)])
    mask = "box:1,2" if case == "bad_mask" else "release"
    preset = {"unknown_preset": ["--preset", "fancy"], "no_class": ["--preset", "paper"]}.get(
        case, ["--preset", "authors-release"]
    )
    out = tmp_path / "out.tif"
    iterations = "0" if case == "zero_iterations" else "2"
    code = main(["inpaint", *inputs, "--mask", mask, "-o", str(out), *preset, "--iterations", iterations, *path])
    err = capsys.readouterr().err
    assert code == 2 and "error" in err and message in err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in {"not_raster.txt", "nan.tif"}) == []


def test_research_outputs_need_the_whole_raster_path(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    argv = [str(REAL_S1), "--mask", "release", "-o", str(tmp_path / "o.tif"), "--trajectory", "--raw-out"]
    assert main(["inpaint", *argv]) == 2
    assert (
        "--raw-out, --trajectory: research outputs of a whole-raster fit; add --whole-raster" in capsys.readouterr().err
    )
    assert list(tmp_path.iterdir()) == []


def test_the_default_command_needs_no_land_cover(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A new user's first command: windows only, credible's class-free activation, no provenance in the file."""
    out = tmp_path / "anon.tif"
    argv = [str(REAL_S1), "--mask", "box:100,140,100,140", "-o", str(out), "--iterations", "2", "--accept-detectable"]
    assert main(["inpaint", *argv]) == 0
    printed = capsys.readouterr().out
    assert "units: db; 1 windows, 1,600 px hidden" in printed and "provenance in" in printed
    with rasterio.open(out) as dst:
        assert set(dst.tags()) <= {"AREA_OR_POINT"}
    sidecar = json.loads(out.with_name("anon.provenance.json").read_text())
    assert sidecar["preset"] == "credible" and sidecar["preset_params"]["land_cover"] is None


def _without_crs(path: Path, driver: str) -> str:
    with rasterio.open(REAL_S1) as src:
        data = src.read(1)[:64, :64]
    scaled = np.clip((data + 25) * 10, 0, 255).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", driver=driver, width=64, height=64, count=1, dtype="uint8") as dst:
            dst.write(scaled, 1)
    return str(path)


@pytest.mark.parametrize(("name", "driver"), [("photo.png", "PNG"), ("bare.tif", "GTiff")])
def test_a_raster_without_georeference_needs_allow_no_crs(
    tmp_path: Path, capsys: pytest.CaptureFixture, name: str, driver: str
) -> None:
    source = _without_crs(tmp_path / name, driver)
    argv = ["inpaint", source, "--mask", "box:10,30,10,30", "--method", "gdal", "--units", "db"]
    assert main([*argv, "-o", str(tmp_path / "out.tif")]) == 2
    err = capsys.readouterr().err
    assert f"{source} has no georeference (no CRS)" in err and "--allow-no-crs" in err
    assert not (tmp_path / "out.tif").exists()
    assert main([*argv, "-o", str(tmp_path / "out.tif"), "--allow-no-crs", "--accept-detectable"]) == 0
    with rasterio.open(tmp_path / "out.tif") as dst:
        assert dst.crs is None and dst.read().shape == (1, 64, 64)
