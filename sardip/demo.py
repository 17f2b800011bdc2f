"""A seeded generator of a small SEN12MS tree that looks like Sentinel-1 to a SAR reader.

Each demo scene is a ``(k+1)/2 * tile`` square raster of one landscape, cut into k x k patches
that overlap by half a tile, as SEN12MS patches do. A landscape draws an IGBP map and a noise-free
backscatter (reflectivity) in dB for VV and VH with structure typical of its land cover: field
parcels, a lake shore, street blocks with bright point scatterers, a textured canopy, smooth dark
barren ground. Speckle is then applied the way a multilook SAR processor makes it: each look is the
squared modulus of a complex circular Gaussian field, low-pass filtered so neighbouring pixels are
correlated (Sentinel-1 GRD resolves about 20 m on 10 m pixels), and ``looks`` of them are averaged,
which gives Gamma(L, 1/L) intensity with unit mean. Intensity = reflectivity x speckle, written in dB.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio.raw
import rasterio
import rasterio.enums
import shapely
from pyproj import Transformer
from rasterio.transform import from_origin
from scipy import ndimage

from sardip.seeds import name_hash
from sardip.sen12ms import LC_BANDS, S1_BANDS, TileRef

#: Per IGBP class: typical (VV, VH) sigma0 in dB and the LCCS land-cover code written to band 2.
IGBP = {"forest": 2, "deciduous": 4, "mixed_forest": 5, "shrub": 7, "savanna": 9, "grass": 10,
        "wetland": 11, "crop": 12, "urban": 13, "mosaic": 14, "barren": 16, "water": 17}  # fmt: skip

Landscape = Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]


def _smooth_field(rng: np.random.Generator, size: int, scale: float) -> np.ndarray:
    """Zero-mean, unit-std random field with features about ``scale`` pixels across."""
    field = ndimage.gaussian_filter(rng.standard_normal((size, size)), scale, mode="wrap")
    return (field - field.mean()) / (field.std() + 1e-12)


def _pol(vv: np.ndarray, vh_offset: float | np.ndarray) -> np.ndarray:
    return np.stack([vv, vv - vh_offset]).astype(np.float32)


def _forest(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    crowns = ndimage.gaussian_filter(rng.standard_normal((n, n)), 1.5)
    crowns = crowns / crowns.std()
    vv = -7.5 + 1.2 * crowns + 0.6 * _smooth_field(rng, n, n / 6)
    kinds = np.array([IGBP["forest"], IGBP["deciduous"], IGBP["mixed_forest"]], dtype=np.uint8)
    igbp = kinds[np.digitize(_smooth_field(rng, n, n / 5), [-0.6, 0.6])]
    return igbp, _pol(vv, 5.5 + 0.4 * crowns)


def _voronoi(rng: np.random.Generator, n: int, cells: int) -> np.ndarray:
    seeds = rng.uniform(0, n, size=(cells, 2)) * [1.0, 1.0]
    yy, xx = np.mgrid[0:n, 0:n]
    # Stretch distances along one axis so parcels come out as elongated fields.
    dist = (yy[..., None] - seeds[:, 0]) ** 2 + 0.25 * (xx[..., None] - seeds[:, 1]) ** 2
    return dist.argmin(axis=-1)


def _croplands(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    parcels = _voronoi(rng, n, max(8, n // 6))
    level = rng.uniform(-14.5, -7.0, parcels.max() + 1)[parcels]
    ratio = rng.uniform(5.0, 8.5, parcels.max() + 1)[parcels]
    border = ndimage.morphological_gradient(parcels, size=2) > 0
    vv = np.where(border, level - 2.5, level) + 0.4 * _smooth_field(rng, n, 2)
    igbp = np.where(rng.random(parcels.max() + 1)[parcels] < 0.85, IGBP["crop"], IGBP["mosaic"]).astype(np.uint8)
    return igbp, _pol(vv, ratio)


def _urban(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    block = int(rng.integers(9, 14))
    yy, xx = np.mgrid[0:n, 0:n]
    street = ((yy % block) < 2) | ((xx % block) < 2)
    vv = np.where(street, -15.0, -6.0 + 1.5 * _smooth_field(rng, n, 3))
    edges = ndimage.binary_dilation(street) & ~street
    corners = edges & (rng.random((n, n)) < 0.12)
    vv = np.where(corners, vv + rng.uniform(12, 20, (n, n)), vv)
    igbp = np.full((n, n), IGBP["urban"], dtype=np.uint8)
    return igbp, _pol(vv, np.where(corners, 9.0, 7.0))


def _water(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:n, 0:n] / n
    shore = 0.12 + 0.05 * np.sin(2 * np.pi * (xx * 1.5 + rng.random()))
    is_water = yy > shore
    wind = 1.0 * _smooth_field(rng, n, n / 4)
    land = -11.0 + 1.0 * _smooth_field(rng, n, 4)
    vv = np.where(is_water, -21.0 + wind, land)
    igbp = np.where(is_water, IGBP["water"], IGBP["grass"]).astype(np.uint8)
    return igbp, _pol(vv, np.where(is_water, 6.0, 7.0))


def _grassland(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    vv = -11.5 + 1.0 * _smooth_field(rng, n, n / 8) + 0.4 * _smooth_field(rng, n, 2)
    return np.full((n, n), IGBP["grass"], dtype=np.uint8), _pol(vv, 7.0)


def _shrubland(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    shrubs = _smooth_field(rng, n, 1.8) > 0.8
    vv = -12.0 + 2.5 * shrubs + 0.7 * _smooth_field(rng, n, n / 6)
    return np.full((n, n), IGBP["shrub"], dtype=np.uint8), _pol(vv, 6.8)


def _barren(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:n, 0:n]
    ripples = np.sin(2 * np.pi * (0.8 * xx + 0.6 * yy) / 14.0 + 2 * _smooth_field(rng, n, n / 5))
    vv = -17.0 + 0.8 * ripples + 0.6 * _smooth_field(rng, n, n / 6)
    return np.full((n, n), IGBP["barren"], dtype=np.uint8), _pol(vv, 8.5)


def _wetland_savanna(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    xx = np.mgrid[0:n, 0:n][1]
    wet = xx < n * (0.5 + 0.1 * _smooth_field(rng, n, n / 4))
    pools = wet & (_smooth_field(rng, n, 3) > 1.0)
    vv = np.where(wet, -12.5, -9.0) + 0.8 * _smooth_field(rng, n, 3)
    vv = np.where(pools, -19.0, vv)
    igbp = np.where(wet, IGBP["wetland"], IGBP["savanna"]).astype(np.uint8)
    return igbp, _pol(vv, np.where(wet, 8.0, 6.5))


def _forest_fields(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    igbp_f, db_f = _forest(rng, n)
    igbp_c, db_c = _croplands(rng, n)
    left = np.mgrid[0:n, 0:n][1] < n * (0.45 + 0.15 * _smooth_field(rng, n, n / 3))
    return np.where(left, igbp_f, igbp_c), np.where(left, db_f, db_c)


LANDSCAPES: dict[str, Landscape] = {
    "forest": _forest, "croplands": _croplands, "urban": _urban, "water": _water, "grassland": _grassland,
    "shrubland": _shrubland, "barren": _barren, "wetland_savanna": _wetland_savanna,
    "forest_fields": _forest_fields,
}  # fmt: skip


@dataclass(frozen=True)
class DemoScene:
    season: str
    scene: int
    landscape: str


#: Five scenes per paper class (those holding selected tiles are inpainted, the others train and
#: validate the classifiers, which never see a scene with a test tile), two mixed
#: scenes with classes outside the paper's seven. ROIs1158_spring/s1_63 and ROIs1970_fall/s1_39
#: are on the real SEN12MS hold-out list.
DEMO_SCENES: tuple[DemoScene, ...] = tuple(
    DemoScene(season, scene, landscape)
    for landscape, placements in {
        "forest": [
            ("ROIs1158_spring", 2),
            ("ROIs1868_summer", 5),
            ("ROIs2017_winter", 8),
            ("ROIs1970_fall", 3),
            ("ROIs1158_spring", 4),
        ],
        "croplands": [
            ("ROIs1158_spring", 11),
            ("ROIs1970_fall", 12),
            ("ROIs1868_summer", 13),
            ("ROIs2017_winter", 14),
            ("ROIs1868_summer", 16),
        ],
        "urban": [
            ("ROIs1868_summer", 21),
            ("ROIs1970_fall", 22),
            ("ROIs2017_winter", 23),
            ("ROIs1158_spring", 24),
            ("ROIs1970_fall", 25),
        ],
        "water": [
            ("ROIs1970_fall", 31),
            ("ROIs1158_spring", 33),
            ("ROIs1868_summer", 34),
            ("ROIs2017_winter", 36),
            ("ROIs1970_fall", 37),
        ],
        "grassland": [
            ("ROIs2017_winter", 41),
            ("ROIs1158_spring", 42),
            ("ROIs1970_fall", 44),
            ("ROIs1868_summer", 45),
            ("ROIs2017_winter", 46),
        ],
        "shrubland": [
            ("ROIs1158_spring", 51),
            ("ROIs1868_summer", 52),
            ("ROIs2017_winter", 53),
            ("ROIs1970_fall", 54),
            ("ROIs1158_spring", 55),
        ],
        "barren": [
            ("ROIs1868_summer", 61),
            ("ROIs2017_winter", 62),
            ("ROIs1970_fall", 66),
            ("ROIs1158_spring", 67),
            ("ROIs1868_summer", 68),
        ],
        "wetland_savanna": [("ROIs1158_spring", 63)],
        "forest_fields": [("ROIs1970_fall", 39)],
    }.items()
    for season, scene in placements
)

#: The one demo tile that carries NaN pixels (a swath-edge strip), as a few real SEN12MS tiles do.
NAN_TILE = TileRef("ROIs1158_spring", 42, 1)


def patch_grid(patches_per_side: int) -> list[tuple[int, int, int]]:
    """(patch number, row, col) of each patch of a scene, row-major from 1."""
    return [(1 + r * patches_per_side + c, r, c) for r in range(patches_per_side) for c in range(patches_per_side)]


def demo_tiles(patches_per_side: int) -> list[TileRef]:
    """Every tile the generator writes, in a fixed order."""
    return [TileRef(s.season, s.scene, p) for s in DEMO_SCENES for p, _, _ in patch_grid(patches_per_side)]


def correlated_speckle(rng: np.random.Generator, shape: tuple[int, ...], looks: int, corr_sigma: float) -> np.ndarray:
    """Unit-mean multilook intensity speckle, Gamma(looks, 1/looks), spatially correlated.

    Each look is |z|^2 of a complex Gaussian field filtered by a Gaussian of ``corr_sigma`` px; the
    linear filter keeps z circular Gaussian, so each look stays exponential with mean 1.
    """
    total = np.zeros(shape)
    for _ in range(looks):
        z = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        if corr_sigma > 0:
            z = ndimage.gaussian_filter(z.real, corr_sigma) + 1j * ndimage.gaussian_filter(z.imag, corr_sigma)
        total += np.abs(z) ** 2 / np.mean(np.abs(z) ** 2)
    return total / looks


def _scene_seed(seed: int, scene: DemoScene) -> int:
    return name_hash(f"{scene.season}:{scene.scene}", seed)


def scene_layers(
    scene: DemoScene, size: int, seed: int, looks: int, corr_sigma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IGBP map (size, size), noise-free reflectivity in dB and intensity speckle (2, size, size) of one
    demo scene: the truth behind :func:`render_scene`, for benchmarks that need it."""
    rng = np.random.default_rng(_scene_seed(seed, scene))
    igbp, reflectivity_db = LANDSCAPES[scene.landscape](rng, size)
    return igbp, reflectivity_db, correlated_speckle(rng, reflectivity_db.shape, looks, corr_sigma)


