"""A scene to anonymise, read window by window: one multi-band file or one file per polarisation.

:class:`Scene` opens the input files, checks that they share one grid (size, CRS and transform, or
GCPs, within :data:`sardip.geotiff.GRID_TOLERANCE_PX`) and one nodata value, and reads any window of
all bands in their stored dtype (:meth:`Scene.read`), never the whole scene. Its values keep their
meaning: :meth:`Scene.read_db` converts a window to dB for fitting, through the bands' scale and offset
(an int16 product of dB x 100 is fitted in dB), then ``10 log10 P`` for linear power or ``20 log10 A``
for amplitude.

Which pixels hold no data is GDAL's word (:meth:`rasterio.io.DatasetReader.read_masks`: the nodata
value, an internal or external mask, an alpha band), NaN, and 0 in linear units where the file declares
no nodata value (a Sentinel-1 GRD's border); such pixels are never fitted and are written back as they
were. A pixel with data that has no dB value (0 or below in linear units: thermal-noise
removal leaves small negative sigma0) is not fitted either, but inside a hidden area it is replaced
like any other: :attr:`WindowValues.present` is what must be replaced, :attr:`WindowValues.db` what may
be fitted. An alpha band is not a band of data: it is never fitted and is copied as it is. The units
come from the user (``--units``) or from :func:`sardip.geotiff.detect_units` on a sample of the scene's
blocks, which states its reason or refuses an ambiguous file. Complex (SLC) pixels are refused: the
method works on amplitude, and their phase could not be kept.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import rasterio
from affine import Affine
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS
from rasterio.enums import ColorInterp, MaskFlags, Resampling
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from sardip.geotiff import (
    GRID_TOLERANCE_PX,
    Grid,
    UnitsError,
    band_names,
    descriptions_from_names,
    detect_units,
    holds_data,
    to_db,
)

log = logging.getLogger(__name__)


class SceneError(ValueError):
    """A scene that cannot be anonymised as asked; the message names the file."""


@dataclass(frozen=True)
class SceneGrid:
    """Where a scene lies: size, CRS and transform, or GCPs (``(row, col, x, y, z)`` each, with their
    CRS) instead of a transform."""

    width: int
    height: int
    crs: CRS | None
    transform: Affine
    gcps: tuple = ()
    gcp_crs: CRS | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    @property
    def georeferenced(self) -> bool:
        return self.crs is not None or bool(self.gcps)

    def ground_control_points(self) -> list[GroundControlPoint]:
        return [GroundControlPoint(row, col, x, y, z) for row, col, x, y, z in self.gcps]

    def difference(self, other: SceneGrid) -> str | None:
        """Why ``other`` is not this grid (``None`` when it is), within :data:`GRID_TOLERANCE_PX`:
        transforms as :meth:`sardip.geotiff.Grid.difference` compares them; GCPs by their pixel
        positions (to the tolerance) and their coordinates (to a relative 1e-9)."""
        if bool(self.gcps) != bool(other.gcps):
            return "GCPs vs a transform"
        if not self.gcps:
            mine, theirs = (Grid(g.crs, g.transform, g.width, g.height) for g in (self, other))
            return mine.difference(theirs)
        if self.shape != other.shape:
            return f"size {self.height}x{self.width} px vs {other.height}x{other.width} px"
        if self.gcp_crs != other.gcp_crs or len(self.gcps) != len(other.gcps):
            return "different GCPs"
        for a, b in zip(self.gcps, other.gcps, strict=True):
            pixel = all(abs(p - q) <= GRID_TOLERANCE_PX for p, q in zip(a[:2], b[:2], strict=True))
            place = all(math.isclose(p, q, rel_tol=1e-9, abs_tol=1e-9) for p, q in zip(a[2:], b[2:], strict=True))
            if not (pixel and place):
                return f"GCP {a} vs {b}"
        return None


#: GDAL's block cache (MB) while a scene is open, and while its copy is written (rasterio passes
#: GDAL_CACHEMAX to GDALSetCacheMax64, in bytes).
CACHE_MB = 64


class WindowValues(NamedTuple):
    """One window of a scene's bands of data (C, h, w) each: the values as stored; which pixels hold
    data (not nodata, not masked, not NaN); their dB values, NaN where there is nothing to fit."""

    stored: np.ndarray
    present: np.ndarray
    db: np.ndarray


@dataclass
class Scene:
    """The open input files of a scene; close it with :meth:`close` (or use it as a context manager).
    While open, GDAL's block cache is held to :data:`CACHE_MB`: windows read across tiles of a
    compressed scene fill it, and its default (5 % of the machine's memory) let the peak RSS grow with
    the scene (bench/results/scene.md).

    ``layout`` lists every band of the files in order, (file, band index), as the copy writes them;
    ``bands`` those that hold data (all but an alpha band), which are read, fitted and patched.
    ``descriptions``, ``colorinterp``, ``scales`` and ``offsets`` follow ``layout``."""

    paths: tuple[Path, ...]
    datasets: list = field(default_factory=list)
    layout: list[tuple[int, int]] = field(default_factory=list)
    bands: list[tuple[int, int]] = field(default_factory=list)
    grid: SceneGrid | None = None
    dtype: str = "float32"
    nodata: float | None = None
    descriptions: tuple[str | None, ...] = ()
    colorinterp: tuple[ColorInterp, ...] = ()
    scales: tuple[float, ...] = ()
    offsets: tuple[float, ...] = ()
    units: str = ""
    overview_factors: tuple[int, ...] = ()
    has_dataset_mask: bool = False
    area_or_point: str | None = None
    _env: rasterio.Env | None = None

    @classmethod
    def open(cls, paths: Sequence[str | Path], units: str = "auto", allow_no_crs: bool = False) -> Scene:
        """Open the scene's files; ``units`` ``auto`` tells them from a sample, saying how. A raster with
        neither CRS nor GCPs is refused unless ``allow_no_crs``."""
        scene = cls(tuple(Path(p) for p in paths))
        scene._env = rasterio.Env(GDAL_CACHEMAX=CACHE_MB * 2**20)
        scene._env.__enter__()
        try:
            scene._open(units, allow_no_crs)
        except BaseException:
            scene.close()
            raise
        return scene

    def _open(self, units: str, allow_no_crs: bool) -> None:
        if not self.paths:
            raise SceneError("no scene file given")
        names: list[str | None] = []
        dtypes: list[str] = []
        for i, path in enumerate(self.paths):
            src = self._open_file(path)
            self.datasets.append(src)
            grid = _grid_of(src)
            if self.grid is None:
                self.grid, self.nodata = grid, src.nodata
                self.area_or_point = src.tags().get("AREA_OR_POINT")
            else:
                why = self.grid.difference(grid)
                if why is not None:
                    raise SceneError(f"{self.paths[0]} and {path} are not on the same grid: {why}")
                if not _same(self.nodata, src.nodata):
                    raise SceneError(
                        f"{self.paths[0]} and {path} have different nodata ({self.nodata} vs {src.nodata})"
                    )
            dtypes.append(src.dtypes[0])
            for b in range(1, src.count + 1):
                self.layout.append((i, b))
                if src.colorinterp[b - 1] != ColorInterp.alpha:
                    self.bands.append((i, b))
            names += list(descriptions_from_names(path, tuple(src.descriptions)))
            self.colorinterp += tuple(src.colorinterp)
            self.scales += tuple(float(v) for v in src.scales)
            self.offsets += tuple(float(v) for v in src.offsets)
            self.overview_factors = self.overview_factors or tuple(src.overviews(1))
            self.has_dataset_mask |= any(
                MaskFlags.per_dataset in f and MaskFlags.alpha not in f for f in src.mask_flag_enums
            )
        if len(set(dtypes)) != 1:
            raise SceneError(f"scene files of different data types {dtypes}: {', '.join(map(str, self.paths))}")
        self.dtype, self.descriptions = dtypes[0], tuple(names)
        self._check_alpha()
        if not self.grid.georeferenced and not allow_no_crs:
            raise SceneError(
                f"{self.paths[0]} has no georeference (no CRS) and no GCPs: the result could not be placed on the "
                "original in a GIS; pass --allow-no-crs to inpaint it anyway"
            )
        if units == "auto":
            try:
                self.units, reason = detect_units(*self.sample())
            except UnitsError as err:
                raise SceneError(f"{self.paths[0]}: {err}") from None
            log.info("%s: %s", self.paths[0], reason)
        else:
            self.units = units

    @staticmethod
    def _open_file(path: Path) -> rasterio.io.DatasetReader:
        if not path.is_file():
            raise SceneError(f"{path}: scene file does not exist")
        try:
            src = rasterio.open(path)
        except RasterioIOError as err:
            raise SceneError(f"{path}: not a readable raster ({err})") from None
        if len(set(src.dtypes)) != 1:
            src.close()
            raise SceneError(f"{path}: bands of different data types {src.dtypes}")
        if "complex" in src.dtypes[0]:
            src.close()
            raise SceneError(
                f"{path}: complex pixels ({src.dtypes[0]}, a single-look complex product?): sardip anonymises "
                "amplitude, intensity or dB images; take the amplitude (|z|) or detect the product first"
            )
        return src

    def _check_alpha(self) -> None:
        """An alpha band is copied in place, which GDAL can write only as the second band of one file
        (``ALPHA=YES``); any other place is refused before any work."""
        alpha = [k for k, c in enumerate(self.colorinterp) if c == ColorInterp.alpha]
        if alpha and (len(self.paths) > 1 or alpha != [1]):
            raise SceneError(
                f"{self.paths[0]}: an alpha band at band {alpha[0] + 1} cannot be written back in place; "
                "turn it into a mask first (gdal_translate -b 1 -b 2 -mask 3 ...)"
            )
        if not self.bands:
            raise SceneError(f"{self.paths[0]}: no band of data, only alpha")

    def close(self) -> None:
        for src in self.datasets:
            src.close()
        self.datasets.clear()
        if self._env is not None:
            self._env.__exit__(None, None, None)
            self._env = None

    def __enter__(self) -> Scene:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def count(self) -> int:
        """Bands of data: those fitted and patched."""
        return len(self.bands)

    @property
    def band_names(self) -> tuple[str, ...]:
        """A name for every band of data."""
        return band_names(tuple(self.descriptions[self.layout.index(b)] for b in self.bands))

    @property
    def has_overviews(self) -> bool:
        return bool(self.overview_factors)

    def product_tags(self) -> dict[str, str]:
        """The first file's descriptive dataset tags (:func:`describes_product`): the product's own
        description, software, date and time, and the like, which the published copy keeps."""
        return {k: v for k, v in self.datasets[0].tags().items() if describes_product(k)}

    def band_tags(self, k: int) -> dict[str, str]:
        """The descriptive tags of ``layout[k]`` (:func:`describes_product`)."""
        i, b = self.layout[k]
        return {key: v for key, v in self.datasets[i].tags(b).items() if describes_product(key)}

    @property
    def alpha_index(self) -> int | None:
        """Where in ``layout`` the alpha band is, if there is one."""
        return next((k for k, c in enumerate(self.colorinterp) if c == ColorInterp.alpha), None)

    @cached_property
    def _scaling(self) -> tuple[np.ndarray, np.ndarray]:
        """Scale and offset (C,) float64 of the bands of data."""
        k = [self.layout.index(b) for b in self.bands]
        return np.array([self.scales[i] for i in k], np.float64), np.array([self.offsets[i] for i in k], np.float64)

    @property
    def scaled(self) -> bool:
        """Whether any band of data has a scale or offset other than 1 and 0."""
        scale, offset = self._scaling
        return bool((scale != 1).any() or (offset != 0).any())

    def _band_scaling(self, values: np.ndarray, bands: slice) -> tuple[np.ndarray, np.ndarray]:
        """Scale and offset of the bands of data ``bands``, shaped to broadcast over ``values`` (C, ...)."""
        shape = (-1, *([1] * (values.ndim - 1)))
        scale, offset = self._scaling
        return scale[bands].reshape(shape), offset[bands].reshape(shape)

    def _read(self, bands: Sequence[tuple[int, int]], window: Window, masks: bool = False) -> np.ndarray:
        out = np.empty((len(bands), int(window.height), int(window.width)), dtype="uint8" if masks else self.dtype)
        for k, (i, b) in enumerate(bands):
            try:
                src = self.datasets[i]
                out[k] = src.read_masks(b, window=window) if masks else src.read(b, window=window)
            except RasterioIOError as err:
                raise SceneError(f"{self.paths[i]}: pixels cannot be decoded ({err})") from None
        return out

    def read(self, window: Window) -> np.ndarray:
        """The bands of data of ``window`` as stored (C, h, w), in the files' dtype."""
        return self._read(self.bands, window)

    def read_layout(self, window: Window) -> np.ndarray:
        """Every band of ``window`` (``layout``, alpha included) as stored, in the files' dtype."""
        return self._read(self.layout, window)

    def dataset_mask(self, window: Window) -> np.ndarray:
        """The files' own per-dataset masks (not nodata, not alpha) of ``window``, 0 = masked, combined
        (h, w) uint8; all 255 where no file has one."""
        out = np.full((int(window.height), int(window.width)), 255, np.uint8)
        for src in self.datasets:
            if any(MaskFlags.per_dataset in f and MaskFlags.alpha not in f for f in src.mask_flag_enums):
                out = np.minimum(out, src.read_masks(1, window=window))
        return out

    def present(self, stored: np.ndarray, window: Window) -> np.ndarray:
        """Which pixels of ``stored`` (the bands of data of ``window``) hold data: GDAL's mask (nodata,
        a mask band, alpha) and :func:`sardip.geotiff.holds_data` (not NaN; not 0 in linear units of a
        file that declares no nodata, as a Sentinel-1 GRD's border)."""
        return (self._read(self.bands, window, masks=True) != 0) & holds_data(stored, self.nodata, self.units)

    def to_physical(self, stored: np.ndarray, bands: slice = slice(None)) -> np.ndarray:
        """Stored values of the bands of data ``bands`` (C, ...) through their scale and offset, float64;
        the stored values themselves (as float32) when none is set, as the files mean them."""
        if not self.scaled:
            return stored.astype(np.float32)
        scale, offset = self._band_scaling(stored, bands)
        return stored * scale + offset

    def to_raw(self, physical: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`to_physical`: what to store (before casting to the dtype)."""
        if not self.scaled:
            return physical
        scale, offset = self._band_scaling(physical, slice(None))
        return (physical - offset) / scale

    def _db(self, physical: np.ndarray, present: np.ndarray) -> np.ndarray:
        """dB values of ``physical``, NaN where there is no data, where the value is not finite, and in
        linear units at 0 or below (float32)."""
        fittable = present & np.isfinite(physical)
        if self.units != "db":
            fittable &= physical > 0
        return to_db(np.where(fittable, physical, np.nan).astype(np.float32), self.units).astype(np.float32)

    def read_db(self, window: Window) -> WindowValues:
        """``window``'s stored values, which pixels hold data, and their dB values (:meth:`_db`)."""
        stored = self.read(window)
        present = self.present(stored, window)
        return WindowValues(stored, present, self._db(self.to_physical(stored), present))

    def preview_db(self, side: int = 1024) -> np.ndarray:
        """The first band at most ``side`` px on its longer side (block averages), in dB: read through
        the file's overviews when it has some, never the whole scene at full resolution."""
        assert self.grid is not None
        factor = max(1, math.ceil(max(self.grid.shape) / side))
        shape = (math.ceil(self.grid.height / factor), math.ceil(self.grid.width / factor))
        i, b = self.bands[0]
        src = self.datasets[i]
        stored = src.read(b, out_shape=shape, resampling=Resampling.average)
        present = src.read_masks(b, out_shape=shape) != 0
        return self._db(self.to_physical(stored[None], slice(0, 1))[0], present)

    def sample(self, blocks: int = 32) -> tuple[np.ndarray, str]:
        """Values of up to ``blocks`` native blocks spread over the scene (the first band of data), for
        unit detection without reading the whole scene, with the dtype they stand for: masked pixels
        and nodata left out, through the band's scale and offset (then no longer integer counts)."""
        i, b = self.bands[0]
        src = self.datasets[i]
        windows = [w for _, w in src.block_windows(b)]
        step = max(1, len(windows) // blocks)
        chosen = windows[::step][:blocks]
        values = np.concatenate([src.read(b, window=w).ravel() for w in chosen])
        present = np.concatenate([src.read_masks(b, window=w).ravel() != 0 for w in chosen])
        values = values[present]
        scale, offset = (v[0] for v in self._scaling)
        if (scale, offset) != (1.0, 0.0):
            return values * scale + offset, "float64"
        return values, self.dtype


#: Tag prefixes (any case) that describe the original pixels (GDAL's band statistics) or an earlier edit
#: (sardip's own tags): never copied to a published file. ``AREA_OR_POINT`` is written on its own.
PIXEL_TAG_PREFIXES: tuple[str, ...] = ("STATISTICS_", "SARDIP_", "AREA_OR_POINT")


def describes_product(key: str) -> bool:
    """Whether a dataset or band tag (default domain) describes the product, and so is kept: anything
    but :data:`PIXEL_TAG_PREFIXES`. GDAL gives TIFF's own tags as ``TIFFTAG_IMAGEDESCRIPTION``,
    ``TIFFTAG_SOFTWARE``, ``TIFFTAG_DATETIME`` and so on; histograms and overviews are not tags (they
    live in ``.aux.xml`` files and the image's own levels) and are never copied either."""
    return not key.upper().startswith(PIXEL_TAG_PREFIXES)


def _grid_of(src: rasterio.io.DatasetReader) -> SceneGrid:
    gcps, gcp_crs = src.gcps
    if src.crs is None and gcps:
        points = tuple((g.row, g.col, g.x, g.y, g.z) for g in gcps)
        return SceneGrid(src.width, src.height, None, Affine.identity(), points, gcp_crs)
    return SceneGrid(src.width, src.height, src.crs, src.transform)


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == b or (math.isnan(a) and math.isnan(b))
