from pathlib import Path

import numpy as np
import pytest
import rasterio
from conftest import REAL_LC, REAL_S1, write_tif

from sardip.sen12ms import (
    TileError,
    TileRef,
    list_scenes,
    pair_scene,
    parse_tile_path,
    read_holdout,
    read_lc_igbp,
    read_s1,
    read_s1_tiles,
    scene_files,
)

REPO = Path(__file__).resolve().parents[1]


def test_real_tile_is_read_exactly():
    data = read_s1(REAL_S1, tile_size=256)
    with rasterio.open(REAL_S1) as src:
        np.testing.assert_array_equal(data, src.read())
        assert src.crs.to_epsg() == 32737
        assert src.transform.a == 10 and src.transform.e == -10
    assert data.shape == (2, 256, 256) and data.dtype == np.float32
    vv, vh = data
    assert -19.5 < vv.min() < vv.max() < -2.0 and -29.5 < vh.min() < vh.max() < -8.0
    assert vv.mean() > vh.mean()  # band order: VV first, brighter than VH


def test_real_lc_igbp():
    igbp = read_lc_igbp(REAL_LC, (256, 256))
    assert set(np.unique(igbp)) == {4, 5, 8, 9}


def test_names_round_trip():
    ref, sensor = parse_tile_path("ROIs1158_spring/s1_1/ROIs1158_spring_s1_1_p30.tif")
    assert (ref, sensor) == (TileRef("ROIs1158_spring", 1, 30), "s1")
    assert ref.tile_id == "ROIs1158_spring_1_p30" and ref.scene_id == "ROIs1158_spring/s1_1"
    assert ref.relpath("lc") == Path("ROIs1158_spring/lc_1/ROIs1158_spring_lc_1_p30.tif")
    with pytest.raises(ValueError, match="not a SEN12MS tile name"):
        parse_tile_path("tile_30.tif")


def test_discovery_and_pairing(real_tree):
    assert list_scenes(real_tree) == [("ROIs1158_spring", 1)]
    orphan = write_tif(real_tree / TileRef("ROIs1158_spring", 1, 31).relpath("s1"), np.zeros((2, 8, 8), "float32"))
    pairs, misnamed = pair_scene(scene_files(real_tree, "ROIs1158_spring", 1))
    assert misnamed == []
    assert pairs[TileRef("ROIs1158_spring", 1, 31)] == (orphan, None)
    assert all(p is not None for p in pairs[TileRef("ROIs1158_spring", 1, 30)])


def test_missing_root_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        list_scenes(tmp_path / "nowhere")


def test_holdout_list():
    holdout = read_holdout(REPO / "resources" / "SEN12MS_holdOutScenes.txt")
    assert len(holdout) == 26 and "ROIs1158_spring/s1_63" in holdout


def test_truncated_tiff_is_named(tmp_path):
    bad = tmp_path / "ROIs1158_spring_s1_1_p30.tif"
    bad.write_bytes(REAL_S1.read_bytes()[:50_000])
    with pytest.raises(TileError, match=str(bad)):
        read_s1(bad)


def test_not_a_tiff_is_named(tmp_path):
    bad = tmp_path / "x.tif"
    bad.write_text("not a tiff")
    with pytest.raises(TileError, match="cannot read S1"):
        read_s1(bad)


def test_wrong_band_count_and_size(tmp_path):
    three = write_tif(tmp_path / "three.tif", np.zeros((3, 16, 16), "float32"))
    with pytest.raises(TileError, match="3 bands, expected 2"):
        read_s1(three)
    small = write_tif(tmp_path / "small.tif", np.zeros((2, 16, 16), "float32"))
    with pytest.raises(TileError, match="16x16 px, expected 32x32"):
        read_s1(small, tile_size=32)
    lc = write_tif(tmp_path / "lc.tif", np.ones((1, 16, 16), "uint8"))
    with pytest.raises(TileError, match="1 bands, expected 4"):
        read_lc_igbp(lc)


def test_declared_nodata_becomes_nan_and_stacks_need_one_size(tmp_path):
    data = np.full((2, 16, 16), -12.0, "float32")
    data[1, :2] = -9999.0
    tile = write_tif(tmp_path / "nodata.tif", data)
    with rasterio.open(tile, "r+") as dst:
        dst.nodata = -9999.0
    read = read_s1(tile)
    assert np.isnan(read[1, :2]).all() and (read[:, 2:] == -12.0).all() and (read[0] == -12.0).all()
    assert read_s1_tiles([tile, tile]).shape == (2, 2, 16, 16)
    other = write_tif(tmp_path / "other.tif", np.zeros((2, 8, 8), "float32"))
    with pytest.raises(TileError, match="different shapes"):
        read_s1_tiles([tile, other])
