import numpy as np
import pandas as pd
import pytest
from conftest import write_tif

from sardip.seeds import unit_key
from sardip.select import combine_inventories, scene_inventory, select_tiles, tile_histogram
from sardip.sen12ms import TileRef, scene_files

SEASON = "ROIs1868_summer"


def make_tile(root, scene, patch, igbp, s1=None, size=16):
    """Write an s1/lc pair whose IGBP band is ``igbp`` (a value or an array)."""
    ref = TileRef(SEASON, scene, patch)
    igbp = np.broadcast_to(np.asarray(igbp, dtype=np.uint8), (size, size))
    lc = np.stack([igbp, igbp, igbp, igbp])
    s1 = np.full((2, size, size), -10.0, np.float32) if s1 is None else s1
    write_tif(root / ref.relpath("s1"), s1)
    write_tif(root / ref.relpath("lc"), lc)
    return ref


def inventory_of(root, scenes, holdout=frozenset(), tile_size=16):
    return combine_inventories(scene_inventory(scene_files(root, SEASON, s), set(holdout), tile_size) for s in scenes)


def test_histogram_known_answer(tmp_path):
    igbp = np.full((16, 16), 17, np.uint8)  # water
    igbp[:4] = 12  # 64 croplands pixels
    igbp[4, :3] = 14  # 3 more croplands (cropland mosaic)
    s1 = np.full((2, 16, 16), -10.0, np.float32)
    s1[1, 15, :5] = np.nan  # NaN in one band makes the pixel invalid
    ref = make_tile(tmp_path, 1, 1, igbp, s1)
    row = tile_histogram(tmp_path / ref.relpath("s1"), tmp_path / ref.relpath("lc"), 16)
    assert row["n_Croplands"] == 67 and row["n_Water"] == 256 - 67 - 5
    assert row["n_nan"] == 5 and row["n_valid"] == 251


def test_purity_threshold_is_inclusive(tmp_path):
    igbp = np.full((16, 16), 10, np.uint8)
    igbp.flat[: 256 - 231] = 16  # 231/256 = 0.902 grassland
    make_tile(tmp_path, 1, 1, igbp)
    inv = inventory_of(tmp_path, [1])
    assert inv.loc[0, "majority_class"] == "Grassland"
    assert inv.loc[0, "purity"] == pytest.approx(231 / 256)
    assert len(select_tiles(inv, ["Grassland"], 0.90, 10, 0, False)) == 1
    assert len(select_tiles(inv, ["Grassland"], 0.91, 10, 0, False)) == 0


def test_real_mixed_tile_is_not_selected(real_tree):
    inv = combine_inventories([scene_inventory(scene_files(real_tree, "ROIs1158_spring", 1), set(), 256)])
    assert inv.loc[0, "status"] == "ok" and inv.loc[0, "purity"] < 0.9
    from sardip.classes import DFC2020_NAMES

    assert select_tiles(inv, list(DFC2020_NAMES.values()), 0.9, 400, 42, True).empty


def test_outside_classes_and_holdout(tmp_path):
    make_tile(tmp_path, 1, 1, 11)  # wetlands: pure but not a paper class
    make_tile(tmp_path, 2, 1, 16)  # barren in a hold-out scene
    make_tile(tmp_path, 3, 1, 16)
    inv = inventory_of(tmp_path, [1, 2, 3], holdout={f"{SEASON}/s1_2"})
    paper = ["Barren", "Croplands", "Forest", "Grassland", "Shrubland", "Urban", "Water"]
    chosen = select_tiles(inv, paper, 0.9, 10, 0, include_holdout=False)
    assert chosen["tile_id"].tolist() == [f"{SEASON}_3_p1"]
    assert len(select_tiles(inv, paper, 0.9, 10, 0, include_holdout=True)) == 2


def test_draw_is_bottom_k_and_stable_when_scenes_are_added(tmp_path):
    for patch in range(1, 9):
        make_tile(tmp_path, 1, patch, 13)
    before = select_tiles(inventory_of(tmp_path, [1]), ["Urban"], 0.9, 3, 7, False)
    keys = sorted(unit_key(f"{SEASON}_1_p{p}", 7) for p in range(1, 9))
    assert sorted(before["key"]) == keys[:3]
    for patch in range(1, 9):
        make_tile(tmp_path, 2, patch, 13)
    after = select_tiles(inventory_of(tmp_path, [1, 2]), ["Urban"], 0.9, 3, 7, False)
    kept = set(before["tile_id"]) & set(after["tile_id"])
    bumped = set(before["tile_id"]) - kept
    newcomers = after[~after["tile_id"].isin(before["tile_id"])]
    # A previous pick leaves only for a newcomer with a smaller key.
    for tile in bumped:
        assert (newcomers["key"] < before.set_index("tile_id").loc[tile, "key"]).any()
    assert len(after) == 3


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("all_nan", "every pixel is NaN"),
        ("bad_igbp", r"IGBP values outside 1..17: \[0\]"),
        ("no_lc", "S1 tile without its LC tile"),
        ("no_s1", "LC tile without its S1 tile"),
        ("wrong_size", "expected 16x16"),
        ("truncated", "corrupt or truncated|cannot read"),
        ("misnamed", "does not follow SEN12MS naming"),
    ],
)
def test_bad_tiles_are_rejected_with_reason_and_others_go_on(tmp_path, case, reason):
    good = make_tile(tmp_path, 1, 1, 16)
    if case == "all_nan":
        make_tile(tmp_path, 1, 2, 16, s1=np.full((2, 16, 16), np.nan, np.float32))
    elif case == "bad_igbp":
        make_tile(tmp_path, 1, 2, 0)
    elif case == "no_lc":
        (tmp_path / make_tile(tmp_path, 1, 2, 16).relpath("lc")).unlink()
    elif case == "no_s1":
        (tmp_path / make_tile(tmp_path, 1, 2, 16).relpath("s1")).unlink()
    elif case == "wrong_size":
        make_tile(tmp_path, 1, 2, 16, s1=np.zeros((2, 8, 8), np.float32), size=8)
    elif case == "truncated":
        path = tmp_path / make_tile(tmp_path, 1, 2, 16, size=64).relpath("s1")
        make_tile(tmp_path, 1, 2, 16, s1=np.zeros((2, 16, 16), np.float32))
        path.write_bytes(path.read_bytes()[:600])
    elif case == "misnamed":
        (tmp_path / SEASON / "s1_1" / "junk.tif").write_bytes(b"x")
    inv = inventory_of(tmp_path, [1])
    rejected = inv[inv["status"] == "rejected"]
    assert len(rejected) == 1 and rejected["reason"].str.contains(reason).all()
    assert str(tmp_path) in rejected["reason"].iloc[0]
    ok = inv[inv["status"] == "ok"]
    assert ok["tile_id"].tolist() == [good.tile_id]
    assert isinstance(select_tiles(inv, ["Barren"], 0.9, 5, 0, False), pd.DataFrame)
