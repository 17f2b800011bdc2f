"""GeoTIFF reading and writing on the real SEN12MS and OPERA RTC files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from sardip import geotiff
from sardip.geotiff import (
    Grid,
    Raster,
    RasterError,
    UnitsError,
    detect_units,
    from_db,
    read_grid,
    read_raster,
    to_db,
    write_mask,
    write_raster,
)

DATA = Path(__file__).parent / "data"
S1 = DATA / "sen12ms_real" / "ROIs1158_spring_s1_1_p30.tif"
OPERA_DIR = DATA / "opera_rtc" / "2021-11-19"
OPERA_VV = next(OPERA_DIR.glob("*_VV.tif"))
OPERA_VH = next(OPERA_DIR.glob("*_VH.tif"))


def small_raster(tmp_path: Path, data: np.ndarray, nodata: float | None, dtype: str = "float32") -> Path:
    """A GeoTIFF of odd size on a UTM grid, written with plain rasterio (independent of the code under test)."""
    path = tmp_path / "small.tif"
    count, height, width = data.shape
    profile = {
        "driver": "GTiff",
        "dtype": dtype,
        "count": count,
        "width": width,
        "height": height,
        "crs": CRS.from_epsg(32633),
        "transform": Affine(20.0, 0.0, 500000.0, 0.0, -20.0, 5000000.0),
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(dtype))
    return path


def test_reads_real_s1_tile_exactly() -> None:
    raster = read_raster(S1)
    with rasterio.open(S1) as src:
        expected = src.read()
    np.testing.assert_array_equal(raster.data, expected)
    assert raster.data.dtype == np.float32 and raster.data.shape == (2, 256, 256)
    assert raster.data[0, 0, 0] == np.float32(-8.796475)
    assert raster.data[1, 0, 0] == np.float32(-16.439539)
    assert raster.descriptions == ("VV", "VH")
    assert raster.grid.crs == CRS.from_epsg(32737)
    assert raster.grid.transform == Affine(10.0, 0.0, 375412.3389928384, 0.0, -10.0, 8116742.836060452)
    assert raster.grid.shape == (256, 256)
    assert (raster.units, raster.dtype, raster.nodata) == ("db", "float32", None)
    assert raster.sources == (str(S1),)
    assert read_grid(S1).same_as(raster.grid)


def test_stacks_opera_polarisations_as_linear() -> None:
    raster = read_raster([OPERA_VV, OPERA_VH])
    assert raster.data.shape == (2, 100, 100)
    assert raster.descriptions == ("VV", "VH")
    assert raster.units == "linear"
    assert math.isnan(raster.nodata)
    assert raster.grid.crs == CRS.from_epsg(32611)
    with rasterio.open(OPERA_VH) as src:
        np.testing.assert_array_equal(raster.data[1], src.read(1))
    np.testing.assert_allclose(raster.db(), 10 * np.log10(raster.data), rtol=1e-6)
    assert read_raster([OPERA_VV], units="db").units == "db"


def test_refuses_mismatched_grids_naming_both_files() -> None:
    with pytest.raises(RasterError, match=r"OPERA.*_VV\.tif.*p30\.tif.*not on the same grid"):
        read_raster([OPERA_VV, S1])


@pytest.mark.parametrize(
    ("content", "why"), [(b"not a tiff", "not a readable raster"), (None, "does not exist")], ids=["text", "missing"]
)
def test_refuses_unreadable_files(tmp_path: Path, content: bytes | None, why: str) -> None:
    path = tmp_path / "broken.tif"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(RasterError, match=rf"broken\.tif.*{why}"):
        read_raster(path)


def test_refuses_all_nan_and_bad_units(tmp_path: Path) -> None:
    path = small_raster(tmp_path, np.full((1, 5, 7), np.nan), nodata=None)
    with pytest.raises(RasterError, match=r"small\.tif.*no finite pixel"):
        read_raster(path)
    with pytest.raises(RasterError, match="units='power'"):
        read_raster(S1, units="power")


def test_nodata_becomes_nan_and_is_written_back(tmp_path: Path) -> None:
    values = np.arange(2 * 37 * 31, dtype=np.float32).reshape(2, 37, 31) / 100 - 20
    values[0, 3, 4] = -9999
    path = small_raster(tmp_path, values, nodata=-9999)
    raster = read_raster(path)
    assert np.isnan(raster.data[0, 3, 4]) and np.isfinite(raster.data).sum() == values.size - 1
    out = tmp_path / "out.tif"
    write_raster(out, raster.data, like=raster)
    with rasterio.open(out) as src:
        assert src.nodata == -9999 and src.read()[0, 3, 4] == -9999
        assert src.read()[1, 36, 30] == values[1, 36, 30]


def test_nan_nodata_preserved_through_a_write(tmp_path: Path) -> None:
    raster = read_raster([OPERA_VV, OPERA_VH])
    data = raster.data.copy()
    data[:, :10, :10] = np.nan
    out = tmp_path / "opera.tif"
    write_raster(out, data, like=raster)
    back = read_raster(out)
    assert math.isnan(back.nodata) and back.units == "linear"
    np.testing.assert_array_equal(back.data, data)


def test_detect_units_rule_states_its_reason_or_asks() -> None:
    units, reason = detect_units(np.array([0.02, 0.5, 3.0, np.nan, 0.0]))
    assert units == "linear" and "no negative value, median 0.5" in reason and "--units amplitude" in reason
    assert detect_units(np.array([-12.0, -3.0, 1.5]))[0] == "db"
    assert detect_units(np.array([310, 0, 52], np.uint16)) == (
        "amplitude",
        "integer pixels (uint16): taken as amplitude digital numbers",
    )
    for ambiguous in (np.array([2.0, 5.0, 0.1]), np.array([0.1, 0.2, 0.3, -0.1])):  # DN? a few negatives?
        with pytest.raises(UnitsError, match="give their units"):
            detect_units(ambiguous)
    with pytest.raises(UnitsError, match="nodata or 0"):
        detect_units(np.array([np.nan, 0.0]))


def test_amplitude_is_20_log10() -> None:
    amplitude = np.array([1.0, 10.0, 0.1], np.float32)
    np.testing.assert_allclose(to_db(amplitude, "amplitude"), [0.0, 20.0, -20.0], atol=1e-5)
    np.testing.assert_allclose(from_db(to_db(amplitude, "amplitude"), "amplitude"), amplitude, rtol=1e-6)


def test_db_round_trip() -> None:
    rng = np.random.default_rng(0)
    linear = rng.gamma(4.4, 0.05 / 4.4, size=(2, 37, 31)).astype(np.float32)
    db = to_db(linear, "linear")
    assert db.dtype == np.float32
    np.testing.assert_allclose(from_db(db, "linear"), linear, rtol=2e-6)
    np.testing.assert_allclose(to_db(from_db(db, "linear"), "linear"), db, atol=1e-5)
    np.testing.assert_array_equal(to_db(db, "db"), db)
    np.testing.assert_array_equal(from_db(db, "db"), db)
    assert np.isnan(to_db(np.array([0.0, -1.0]), "linear")).all()
    with pytest.raises(ValueError, match="units='dB'"):
        to_db(linear, "dB")


def test_write_round_trip_keeps_grid_dtype_descriptions_and_tags(tmp_path: Path) -> None:
    raster = read_raster(S1)
    out = tmp_path / "sub" / "result.tif"
    write_raster(out, raster.data - 1, like=raster, tags={"SARDIP_METHOD": "dip", "SARDIP_MASK": "release"})
    back = read_raster(out)
    assert back.grid.same_as(raster.grid) and back.grid.crs == raster.grid.crs
    assert (back.dtype, back.descriptions, back.nodata) == ("float32", ("VV", "VH"), None)
    np.testing.assert_array_equal(back.data, raster.data - 1)
    with rasterio.open(out) as src:
        assert src.tags()["SARDIP_METHOD"] == "dip" and src.tags()["SARDIP_MASK"] == "release"
    assert [p.name for p in out.parent.iterdir()] == ["result.tif"]


def test_write_integer_dtype_needs_nodata_for_nan(tmp_path: Path) -> None:
    path = small_raster(tmp_path, np.ones((1, 9, 11)), nodata=None, dtype="uint16")
    raster = read_raster(path)
    data = np.full((1, 9, 11), 70000.0)
    data[0, 0, 0] = np.nan
    with pytest.raises(RasterError, match=r"bad\.tif.*NaN pixels cannot be stored as uint16"):
        write_raster(tmp_path / "bad.tif", data, like=raster)
    write_raster(tmp_path / "ok.tif", data, like=raster, nodata=0)
    with rasterio.open(tmp_path / "ok.tif") as src:
        assert src.dtypes[0] == "uint16" and src.nodata == 0
        assert src.read(1)[0, 0] == 0 and src.read(1)[5, 5] == 65535
    assert not (tmp_path / "bad.tif").exists()


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raster = read_raster(S1)
    with pytest.raises(RasterError, match=r"wrong\.tif.*2 band descriptions for 3 bands"):
        write_raster(tmp_path / "wrong.tif", np.zeros((3, 256, 256)), like=raster, descriptions=("VV", "VH"))
    with pytest.raises(RasterError, match=r"wrong\.tif.*shape \(2, 255, 256\)"):
        write_raster(tmp_path / "wrong.tif", np.zeros((2, 255, 256)), like=raster)

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(geotiff, "_set_band_metadata", fail)
    with pytest.raises(OSError, match="disk full"):
        write_raster(tmp_path / "wrong.tif", raster.data, like=raster)
    assert list(tmp_path.iterdir()) == []


def test_write_mask_in_paper_convention(tmp_path: Path) -> None:
    raster = read_raster(S1)
    hidden = np.zeros((256, 256), dtype=bool)
    hidden[92:156, 179:243] = True
    write_mask(tmp_path / "mask.tif", hidden, like=raster, tags={"SARDIP_SPEC": "release"})
    with rasterio.open(tmp_path / "mask.tif") as src:
        m = src.read(1)
        assert src.dtypes[0] == "uint8" and src.descriptions == ("M",)
        assert "0 = hidden" in src.tags()[geotiff.MASK_TAG] and src.tags()["SARDIP_SPEC"] == "release"
        assert Grid.from_profile(src.profile).same_as(raster.grid)
    np.testing.assert_array_equal(m, (~hidden).astype(np.uint8))
    with pytest.raises(RasterError, match=r"mask2\.tif.*does not fit"):
        write_mask(tmp_path / "mask2.tif", hidden[:-1], like=raster.grid)


def test_grid_difference_tolerates_round_off() -> None:
    grid = read_grid(S1)
    t = grid.transform
    nudged = Grid(grid.crs, Affine(t.a, t.b, t.c + 1e-7, t.d, t.e, t.f), 256, 256)
    assert grid.same_as(nudged)
    shifted = Grid(grid.crs, Affine(t.a, t.b, t.c + 10, t.d, t.e, t.f), 256, 256)
    assert "transform" in grid.difference(shifted)
    assert "CRS" in grid.difference(Grid(CRS.from_epsg(32637), t, 256, 256))
    assert "size" in grid.difference(Grid(grid.crs, t, 255, 256))


def test_raster_count_and_fields() -> None:
    raster = read_raster(str(S1))
    assert isinstance(raster, Raster) and raster.count == 2
    assert raster.profile["count"] == 2


@pytest.mark.parametrize(
    ("count", "descriptions", "names"),
    [
        (2, ("HH", "HV"), ("HH", "HV")),
        (2, (None, None), ("VV", "VH")),
        (2, ("VV", None), ("VV", "VH")),
        (3, (None, None, None), ("band1", "band2", "band3")),
        (1, ("VH",), ("VH",)),
    ],
)
def test_band_names_belong_to_the_raster(
    tmp_path: Path, count: int, descriptions: tuple[str | None, ...], names: tuple[str, ...]
) -> None:
    path = small_raster(tmp_path, np.full((count, 5, 7), -10.0), None)
    with rasterio.open(path, "r+") as dst:
        for band, name in enumerate(descriptions, start=1):
            if name:
                dst.set_band_description(band, name)
    assert read_raster(path).band_names == names
