import hashlib

import numpy as np
import rasterio

from sardip.classes import PAPER_CLASSES
from sardip.demo import NAN_TILE, correlated_speckle, demo_tiles, write_demo
from sardip.select import combine_inventories, scene_inventory, select_tiles
from sardip.sen12ms import FILE_RE, read_holdout, scene_files


def test_layout_names_and_georeference(tmp_path):
    tiles = write_demo(tmp_path, tile_size=32, patches_per_side=2)
    assert tiles == demo_tiles(2)
    files = sorted(tmp_path.rglob("*.tif"))
    assert len(files) == 2 * len(tiles) and all(FILE_RE.match(f.name) for f in files)
    with rasterio.open(tmp_path / tiles[0].relpath("s1")) as s1, rasterio.open(tmp_path / tiles[0].relpath("lc")) as lc:
        assert (s1.count, s1.dtypes[0], s1.descriptions) == (2, "float32", ("VV", "VH"))
        assert (lc.count, lc.dtypes[0], lc.descriptions[0]) == (4, "uint8", "IGBP")
        assert s1.crs.is_projected and "UTM" in s1.crs.to_wkt() and s1.res == (10.0, 10.0)
        assert s1.transform == lc.transform


def test_same_seed_same_bytes(tmp_path):
    write_demo(tmp_path / "a", tile_size=32, patches_per_side=2, seed=3)
    write_demo(tmp_path / "b", tile_size=32, patches_per_side=2, seed=3)
    digest = [hashlib.sha256((tmp_path / d / NAN_TILE.relpath("s1")).read_bytes()).hexdigest() for d in "ab"]
    assert digest[0] == digest[1]


def test_every_paper_class_has_pure_tiles_and_extras_exist(tmp_path):
    from pathlib import Path

    tiles = write_demo(tmp_path, tile_size=32, patches_per_side=3)
    holdout = read_holdout(Path(__file__).resolve().parents[1] / "resources" / "SEN12MS_holdOutScenes.txt")
    scenes = sorted({(t.season, t.scene) for t in tiles})
    inv = combine_inventories(scene_inventory(scene_files(tmp_path, s, n), holdout, 32) for s, n in scenes)
    assert (inv["status"] == "ok").all()
    chosen = select_tiles(inv, list(PAPER_CLASSES), 0.9, 100, 0, include_holdout=False)
    assert set(chosen["class"]) == set(PAPER_CLASSES)
    assert (inv["purity"] < 0.9).any()  # mixed tiles
    assert {"Wetlands", "Savanna"} & set(inv["majority_class"])
    assert inv.loc[inv["tile_id"] == NAN_TILE.tile_id, "n_nan"].item() > 0
    assert inv.loc[inv["split"] == "holdout", "scene_id"].nunique() >= 2


def test_speckle_has_the_set_looks(rng):
    speckle = correlated_speckle(rng, (256, 256), looks=4, corr_sigma=0.8)
    assert abs(speckle.mean() - 1) < 0.02
    assert abs(speckle.mean() ** 2 / speckle.var() - 4) < 0.4
    lag1 = np.corrcoef(speckle[:, 1:].ravel(), speckle[:, :-1].ravel())[0, 1]
    assert lag1 > 0.2  # neighbouring pixels are correlated, as in Sentinel-1 GRD
    iid = correlated_speckle(rng, (256, 256), looks=4, corr_sigma=0)
    assert abs(np.corrcoef(iid[:, 1:].ravel(), iid[:, :-1].ravel())[0, 1]) < 0.05
