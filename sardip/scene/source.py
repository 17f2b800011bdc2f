"""A scene to anonymise, read window by window: one multi-band file or one file per polarisation.

:class:`Scene` opens the input files, checks that they share one grid (size, CRS and transform, or
GCPs) and one nodata value, and reads any window of all bands in their stored dtype and units
(:meth:`Scene.read`), never the whole scene. Its values keep their meaning: :meth:`Scene.read_db`
converts a window to dB for fitting (linear power ``10 log10 P``, amplitude ``20 log10 A``), with nodata,
NaN and, in linear units, zero (the border of a GRD product) as NaN: such pixels are never fitted and
are written back as they were. The units come from the user (``--units``) or from
:func:`sardip.geotiff.detect_units` on a sample of the scene's blocks, which states its reason or
refuses an ambiguous file.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from sardip.geotiff import UnitsError, band_names, descriptions_from_names, detect_units, to_db

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


#: GDAL's block cache (MB) while a scene is open, and while its copy is written (rasterio passes
#: GDAL_CACHEMAX to GDALSetCacheMax64, in bytes).
CACHE_MB = 64


@dataclass
class Scene:
    """The open input files of a scene; close it with :meth:`close` (or use it as a context manager).
    While open, GDAL's block cache is held to :data:`CACHE_MB`: windows read across tiles of a
    compressed scene fill it, and its default (5 % of the machine's memory) let the peak RSS grow with
    the scene (bench/results/scene.md)."""

    paths: tuple[Path, ...]
    datasets: list = field(default_factory=list)
    bands: list[tuple[int, int]] = field(default_factory=list)  # (dataset, band index) per output band
    grid: SceneGrid | None = None
    dtype: str = "float32"
    nodata: float | None = None
    descriptions: tuple[str | None, ...] = ()
    units: str = ""
    has_overviews: bool = False
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
        for i, path in enumerate(self.paths):
            if not path.is_file():
                raise SceneError(f"{path}: scene file does not exist")
            try:
                src = rasterio.open(path)
            except RasterioIOError as err:
                raise SceneError(f"{path}: not a readable raster ({err})") from None
            self.datasets.append(src)
            grid = _grid_of(src)
            if self.grid is None:
                self.grid, self.nodata, dtypes = grid, src.nodata, [src.dtypes[0]]
            else:
                if grid != self.grid:
                    raise SceneError(f"{self.paths[0]} and {path} are not on the same grid")
                if not _same(self.nodata, src.nodata):
                    raise SceneError(
                        f"{self.paths[0]} and {path} have different nodata ({self.nodata} vs {src.nodata})"
                    )
                dtypes.append(src.dtypes[0])
            if len(set(src.dtypes)) != 1:
                raise SceneError(f"{path}: bands of different data types {src.dtypes}")
            self.bands += [(i, b) for b in range(1, src.count + 1)]
            names += list(descriptions_from_names(path, tuple(src.descriptions)))
            self.has_overviews |= bool(src.overviews(1))
        if len(set(dtypes)) != 1:
            raise SceneError(f"scene files of different data types {dtypes}: {', '.join(map(str, self.paths))}")
        self.dtype, self.descriptions = dtypes[0], tuple(names)
        if not self.grid.georeferenced and not allow_no_crs:
            raise SceneError(
                f"{self.paths[0]} has no georeference (no CRS) and no GCPs: the result could not be placed on the "
                "original in a GIS; pass --allow-no-crs to inpaint it anyway"
            )
        if units == "auto":
            try:
                self.units, reason = detect_units(self.sample(), self.dtype)
            except UnitsError as err:
                raise SceneError(f"{self.paths[0]}: {err}") from None
            log.info("%s: %s", self.paths[0], reason)
        else:
            self.units = units

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
        return len(self.bands)

    @property
    def band_names(self) -> tuple[str, ...]:
        return band_names(self.descriptions)

    def read(self, window: Window) -> np.ndarray:
        """All bands of ``window`` as stored (C, h, w), in the files' dtype."""
        out = np.empty((self.count, int(window.height), int(window.width)), dtype=self.dtype)
        for k, (i, b) in enumerate(self.bands):
            try:
                out[k] = self.datasets[i].read(b, window=window)
            except RasterioIOError as err:
                raise SceneError(f"{self.paths[i]}: pixels cannot be decoded ({err})") from None
        return out

    def valid(self, values: np.ndarray) -> np.ndarray:
        """Which stored values carry backscatter: not nodata, finite, and above 0 in linear units."""
        ok = np.ones(values.shape, bool)
        if self.nodata is not None and not math.isnan(self.nodata):
            ok &= values != self.nodata
        if values.dtype.kind == "f":
            ok &= np.isfinite(values)
        if self.units != "db":
            ok &= values > 0
        return ok

    def read_db(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """(stored values, dB values with NaN where not :meth:`valid`) of ``window``, (C, h, w) each."""
        stored = self.read(window)
        db = to_db(np.where(self.valid(stored), stored, np.nan).astype(np.float32), self.units)
        return stored, db.astype(np.float32)

    def preview_db(self, side: int = 1024) -> np.ndarray:
        """The first band at most ``side`` px on its longer side (block averages), in dB: read through
        the file's overviews when it has some, never the whole scene at full resolution."""
        assert self.grid is not None
        factor = max(1, math.ceil(max(self.grid.shape) / side))
        shape = (math.ceil(self.grid.height / factor), math.ceil(self.grid.width / factor))
        i, b = self.bands[0]
        stored = self.datasets[i].read(b, out_shape=shape, resampling=Resampling.average)
        return to_db(np.where(self.valid(stored), stored, np.nan).astype(np.float32), self.units)

    def sample(self, blocks: int = 32) -> np.ndarray:
        """Valid-or-not stored values of up to ``blocks`` native blocks spread over the scene (band 1 of
        each file), for unit detection without reading the whole scene; nodata left out."""
        src = self.datasets[0]
        windows = [w for _, w in src.block_windows(1)]
        step = max(1, len(windows) // blocks)
        values = np.concatenate([src.read(1, window=w).ravel() for w in windows[::step][:blocks]])
        if self.nodata is not None and not math.isnan(self.nodata):
            values = values[values != self.nodata]
        return values


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
