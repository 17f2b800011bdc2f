"""Every mask kind on the real SEN12MS grid and on an odd 37x31 grid, and every refusal."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS

from sardip.cli import main
from sardip.geotiff import Grid, read_grid, write_mask
from sardip.masks import (
    MaskError,
    box_mask,
    check_mask,
    describe_mask,
    grow_mask,
    hidden_fraction,
    make_mask,
    mask_from_raster,
    mask_from_vector,
    mask_sources,
    random_box,
    release_box,
)

S1 = Path(__file__).parent / "data" / "sen12ms_real" / "ROIs1158_spring_s1_1_p30.tif"
ODD = Grid(CRS.from_epsg(32633), Affine(20.0, 0.0, 500000.0, 0.0, -20.0, 5000000.0), width=31, height=37)


@pytest.fixture(scope="module")
def grid() -> Grid:
    return read_grid(S1)


def pixel_box(grid: Grid, rows: tuple[int, int], cols: tuple[int, int], crs: str) -> shapely.Polygon:
    """Polygon covering pixels rows[0]..rows[1]-1, cols[0]..cols[1]-1, drawn 0.25 px inside their outline.

    The inset keeps ``all_touched`` from catching neighbours through reprojection round-off, so the
    expected pixels are exactly the box.
    """
    (r0, r1), (c0, c1) = rows, cols
    corners = [(c0 + 0.25, r0 + 0.25), (c1 - 0.25, r0 + 0.25), (c1 - 0.25, r1 - 0.25), (c0 + 0.25, r1 - 0.25)]
    xy = [grid.transform * corner for corner in corners]
    to_crs = Transformer.from_crs(grid.crs, crs, always_xy=True)
    return shapely.Polygon([to_crs.transform(x, y) for x, y in xy])


def expected_box(shape: tuple[int, int], rows: tuple[int, int], cols: tuple[int, int]) -> np.ndarray:
    hidden = np.zeros(shape, dtype=bool)
    hidden[rows[0] : rows[1], cols[0] : cols[1]] = True
    return hidden


def write_vector(path: Path, geometries: list[shapely.Geometry], crs: str | None, driver: str) -> None:
    pyogrio.raw.write(
        path,
        geometry=np.array(shapely.to_wkb(geometries), dtype=object),
        field_data=[np.arange(len(geometries))],
        fields=["id"],
        geometry_type="Polygon",
        crs=crs,
        driver=driver,
    )


def test_box_and_spec_agree(grid: Grid) -> None:
    hidden = box_mask(grid.shape, (10, 20), (30, 45))
    np.testing.assert_array_equal(hidden, expected_box((256, 256), (10, 20), (30, 45)))
    np.testing.assert_array_equal(make_mask("box:10,20,30,45", grid), hidden)
    assert hidden_fraction(hidden) == pytest.approx(150 / 256**2)
    edge = box_mask((2, 37, 31), (30, 50), (25, 40))
    assert edge.shape == (37, 31) and edge.sum() == 7 * 6


def test_a_box_over_the_edge_is_cut_and_said(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="sardip.masks")
    box_mask((37, 31), (30, 50), (25, 40))
    assert "box rows 30:50, cols 25:40 runs over the edge of the 37x31 px raster: cut to rows 30:37, cols 25:31" in (
        caplog.text
    )
    caplog.clear()
    box_mask((37, 31), (3, 5), (2, 4))
    assert caplog.text == ""
    with pytest.raises(SystemExit):
        main(["inpaint", "--help"])
    assert "over the raster's edge is cut" in " ".join(capsys.readouterr().out.split())


def test_release_box_on_256_and_scaled() -> None:
    rows, cols = np.nonzero(release_box((256, 256)))
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (92, 155, 179, 242)
    rows, cols = np.nonzero(release_box((64, 64)))
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (23, 38, 45, 60)
    odd = release_box(ODD.shape)
    rows, cols = np.nonzero(odd)
    assert odd.shape == (37, 31) and rows.max() < 37 and cols.max() < 31
    assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (9, 8)
    np.testing.assert_array_equal(make_mask("release", ODD), odd)


def test_random_box_is_reproducible_and_inside() -> None:
    first = random_box(ODD.shape, 9, seed=3)
    np.testing.assert_array_equal(first, random_box(ODD.shape, 9, seed=3))
    np.testing.assert_array_equal(make_mask("random:9", ODD, seed=3), first)
    places = set()
    for seed in range(40):
        rows, cols = np.nonzero(random_box(ODD.shape, 9, seed))
        assert rows.size == 81
        places.add((rows.min(), cols.min()))
    assert len(places) > 10
    assert random_box(ODD.shape, 31, seed=0).sum() == 31 * 31


def test_raster_mask_round_trip_and_invert(tmp_path: Path, grid: Grid) -> None:
    hidden = expected_box(grid.shape, (92, 156), (179, 243))
    write_mask(tmp_path / "m.tif", hidden, like=grid)
    np.testing.assert_array_equal(mask_from_raster(tmp_path / "m.tif", grid), hidden)
    np.testing.assert_array_equal(make_mask(str(tmp_path / "m.tif"), grid), hidden)
    target = tmp_path / "target.tiff"
    profile = {"driver": "GTiff", "dtype": "float32", "count": 1, "width": 256, "height": 256}
    with rasterio.open(target, "w", crs=grid.crs, transform=grid.transform, **profile) as dst:
        values = hidden.astype(np.float32) * 3
        values[0, 0] = np.nan
        dst.write(values[np.newaxis])
    np.testing.assert_array_equal(make_mask(str(target), grid, invert=True), hidden)


def test_raster_mask_refusals(tmp_path: Path, grid: Grid) -> None:
    write_mask(tmp_path / "odd.tif", np.zeros(ODD.shape, dtype=bool), like=ODD)
    with pytest.raises(MaskError, match=r"odd\.tif is not on the raster's grid: size"):
        make_mask(str(tmp_path / "odd.tif"), grid)
    with pytest.raises(MaskError, match=r"odd\.tif hides no pixel"):
        make_mask(str(tmp_path / "odd.tif"), ODD)
    with pytest.raises(MaskError, match=r"gone\.tif.*does not exist"):
        make_mask(str(tmp_path / "gone.tif"), grid)
    with pytest.raises(MaskError, match=r"multi\.tif has 2 bands"):
        profile = {"driver": "GTiff", "dtype": "uint8", "count": 2, "width": 31, "height": 37}
        with rasterio.open(tmp_path / "multi.tif", "w", crs=ODD.crs, transform=ODD.transform, **profile) as dst:
            dst.write(np.ones((2, 37, 31), dtype=np.uint8))
        mask_from_raster(tmp_path / "multi.tif", ODD)


def test_geojson_in_wgs84_lands_on_the_pixels(tmp_path: Path, grid: Grid) -> None:
    polygons = [pixel_box(grid, (10, 30), (40, 70), "EPSG:4326"), pixel_box(grid, (200, 204), (5, 9), "EPSG:4326")]
    features = [{"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(p)} for p in polygons]
    path = tmp_path / "targets.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    hidden = make_mask(str(path), grid)
    expected = expected_box(grid.shape, (10, 30), (40, 70)) | expected_box(grid.shape, (200, 204), (5, 9))
    np.testing.assert_array_equal(hidden, expected)


def test_geopackage_in_web_mercator_with_grow(tmp_path: Path, grid: Grid) -> None:
    path = tmp_path / "target.gpkg"
    write_vector(path, [pixel_box(grid, (100, 105), (120, 125), "EPSG:3857")], "EPSG:3857", "GPKG")
    core = expected_box(grid.shape, (100, 105), (120, 125))
    np.testing.assert_array_equal(mask_from_vector(path, grid), core)
    grown = make_mask(str(path), grid, grow=2)
    assert grown.sum() == 25 + 4 * 5 * 2 + 4
    assert grown[core].all() and grown[98, 120] and grown[99, 119] and not grown[98, 119]


def test_thin_target_is_covered(tmp_path: Path) -> None:
    x0, y0 = ODD.transform * (10.4, 20.5)
    x1, y1 = ODD.transform * (10.6, 25.5)
    path = tmp_path / "mast.gpkg"
    write_vector(path, [shapely.box(x0, y1, x1, y0)], "EPSG:32633", "GPKG")
    rows, cols = np.nonzero(make_mask(str(path), ODD))
    assert set(cols) == {10} and set(rows) == set(range(20, 26))


def test_vector_refusals(tmp_path: Path, grid: Grid) -> None:
    far = tmp_path / "far.geojson"
    far.write_text(json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}))
    with pytest.raises(MaskError, match=r"far\.geojson: every geometry lies outside the raster"):
        make_mask(str(far), grid)
    no_prj = tmp_path / "no_prj.shp"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        write_vector(no_prj, [pixel_box(grid, (0, 5), (0, 5), "EPSG:32737")], None, "ESRI Shapefile")
    with pytest.raises(MaskError, match=r"no_prj\.shp has no CRS"):
        make_mask(str(no_prj), grid)
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    with pytest.raises(MaskError, match=r"bad\.json: not a readable vector file"):
        make_mask(str(bad), grid)
    empty = tmp_path / "empty.geojson"
    empty.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(MaskError, match=r"empty\.geojson holds no geometry"):
        make_mask(str(empty), grid)


def test_grow_is_a_disk() -> None:
    hidden = expected_box(ODD.shape, (10, 15), (10, 15))
    assert grow_mask(hidden, 1).sum() == 25 + 4 * 5
    grown = make_mask("box:10,15,10,15", ODD, grow=2)
    np.testing.assert_array_equal(grown, grow_mask(hidden, 2))
    assert grown.sum() == 25 + 4 * 5 * 2 + 4
    np.testing.assert_array_equal(make_mask("release", ODD, grow=1), grow_mask(release_box(ODD.shape), 1))


@pytest.mark.parametrize(
    ("spec", "kwargs", "message"),
    [
        ("box:0,37,0,31", {}, "hides every pixel"),
        ("box:40,45,0,5", {}, "lies outside the 37x31 px raster"),
        ("box:5,5,0,5", {}, "need 0 <= start < end"),
        ("box:1,2,3", {}, "expected box:R0,R1,C0,C1"),
        ("random:40", {}, "random box of 40 px does not fit"),
        ("random:big", {}, "expected random:SIZE"),
        ("box:1,2,3,4", {"invert": True}, "invert applies only to raster"),
        ("box:1,2,3,4", {"grow": -1}, "grow=-1"),
        ("circle:5", {}, "'circle:5': not one of"),
        ("targets.kml", {}, "'targets.kml': not one of"),
        ("box:0,30,0,25", {"grow": 20}, "hides every pixel"),
    ],
)
def test_make_mask_refusals(spec: str, kwargs: dict, message: str) -> None:
    with pytest.raises(MaskError, match=message):
        make_mask(spec, ODD, **kwargs)


def test_check_mask_refusals() -> None:
    with pytest.raises(MaskError, match=r"tile\.tif hides no pixel"):
        check_mask(np.zeros((37, 31), dtype=bool), "tile.tif")
    with pytest.raises(MaskError, match=r"shape \(31, 37\) does not match"):
        check_mask(np.ones((31, 37), dtype=bool), "box", ODD)
    with pytest.raises(MaskError, match="expected a 2-D bool array"):
        check_mask(np.ones((37, 31), dtype=np.uint8), "box")
    check_mask(release_box(ODD.shape), "release", ODD)


def test_describe_mask() -> None:
    assert describe_mask("release") == "release"
    assert describe_mask("random:64", seed=7) == "random:64; seed 7"
    assert describe_mask("m.tif", invert=True, grow=3) == "m.tif; inverted (nonzero = hide); grown by 3 px (disk)"


def test_mask_sources_are_the_files_a_spec_reads(tmp_path: Path) -> None:
    assert mask_sources("box:1,2,3,4") == mask_sources("random:8") == mask_sources("release") == []
    assert mask_sources(" target.gpkg ") == [Path("target.gpkg")]
    assert mask_sources("m.TIF") == [Path("m.TIF")]
    shp = tmp_path / "roads.shp"
    for suffix in (".shp", ".shx", ".dbf", ".prj"):
        shp.with_suffix(suffix).write_text("")
    assert mask_sources(str(shp)) == [shp, shp.with_suffix(".shx"), shp.with_suffix(".dbf"), shp.with_suffix(".prj")]
