"""What to hide: the target area S of a tile, from a box, a raster or vector file, or the release's box.

Every function returns ``hidden``, an ``(H, W)`` bool array, True where a pixel is to be hidden (inside
S). The paper's mask is its complement, ``M = ~hidden`` (1 = known, 0 = hidden). The workflow, the
CLI and the metrics all go through :func:`make_mask`, which reads one spec string:

- ``box:R0,R1,C0,C1``: rows R0..R1-1, columns C0..C1-1 (0-based, half-open);
- ``random:SIZE``: a SIZE x SIZE px square at a seeded random place inside the raster;
- ``release``: the authors' release box (rows 92-155, cols 179-242 of 256 px), scaled to the tile;
- a raster file (``.tif``, ``.tiff``) on the same grid: 0 = hide (paper's M), or with ``invert``
  nonzero = hide;
- a vector file (``.geojson``, ``.json``, ``.gpkg``, ``.shp``) in any CRS (GeoJSON without a CRS is
  WGS84 lon/lat): every pixel a geometry touches is hidden.

``grow`` then widens the hidden area by N pixels (Euclidean disk), for every kind.

:func:`ring_mask` gives the known pixels around a hidden area, the ring that the fills draw from and
the audit compares the hole with.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import rasterio
import shapely
from pyogrio.errors import DataSourceError
from rasterio.crs import CRS
from rasterio.errors import RasterioIOError
from rasterio.features import rasterize
from rasterio.warp import transform_geom
from scipy.ndimage import binary_dilation, distance_transform_edt
from shapely.geometry import mapping, shape

from sardip.geotiff import Grid, RasterError, read_grid

log = logging.getLogger(__name__)

RASTER_SUFFIXES = (".tif", ".tiff")
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp")
#: The authors' release hides rows 92-155 and cols 179-242 (inclusive, 0-based) of every 256 px tile.
RELEASE_TILE = 256
RELEASE_ROWS = (92, 156)
RELEASE_COLS = (179, 243)
#: One line per spec kind, for CLI help and config schema descriptions.
SPEC_HELP = (
    "box:R0,R1,C0,C1 (0-based, half-open; a box over the raster's edge is cut there, with a warning) | "
    "random:SIZE | release | "
    "raster .tif/.tiff (0 = hide) | vector .geojson/.json/.gpkg/.shp"
)


class MaskError(ValueError):
    """A mask that cannot be built or used; the message names the spec or file."""


def _shape(shape: tuple[int, ...]) -> tuple[int, int]:
    height, width = (int(n) for n in shape[-2:])
    return height, width


Bounds = tuple[tuple[int, int], tuple[int, int]]


def checked_box(shape: tuple[int, ...], rows: tuple[int, int], cols: tuple[int, int]) -> Bounds:
    """Rows and columns of a box within a raster of ``shape`` (``(H, W)`` or ``(C, H, W)``): a box
    overhanging the edge is cut at the edge, with a warning that says so; one that is empty, negative or
    entirely outside is refused."""
    height, width = _shape(shape)
    (r0, r1), (c0, c1) = rows, cols
    if min(r0, c0) < 0 or r0 >= r1 or c0 >= c1:
        raise MaskError(f"box rows {r0}:{r1}, cols {c0}:{c1}: need 0 <= start < end on both axes")
    if r0 >= height or c0 >= width:
        raise MaskError(f"box rows {r0}:{r1}, cols {c0}:{c1} lies outside the {height}x{width} px raster")
    if r1 > height or c1 > width:
        log.warning(
            "box rows %d:%d, cols %d:%d runs over the edge of the %dx%d px raster: cut to rows %d:%d, cols %d:%d",
            r0, r1, c0, c1, height, width, r0, min(r1, height), c0, min(c1, width),
        )  # fmt: skip
    return (r0, min(r1, height)), (c0, min(c1, width))


def box_mask(shape: tuple[int, ...], rows: tuple[int, int], cols: tuple[int, int]) -> np.ndarray:
    """Hide rows ``rows[0]..rows[1]-1`` and columns ``cols[0]..cols[1]-1`` (0-based, half-open), as
    :func:`checked_box` places them."""
    (r0, r1), (c0, c1) = checked_box(shape, rows, cols)
    hidden = np.zeros(_shape(shape), dtype=bool)
    hidden[r0:r1, c0:c1] = True
    return hidden


def random_bounds(shape: tuple[int, ...], size: int, seed: int) -> Bounds:
    """A ``size`` x ``size`` px square at a place drawn from ``seed``, always fully inside the raster."""
    height, width = _shape(shape)
    if not 0 < size <= min(height, width):
        raise MaskError(f"random box of {size} px does not fit the {height}x{width} px raster")
    rng = np.random.default_rng(seed)
    r0 = int(rng.integers(0, height - size + 1))
    c0 = int(rng.integers(0, width - size + 1))
    return (r0, r0 + size), (c0, c0 + size)


def random_box(shape: tuple[int, ...], size: int, seed: int) -> np.ndarray:
    """:func:`random_bounds` as a hidden area."""
    return box_mask(shape, *random_bounds(shape, size, seed))


def release_bounds(shape: tuple[int, ...]) -> Bounds:
    """The box of the authors' release: rows 92-155, cols 179-242 (inclusive, 0-based) of a 256 px tile.

    Other sizes get the box scaled to the same relative place and size, rows by H/256 and columns by
    W/256 (rounded, at least 1 px): a 64 px tile gets rows 23-38, cols 45-60, a 16 px square.
    """
    height, width = _shape(shape)

    def scaled(span: tuple[int, int], n: int) -> tuple[int, int]:
        start = round(span[0] * n / RELEASE_TILE)
        size = max(1, round((span[1] - span[0]) * n / RELEASE_TILE))
        start = min(start, n - size)
        return start, start + size

    return scaled(RELEASE_ROWS, height), scaled(RELEASE_COLS, width)


def release_box(shape: tuple[int, ...]) -> np.ndarray:
    """:func:`release_bounds` as a hidden area."""
    return box_mask(shape, *release_bounds(shape))


def box_bounds(spec: str, shape: tuple[int, ...], seed: int = 0) -> Bounds | None:
    """The rows and columns a box-like spec hides (``box:``, ``random:SIZE`` with ``seed``, ``release``)
    in a raster of ``shape``; ``None`` for a mask file."""
    spec = spec.strip()
    kind = spec.split(":", 1)[0]
    if kind == "box":
        return checked_box(shape, *_parse_box(spec))
    if kind == "random":
        try:
            size = int(spec.split(":", 1)[1])
        except (IndexError, ValueError):
            raise MaskError(f"mask spec {spec!r}: expected random:SIZE with SIZE in px") from None
        return random_bounds(shape, size, seed)
    if spec == "release":
        return release_bounds(shape)
    return None


def mask_from_raster(path: str | Path, grid: Grid, invert: bool = False) -> np.ndarray:
    """Hidden area from band 1 of a raster on ``grid``: 0 = hide (the paper's M, as :func:`write_mask` writes).

    ``invert=True`` reads files that mark the target instead: nonzero = hide (NaN never hides).
    """
    path = Path(path)
    try:
        mask_grid = read_grid(path)
    except RasterError as err:
        raise MaskError(f"mask {err}") from None
    why = grid.difference(mask_grid)
    if why is not None:
        raise MaskError(f"mask {path} is not on the raster's grid: {why}")
    try:
        with rasterio.open(path) as src:
            if src.count != 1:
                raise MaskError(f"mask {path} has {src.count} bands, expected 1")
            values = src.read(1)
    except RasterioIOError as err:
        raise MaskError(f"mask {path}: pixels cannot be decoded ({err})") from None
    return raster_hidden(values, invert)


def raster_hidden(values: np.ndarray, invert: bool = False) -> np.ndarray:
    """The hidden pixels of raster mask values: 0 = hide (the paper's M), or with ``invert`` nonzero =
    hide (NaN never hides)."""
    if invert:
        return (values != 0) & ~np.isnan(values) if values.dtype.kind == "f" else values != 0
    return values == 0


def _vector_crs(path: Path, crs: str | None) -> CRS:
    if crs:
        return CRS.from_user_input(crs)
    if path.suffix.lower() in (".geojson", ".json"):
        return CRS.from_epsg(4326)
    raise MaskError(f"mask {path} has no CRS (for a Shapefile, add its .prj)")


def read_geometries(path: str | Path) -> list[tuple[str, CRS, np.ndarray, np.ndarray]]:
    """Every geometry layer of a vector file: (layer, CRS, feature ids, shapely geometries), empty and
    missing geometries left out; GeoJSON without a CRS is WGS84 lon/lat (RFC 7946)."""
    path = Path(path)
    if not path.is_file():
        raise MaskError(f"mask {path} does not exist")
    try:
        layers = [str(name) for name, geom_type in pyogrio.list_layers(path) if geom_type is not None]
        reads = [(layer, pyogrio.raw.read(path, layer=layer, read_geometry=True, return_fids=True)) for layer in layers]
    except DataSourceError as err:
        raise MaskError(f"mask {path}: not a readable vector file ({err})") from None
    out = []
    for layer, (meta, fids, wkb, _fields) in reads:
        geoms = shapely.from_wkb(wkb)
        keep = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
        if keep.any():
            out.append((layer, _vector_crs(path, meta.get("crs")), np.asarray(fids)[keep], geoms[keep]))
    if not out:
        raise MaskError(f"mask {path} holds no geometry")
    return out


def mask_from_vector(path: str | Path, grid: Grid, grow: int = 0) -> np.ndarray:
    """Hidden area from the geometries of a GeoJSON, GeoPackage or Shapefile (every layer).

    Geometries in any CRS are reprojected to the raster's; GeoJSON without a CRS is WGS84 lon/lat
    (RFC 7946). Rasterising marks every pixel a geometry touches (``all_touched``), so a target
    thinner than a pixel is still covered; lines and points work the same way. ``grow`` then widens
    the area by that many pixels (see :func:`grow_mask`). Geometries entirely off the raster are refused.
    """
    path = Path(path)
    if grid.crs is None:
        raise MaskError(f"mask {path}: the raster has no CRS to place vector geometries on")
    shapes = [
        transform_geom(src_crs, grid.crs, mapping(geom))
        for _layer, src_crs, _fids, geoms in read_geometries(path)
        for geom in geoms
    ]
    left, bottom, right, top = grid.bounds
    box = shapely.box(left, bottom, right, top)
    if not any(shape(s).intersects(box) for s in shapes):
        raise MaskError(f"mask {path}: every geometry lies outside the raster (bounds {grid.bounds})")
    burnt = rasterize(
        ((s, 1) for s in shapes), out_shape=grid.shape, transform=grid.transform, fill=0, all_touched=True
    )
    return grow_mask(burnt.astype(bool), grow)


def grow_mask(hidden: np.ndarray, grow: int) -> np.ndarray:
    """Widen the hidden area by ``grow`` px: every pixel within Euclidean distance ``grow`` of it (a disk)."""
    if grow < 0:
        raise MaskError(f"grow={grow}: must be >= 0 px")
    if grow == 0:
        return hidden
    y, x = np.ogrid[-grow : grow + 1, -grow : grow + 1]
    return binary_dilation(hidden, structure=x * x + y * y <= grow * grow)


def _parse_box(spec: str) -> tuple[tuple[int, int], tuple[int, int]]:
    try:
        r0, r1, c0, c1 = (int(v) for v in spec.split(":", 1)[1].split(","))
    except ValueError:
        raise MaskError(f"mask spec {spec!r}: expected box:R0,R1,C0,C1 with four integers") from None
    return (r0, r1), (c0, c1)


def make_mask(spec: str, grid: Grid, *, invert: bool = False, grow: int = 0, seed: int = 0) -> np.ndarray:
    """Hidden area ``(H, W)`` bool for a spec string (see the module docstring), checked by :func:`check_mask`.

    ``invert`` applies to raster files only; ``seed`` to ``random:`` only; ``grow`` (px) to every kind.
    """
    spec = spec.strip()
    suffix = Path(spec).suffix.lower()
    if invert and suffix not in RASTER_SUFFIXES:
        raise MaskError(f"mask spec {spec!r}: invert applies only to raster mask files")
    bounds = box_bounds(spec, grid.shape, seed)
    if bounds is not None:
        hidden = grow_mask(box_mask(grid.shape, *bounds), grow)
    elif suffix in RASTER_SUFFIXES:
        hidden = grow_mask(mask_from_raster(spec, grid, invert=invert), grow)
    elif suffix in VECTOR_SUFFIXES:
        hidden = mask_from_vector(spec, grid, grow=grow)
    else:
        raise MaskError(f"mask spec {spec!r}: not one of {SPEC_HELP}")
    check_mask(hidden, spec, grid)
    return hidden


@dataclass(frozen=True)
class MaskSpec:
    """What to hide, as the CLI, the workflow and the audit state it: a :func:`make_mask` spec,
    ``invert`` (raster files: nonzero = hide) and ``grow`` (px)."""

    spec: str
    invert: bool = False
    grow: int = 0

    def build(self, grid: Grid, seed: int = 0) -> np.ndarray:
        """The hidden area on ``grid`` (``seed``: the tile's seed, used by ``random:SIZE`` only)."""
        return make_mask(self.spec, grid, invert=self.invert, grow=self.grow, seed=seed)

    def describe(self, seed: int | None = None) -> str:
        """:func:`describe_mask` of this spec."""
        return describe_mask(self.spec, self.invert, self.grow, seed)


#: Files a Shapefile is read with, beside its ``.shp``.
SHAPEFILE_SIDECARS = (".shx", ".dbf", ".prj", ".cpg")


def mask_sources(spec: str) -> list[Path]:
    """The files a mask spec reads (none for ``box:``, ``random:`` and ``release``; a Shapefile's
    existing sidecars with it), so that a workflow can rerun the jobs using a mask when it changes."""
    spec = spec.strip()
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix not in RASTER_SUFFIXES + VECTOR_SUFFIXES:
        return []
    sidecars = [path.with_suffix(s) for s in SHAPEFILE_SIDECARS] if suffix == ".shp" else []
    return [path, *(p for p in sidecars if p.exists())]


def check_mask(hidden: np.ndarray, source: str, grid: Grid | None = None) -> None:
    """Refuse a mask that cannot anonymise anything or leaves nothing to fit.

    Raises :class:`MaskError` naming ``source`` when ``hidden`` is not a 2-D bool array, does not
    match ``grid`` (when given), hides no pixel (empty, or entirely outside the raster) or hides
    every pixel (the network would have nothing to fit).
    """
    hidden = np.asarray(hidden)
    if hidden.ndim != 2 or hidden.dtype != bool:
        raise MaskError(f"mask {source}: expected a 2-D bool array, got {hidden.dtype} of shape {hidden.shape}")
    if grid is not None and hidden.shape != grid.shape:
        raise MaskError(f"mask {source}: shape {hidden.shape} does not match the raster's {grid.shape}")
    if not hidden.any():
        raise MaskError(f"mask {source} hides no pixel (empty, or entirely outside the raster)")
    if hidden.all():
        raise MaskError(f"mask {source} hides every pixel: nothing is left to fit")


def ring_mask(hidden: np.ndarray, valid: np.ndarray, area_ratio: float = 1.0) -> np.ndarray:
    """Known valid pixels nearest to ``hidden`` (Euclidean distance), ``area_ratio`` x the hole's area.

    All pixels up to the distance of the ``ceil(area_ratio * |hidden|)``-th nearest are taken (ties
    included); near a tile edge the ring simply reaches further out. (H, W) bool.
    """
    hidden = np.asarray(hidden, dtype=bool)
    candidates = np.asarray(valid, dtype=bool) & ~hidden
    if not hidden.any() or not candidates.any():
        return np.zeros_like(hidden)
    distance = distance_transform_edt(~hidden)
    values = np.sort(distance[candidates])
    k = min(int(np.ceil(area_ratio * hidden.sum())), values.size) - 1
    return candidates & (distance <= values[k])


def hidden_fraction(hidden: np.ndarray) -> float:
    """Share of hidden pixels, 0..1."""
    return float(np.mean(hidden))


def describe_mask(spec: str, invert: bool = False, grow: int = 0, seed: int | None = None) -> str:
    """One line saying how a mask was made, for provenance tags and logs."""
    parts = [spec.strip()]
    if spec.strip().startswith("random:") and seed is not None:
        parts.append(f"seed {seed}")
    if invert:
        parts.append("inverted (nonzero = hide)")
    if grow:
        parts.append(f"grown by {grow} px (disk)")
    return "; ".join(parts)
