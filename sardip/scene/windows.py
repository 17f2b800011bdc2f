"""Where a scene is edited: the hidden areas of a mask, and the windows that are read, fitted and written.

A scene is far larger than what is hidden in it, so nothing is done to the scene as a whole but the
final block copy. The mask (:class:`SceneMask`) yields **areas**: one per polygon of a vector file
(any CRS; mapped through the scene's transform, or its GCPs; each part of a multi-part geometry on
its own), one per connected hidden region of a raster mask of the scene's size (found block by block),
or one box (``box:``, ``random:SIZE`` drawn from the settings' seed, ``release``:
:func:`sardip.masks.box_bounds`). A geometry is hidden where it or its outline touches a pixel, so a
sliver, a line or a point on a pixel edge hides the pixels it lies on. Each area, grown by ``grow`` px,
gets a **window**: its bounding box plus a context ``margin`` on every side, widened with real
context to a multiple of ``2 ** depth`` px (what the U-Net's poolings need, so the engine pads
nothing), and clipped at the scene's edge. Areas that touch share a window (:func:`touching_groups`);
windows may overlap. A window fits every hidden pixel in it as hidden, its neighbours' too, so no
target is context, but writes only the pixels of its own areas (:meth:`SceneWindow.own`): merging
overlapping windows instead chains dense polygons into one window as large as the town. A window's
hidden pixels are rasterised on the window alone (:meth:`SceneMask.hidden`, with the ``grow`` ring of
areas just outside it), so memory follows the window.

Refused with a message naming the polygon: a polygon entirely outside the scene, and a connected hidden
area, as rasterised and grown, that holds a square more than ``max_side`` px wide
(:meth:`SceneMask.check_width`, :data:`MAX_SIDE`): touching polygons are judged together, the parts
of a multi-polygon apart, a long thin road by its width.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.features import rasterize
from rasterio.transform import GCPTransformer
from rasterio.windows import Window
from scipy import ndimage

from sardip.geotiff import Grid
from sardip.masks import (
    RASTER_SUFFIXES,
    SPEC_HELP,
    VECTOR_SUFFIXES,
    MaskError,
    box_bounds,
    grow_mask,
    raster_hidden,
    read_geometries,
)
from sardip.scene.source import SceneGrid

#: Context (px) around each hidden area in its window (bench/results/scene_limits.md measures the
#: audit's verdict by margin and area size).
MARGIN = 64
#: Largest width (px) of one connected hidden area by default: the side of the largest square it holds
#: (what decides how far a hidden pixel may lie from known ones: a 20 x 2,000 px road is as easy as a
#: 20 px square). bench/results/scene_limits.md measures the audit's verdict by area size.
MAX_SIDE = 64


@dataclass(frozen=True)
class Box:
    """A pixel rectangle of the scene: rows ``r0..r1-1``, columns ``c0..c1-1``."""

    r0: int
    r1: int
    c0: int
    c1: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.r1 - self.r0, self.c1 - self.c0

    @property
    def window(self) -> Window:
        return Window(self.c0, self.r0, self.c1 - self.c0, self.r1 - self.r0)

    def touches(self, other: Box) -> bool:
        """Overlap or a shared edge: no pixel of gap between them."""
        return self.r0 <= other.r1 and other.r0 <= self.r1 and self.c0 <= other.c1 and other.c0 <= self.c1

    def union(self, other: Box) -> Box:
        return Box(min(self.r0, other.r0), max(self.r1, other.r1), min(self.c0, other.c0), max(self.c1, other.c1))


@dataclass(frozen=True)
class Area:
    """One hidden area: its pixel bounding box and what it is (for messages and provenance)."""

    box: Box
    label: str


@dataclass(frozen=True)
class SceneWindow:
    """A window to fit: its box and its own hidden areas. Its context may hold other windows' areas,
    which it fits as hidden too but leaves to them."""

    box: Box
    areas: tuple[Area, ...]

    @property
    def name(self) -> str:
        """``r<row>c<col>``: the window's id, the corner of its areas' extent (windows may overlap,
        their areas' extents never do); its seed derives from it."""
        extent = _extent(self.areas)
        return f"r{extent.r0}c{extent.c0}"

    def own(self) -> np.ndarray:
        """The pixels (H, W) of the window inside its own areas' boxes: those it writes."""
        out = np.zeros(self.box.shape, bool)
        for a in self.areas:
            out[a.box.r0 - self.box.r0 : a.box.r1 - self.box.r0, a.box.c0 - self.box.c0 : a.box.c1 - self.box.c0] = True
        return out


def _widened(start: int, stop: int, multiple: int, size: int) -> tuple[int, int]:
    """``start..stop`` grown, centred, to a multiple of ``multiple``, within ``0..size``."""
    want = min(math.ceil((stop - start) / multiple) * multiple, size)
    start = max(0, min(start - (want - (stop - start)) // 2, size - want))
    return start, start + want


def window_of(box: Box, margin: int, multiple: int, shape: tuple[int, int]) -> Box:
    """``box`` with ``margin`` px of context on each side, widened to ``multiple``, within ``shape``."""
    height, width = shape
    r0, r1 = _widened(max(0, box.r0 - margin), min(height, box.r1 + margin), multiple, height)
    c0, c1 = _widened(max(0, box.c0 - margin), min(width, box.c1 + margin), multiple, width)
    return Box(r0, r1, c0, c1)


def _extent(areas: Sequence[Area]) -> Box:
    boxes = [a.box for a in areas]
    return Box(min(b.r0 for b in boxes), max(b.r1 for b in boxes), min(b.c0 for b in boxes), max(b.c1 for b in boxes))


def plan_windows(areas: Sequence[Area], margin: int, multiple: int, shape: tuple[int, int]) -> list[SceneWindow]:
    """The windows of ``areas`` (module docstring), one per group of touching areas, by their corners."""
    windows = [SceneWindow(window_of(_extent(g), margin, multiple, shape), tuple(g)) for g in touching_groups(areas)]
    return sorted(windows, key=lambda w: (w.box.r0, w.box.c0))


def touching_groups(areas: Sequence[Area]) -> list[list[Area]]:
    """``areas`` in groups whose extents do not touch: areas whose boxes touch, directly or through
    others, or lie in another group's extent, share a group."""
    groups = [([a], a.box) for a in areas]
    changed = True
    while changed:
        changed = False
        out: list[tuple[list[Area], Box]] = []
        for group, extent in sorted(groups, key=lambda g: (g[1].r0, g[1].c0)):
            for i, (other, around) in enumerate(out):
                if around.touches(extent):
                    out[i] = (other + group, around.union(extent))
                    changed = True
                    break
            else:
                out.append((group, extent))
        groups = out
    return [group for group, _ in groups]


def merge_touching(areas: Sequence[Area]) -> list[Area]:
    """Areas whose boxes touch, merged (the parts of one raster region split at block borders)."""
    return [Area(_extent(g), g[0].label) for g in touching_groups(areas)]


class SceneMask:
    """What to hide in a scene: a vector file, a raster mask of the scene's size, or a box."""

    def __init__(
        self,
        spec: str,
        grid: SceneGrid,
        *,
        grow: int = 0,
        invert: bool = False,
        seed: int = 0,
        max_side: int | None = None,
    ) -> None:
        if grow < 0:
            raise MaskError(f"grow={grow}: must be >= 0 px")
        self.spec, self.grid, self.grow, self.invert = spec.strip(), grid, grow, invert
        self.max_side = MAX_SIDE if max_side is None else max_side
        suffix = Path(self.spec).suffix.lower()
        self._bounds = box_bounds(self.spec, grid.shape, seed)
        if self._bounds is not None:
            self.kind = "box"
        elif suffix in VECTOR_SUFFIXES:
            self.kind = "vector"
            self._geometries, self._labels = _vector_pixels(Path(self.spec), grid)
            self._tree = shapely.STRtree(self._geometries)
        elif suffix in RASTER_SUFFIXES:
            self.kind = "raster"
            _check_raster_mask(Path(self.spec), grid)
        else:
            raise MaskError(f"mask spec {self.spec!r}: not one of {SPEC_HELP}")
        if invert and self.kind != "raster":
            raise MaskError(f"mask {self.spec!r}: invert applies only to raster masks")

    def areas(self) -> list[Area]:
        """Every hidden area, grown and checked (module docstring)."""
        height, width = self.grid.shape
        if self.kind == "box":
            (r0, r1), (c0, c1) = self._bounds
            raw = [Area(Box(r0, r1, c0, c1), self.spec)]
        elif self.kind == "vector":
            raw = [Area(_pixel_bounds(g), label) for g, label in zip(self._geometries, self._labels, strict=True)]
        else:
            raw = [Area(a.box, f"raster region at rows {a.box.r0}-{a.box.r1}, cols {a.box.c0}-{a.box.c1}")
                   for a in merge_touching(_raster_areas(Path(self.spec), self.invert))]  # fmt: skip
        areas = []
        g = self.grow
        for area in raw:
            b = area.box
            clipped = Box(max(0, b.r0 - g), min(height, b.r1 + g), max(0, b.c0 - g), min(width, b.c1 + g))
            if clipped.r0 >= clipped.r1 or clipped.c0 >= clipped.c1:
                raise MaskError(f"{area.label} of {self.spec} lies outside the {height}x{width} px scene")
            areas.append(Area(clipped, area.label))
        return areas

    def check_width(self, areas: Sequence[Area]) -> None:
        """Refuse ``areas`` (one window's: touching, grown) if a connected area of their hidden pixels
        holds a square wider than ``max_side`` px (module docstring), naming the areas in it."""
        extent = _extent(areas)
        side = self.max_side + 1
        if min(extent.shape) < side:
            return
        hidden = self.hidden(extent)
        holds = ndimage.minimum_filter(hidden.view(np.uint8), size=side, mode="constant", cval=0).astype(bool)
        if not holds.any():
            return
        labels, _ = ndimage.label(hidden, structure=np.ones((3, 3), bool))
        rows, cols = ndimage.find_objects(labels)[int(labels[holds][0]) - 1]
        where = Box(extent.r0 + rows.start, extent.r0 + rows.stop, extent.c0 + cols.start, extent.c0 + cols.stop)
        named = [a.label for a in areas if a.box.touches(where)]
        names = ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
        raise MaskError(
            f"{names} of {self.spec} hides an area {where.shape[0]}x{where.shape[1]} px, more than {self.max_side} px "
            "across both ways: the audit finds fills that large (bench/results/scene_limits.md); pass a larger "
            "--max-side to accept a less credible fill, or anonymise it otherwise"
        )

    def hidden(self, box: Box) -> np.ndarray:
        """The hidden pixels (H, W) bool of the window ``box``, grown by ``grow``: found on the box
        widened by ``grow`` (within the scene), so an area just outside it still grows into it."""
        height, width = self.grid.shape
        g = self.grow
        padded = Box(max(0, box.r0 - g), min(height, box.r1 + g), max(0, box.c0 - g), min(width, box.c1 + g))
        out = grow_mask(self._rasterised(padded), g)
        return out[box.r0 - padded.r0 : box.r1 - padded.r0, box.c0 - padded.c0 : box.c1 - padded.c0]

    def _rasterised(self, box: Box) -> np.ndarray:
        """The hidden pixels (H, W) bool of ``box`` before growing."""
        out = np.zeros(box.shape, bool)
        if self.kind == "box":
            (r0, r1), (c0, c1) = self._bounds
            out[max(r0 - box.r0, 0) : max(r1 - box.r0, 0), max(c0 - box.c0, 0) : max(c1 - box.c0, 0)] = True
        elif self.kind == "vector":
            shapes = self._geometries[self._tree.query(shapely.box(box.c0, box.r0, box.c1, box.r1))]
            if len(shapes):
                out = _burnt(shapes, box)
                # GDAL burns nothing of a sliver that hugs a pixel edge; its outline, a line, it does burn.
                missed = [s for s in shapes if not out[_pixel_box(s, box)].any()]
                if missed:
                    out |= _burnt(shapely.boundary(missed), box)
        else:
            with rasterio.open(self.spec) as src:
                values = src.read(1, window=box.window)
            out = raster_hidden(values, self.invert)
        return out


def _burnt(shapes: Sequence, box: Box) -> np.ndarray:
    """Pixels (H, W) bool of ``box`` that ``shapes`` (in scene pixel coordinates) touch."""
    burnt = [s for s in shapes if not s.is_empty]
    if not burnt:
        return np.zeros(box.shape, bool)
    return rasterize(((s, 1) for s in burnt), out_shape=box.shape, fill=0, all_touched=True,
                     transform=Affine.translation(box.c0, box.r0), dtype="uint8").astype(bool)  # fmt: skip


def _pixel_bounds(shape: shapely.Geometry) -> Box:
    """The pixels of ``shape``'s bounding box (scene pixel coordinates): a point or an edge on a pixel
    border owns the pixel below or right of it, the one GDAL burns."""
    x0, y0, x1, y1 = shape.bounds
    r0, c0 = math.floor(y0), math.floor(x0)
    return Box(r0, max(math.ceil(y1), r0 + 1), c0, max(math.ceil(x1), c0 + 1))


def _pixel_box(shape: shapely.Geometry, box: Box) -> tuple[slice, slice]:
    """:func:`_pixel_bounds` of ``shape`` as slices into ``box``."""
    b = _pixel_bounds(shape)
    return slice(max(b.r0 - box.r0, 0), max(b.r1 - box.r0, 0)), slice(max(b.c0 - box.c0, 0), max(b.c1 - box.c0, 0))


def _vector_pixels(path: Path, grid: SceneGrid) -> tuple[np.ndarray, list[str]]:
    """Every part of every geometry of a vector file mapped to the scene's pixel space (x = column,
    y = row), with a label naming it (feature id, part of a multi-part geometry, layer)."""
    target = grid.gcp_crs if grid.gcps else grid.crs
    if target is None:
        raise MaskError(f"mask {path}: the scene has no CRS or GCPs to place vector geometries on")
    geometries, labels = [], []
    for layer, src_crs, fids, geoms in read_geometries(path):
        parts, index = shapely.get_parts(geoms, return_index=True)
        projected = shapely.transform(parts, _projector(src_crs, target), interleaved=False)
        geometries += list(shapely.transform(projected, _to_pixels(grid), interleaved=False))
        counts = np.bincount(index, minlength=len(geoms))
        seen = np.zeros(len(geoms), int)
        for i in index:
            seen[i] += 1
            part = f" part {seen[i]}" if counts[i] > 1 else ""
            labels.append(f"polygon {fids[i]}{part} (layer {layer})")
    return np.array(geometries, dtype=object), labels


def _projector(src: CRS, dst: CRS):
    transformer = Transformer.from_crs(src, dst, always_xy=True)
    return lambda x, y: transformer.transform(x, y)


def _to_pixels(grid: SceneGrid):
    """Map CRS coordinates to (column, row) pixel coordinates: through the inverse transform, or the
    GCPs' thin-plate inverse."""
    if grid.gcps:
        transformer = GCPTransformer(grid.ground_control_points(), tps=True)

        def through_gcps(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            rows, cols = transformer.rowcol(x, y, op=lambda v: v)
            return np.asarray(cols, float), np.asarray(rows, float)

        return through_gcps
    inverse = ~grid.transform
    return lambda x, y: inverse * (np.asarray(x), np.asarray(y))


def _check_raster_mask(path: Path, grid: SceneGrid) -> None:
    if not path.is_file():
        raise MaskError(f"mask {path} does not exist")
    with rasterio.open(path) as src:
        if (src.height, src.width) != grid.shape or src.count != 1:
            raise MaskError(f"mask {path} is {src.count} band(s) of {src.height}x{src.width} px, the scene one band of "
                            f"{grid.height}x{grid.width} px")  # fmt: skip
        if grid.crs is not None and src.crs is not None:
            why = Grid(grid.crs, grid.transform, grid.width, grid.height).difference(Grid.from_profile(src.profile))
            if why is not None:
                raise MaskError(f"mask {path} is not on the scene's grid: {why}")


def _raster_areas(path: Path, invert: bool) -> list[Area]:
    """The hidden regions of a raster mask, per native block (merged afterwards across block borders)."""
    areas = []
    with rasterio.open(path) as src:
        for _, window in src.block_windows(1):
            values = src.read(1, window=window)
            hidden = raster_hidden(values, invert)
            labels, _ = ndimage.label(hidden)
            for sl in ndimage.find_objects(labels):
                r0, c0 = int(window.row_off) + sl[0].start, int(window.col_off) + sl[1].start
                r1, c1 = int(window.row_off) + sl[0].stop, int(window.col_off) + sl[1].stop
                areas.append(Area(Box(r0, r1, c0, c1), ""))
    return areas