def render_scene(
    scene: DemoScene, size: int, seed: int, looks: int, corr_sigma: float
) -> tuple[np.ndarray, np.ndarray]:
    """IGBP map (size, size) and speckled dB image (2, size, size) of one demo scene."""
    igbp, reflectivity_db, speckle = scene_layers(scene, size, seed, looks, corr_sigma)
    return igbp, (reflectivity_db + 10 * np.log10(speckle)).astype(np.float32)


def _write(path: Path, data: np.ndarray, transform, crs: str, descriptions: tuple[str, ...]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = dict(driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                   dtype=data.dtype.name, crs=crs, transform=transform, interleave="pixel")  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        dst.descriptions = descriptions


def write_demo(
    out: str | Path, tile_size: int = 64, patches_per_side: int = 3, seed: int = 0, looks: int = 4,
    corr_sigma: float = 0.8,
) -> list[TileRef]:  # fmt: skip
    """Write the demo SEN12MS tree under ``out`` and return the tiles written."""
    if tile_size % 2 or tile_size < 16:
        raise ValueError(f"demo.tile_size must be even and >= 16, got {tile_size}")
    stride = tile_size // 2
    size = stride * (patches_per_side + 1)
    out = Path(out)
    written = []
    for scene in DEMO_SCENES:
        igbp, db = render_scene(scene, size, seed, looks, corr_sigma)
        zone = 30 + scene.scene % 30
        crs = f"EPSG:{32600 + zone}"
        x0, y0 = 300_000.0 + 2_000.0 * scene.scene, 5_000_000.0
        for patch, r, c in patch_grid(patches_per_side):
            window = np.s_[r * stride : r * stride + tile_size, c * stride : c * stride + tile_size]
            s1 = db[(slice(None), *window)].copy()
            ref = TileRef(scene.season, scene.scene, patch)
            if ref == NAN_TILE:
                s1[:, :, : tile_size // 8] = np.nan
            lc = np.stack([igbp[window], *_lccs_bands(igbp[window])])
            transform = from_origin(x0 + c * stride * 10.0, y0 - r * stride * 10.0, 10.0, 10.0)
            _write(out / ref.relpath("s1"), s1, transform, crs, S1_BANDS)
            _write(out / ref.relpath("lc"), lc.astype(np.uint8), transform, crs, LC_BANDS)
            written.append(ref)
    return written


def _lccs_bands(igbp: np.ndarray) -> list[np.ndarray]:
    """Plausible LCCS land cover / land use / hydrology bands: derived from IGBP, 255 where undefined."""
    land_cover = np.select([igbp <= 5, igbp == 17, igbp == 13], [12, 3, 255], default=30).astype(np.uint8)
    land_use = np.select([igbp == 12, igbp == 14, igbp == 13], [25, 36, 9], default=255).astype(np.uint8)
    hydrology = np.select([igbp == 17, igbp == 11], [3, 27], default=255).astype(np.uint8)
    return [land_cover, land_use, hydrology]


#: Landscapes of the demo scene's mosaic, in the order its 512 px patches take them.
SCENE_LANDSCAPES = ("forest", "grassland", "water", "barren", "shrubland", "croplands", "urban")
SCENE_PATCH = 512
#: Bright targets of the demo scene: (row, col) as shares of its side, (height, width) in px.
SCENE_TARGETS = ((0.171, 0.22, 28, 36), (0.317, 0.635, 40, 24), (0.513, 0.366, 32, 32), (0.708, 0.806, 24, 40),
                 (0.83, 0.171, 36, 28), (0.146, 0.854, 30, 30))  # fmt: skip
SCENE_CRS = "EPSG:32633"


def scene_targets(size: int) -> list[tuple[int, int, int, int]]:
    """The bright targets of a ``size`` px demo scene: (row, col, height, width) in px, at even rows
    and columns (so each starts a pixel of the first overview)."""
    if size < 512:
        raise ValueError(f"demo scene size {size}: at least 512 px")
    return [(2 * round(r * size / 2), 2 * round(c * size / 2), h, w) for r, c, h, w in SCENE_TARGETS]


def scene_image(size: int = 4096, seed: int = 0, looks: int = 4, corr_sigma: float = 0.8) -> np.ndarray:
    """The demo scene (2, size, size) in dB: a mosaic of 512 px demo landscapes with speckle, bright
    targets at :data:`SCENE_TARGETS` (15 dB above their surroundings) and a NaN border wedge on the left,
    as a GRD footprint leaves."""
    rng = np.random.default_rng(name_hash("demo-scene", seed))
    image = np.empty((2, size, size), np.float32)
    k = 0
    for r in range(0, size, SCENE_PATCH):
        for c in range(0, size, SCENE_PATCH):
            _, db = LANDSCAPES[SCENE_LANDSCAPES[k % len(SCENE_LANDSCAPES)]](rng, SCENE_PATCH)
            speckle = correlated_speckle(rng, db.shape, looks, corr_sigma)
            patch = (db + 10 * np.log10(speckle))[:, : size - r, : size - c]
            image[:, r : r + SCENE_PATCH, c : c + SCENE_PATCH] = patch
            k += 1
    for r, c, h, w in scene_targets(size):
        image[:, r : r + h, c : c + w] += 15.0
    rows = np.arange(size)[:, None]
    image[:, np.arange(size)[None, :] < 24 + rows // 64] = np.nan
    return image


def write_demo_scene(out: str | Path, size: int = 4096, seed: int = 0) -> tuple[Path, Path]:
    """Write the demo scene (``scene.tif``: float32 dB, VV and VH, tiled, DEFLATE, with overviews, NaN
    nodata) and a GeoPackage of one polygon around each of its bright targets, in WGS84 lon/lat
    (``targets.gpkg``); return both paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    image = scene_image(size, seed)
    transform = from_origin(500_000.0, 5_200_000.0, 10.0, 10.0)
    profile = {"driver": "GTiff", "width": size, "height": size, "count": 2, "dtype": "float32", "nodata": np.nan,
               "crs": SCENE_CRS, "transform": transform, "tiled": True, "blockxsize": 512, "blockysize": 512,
               "compress": "deflate"}  # fmt: skip
    scene = out / "scene.tif"
    with rasterio.open(scene, "w", **profile) as dst:
        dst.write(image)
        dst.descriptions = S1_BANDS
        dst.build_overviews([2, 4, 8], rasterio.enums.Resampling.average)
    to_wgs84 = Transformer.from_crs(SCENE_CRS, "EPSG:4326", always_xy=True)
    polygons = []
    for r, c, h, w in scene_targets(size):
        ring = ((0, 0), (w + 8, 0), (w + 8, h + 8), (0, h + 8))
        corners = [transform * (c - 4 + dx, r - 4 + dy) for dx, dy in ring]
        polygons.append(shapely.Polygon([to_wgs84.transform(x, y) for x, y in corners]))
    targets = out / "targets.gpkg"
    targets.unlink(missing_ok=True)
    names = np.array([f"target {i + 1}" for i in range(len(polygons))], dtype=object)
    pyogrio.raw.write(targets, geometry=shapely.to_wkb(polygons), field_data=[names], fields=["name"],
                      geometry_type="Polygon", crs="EPSG:4326", layer="targets", driver="GPKG")  # fmt: skip
    return scene, targets
