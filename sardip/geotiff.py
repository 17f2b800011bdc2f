"""GeoTIFF in and out without losing what the numbers mean.

A SAR raster reaches the package in one of two layouts: one multi-band file (SEN12MS ``s1``: VV, VH in
dB) or one single-band file per polarisation (OPERA RTC: ``*_VV.tif``, ``*_VH.tif`` in linear power).
:func:`read_raster` turns either into a :class:`Raster` holding a ``(C, H, W)`` float32 array with
nodata as NaN, plus everything needed to write a result that a GIS overlays exactly on the input:
grid, on-disk dtype, nodata value, band names and the value scale (``"db"`` or ``"linear"``).
:func:`write_raster` writes such a result atomically; :func:`write_mask` writes the hidden area in
the paper's convention so that the file can be given back as a mask.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import EllipsisType

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.transform import array_bounds

from sardip.io import atomic_path
from sardip.sen12ms import FILE_RE, S1_BANDS

log = logging.getLogger(__name__)

#: Value scales: dB, linear power (sigma0, gamma0), amplitude (square root of power: GRD digital numbers
#: or calibrated amplitude). ``10 log10 P = 20 log10 A``.
UNITS = ("db", "linear", "amplitude")
#: dB per decade of each linear scale.
_DB_PER_DECADE = {"linear": 10.0, "amplitude": 20.0}
#: Polarisation token in a file name (``..._VV.tif``, ``..._vh_30m.tif``), used when a band has no description.
POL_RE = re.compile(r"(?:^|[_.-])(VV|VH|HH|HV)(?=$|[_.-])", re.IGNORECASE)
#: Metadata tag that :func:`write_mask` sets, stating the value convention of a mask file.
MASK_TAG = "SARDIP_MASK"
MASK_CONVENTION = "1 = known, 0 = hidden (paper's M); read back with invert=False"


#: How far (in pixel sizes) two grids' transform coefficients may differ and still be one grid: a grid
#: written and read back, or rebuilt from its corner coordinates, stays the same. Every grid check uses it.
GRID_TOLERANCE_PX = 1e-6


class RasterError(ValueError):
    """A raster that cannot be read or written as asked; the message names the file."""


@dataclass(frozen=True)
class Grid:
    """Pixel grid of a raster: CRS, affine transform (pixel corner to CRS coordinates) and size in px."""

    crs: CRS | None
    transform: Affine
    width: int
    height: int

    @classmethod
    def from_profile(cls, profile: dict) -> Grid:
        """Grid of a rasterio profile (``src.profile``)."""
        return cls(profile.get("crs"), profile["transform"], int(profile["width"]), int(profile["height"]))

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` in px, the shape of one band."""
        return self.height, self.width

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` in CRS units."""
        west, south, east, north = array_bounds(self.height, self.width, self.transform)
        return west, south, east, north

    def difference(self, other: Grid, tol_px: float = GRID_TOLERANCE_PX) -> str | None:
        """Why ``other`` is not the same grid (``None`` when it is).

        Transform coefficients may differ by ``tol_px`` pixel sizes, so a grid written and read back,
        or rebuilt from its corner coordinates, still counts as the same.
        """
        if (self.height, self.width) != (other.height, other.width):
            return f"size {self.height}x{self.width} px vs {other.height}x{other.width} px"
        if (self.crs is None) != (other.crs is None) or (self.crs is not None and self.crs != other.crs):
            return f"CRS {_crs_name(self.crs)} vs {_crs_name(other.crs)}"
        pixel = min(abs(self.transform.a), abs(self.transform.e)) or 1.0
        if any(abs(p - q) > tol_px * pixel for p, q in zip(self.transform[:6], other.transform[:6], strict=True)):
            return f"transform {tuple(self.transform[:6])} vs {tuple(other.transform[:6])}"
        return None

    def same_as(self, other: Grid, tol_px: float = GRID_TOLERANCE_PX) -> bool:
        """Same CRS, same transform within ``tol_px`` pixel sizes, same size."""
        return self.difference(other, tol_px) is None


def _crs_name(crs: CRS | None) -> str:
    if crs is None:
        return "none"
    return crs.to_string() or crs.to_wkt()


def _open(path: Path) -> rasterio.io.DatasetReader:
    """Open a raster; a missing georeference is not warned about here (the callers that need one say so)."""
    if not path.is_file():
        raise RasterError(f"{path}: raster file does not exist")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            return rasterio.open(path)
    except RasterioIOError as err:
        raise RasterError(f"{path}: not a readable raster ({err})") from None


def read_grid(path: str | Path) -> Grid:
    """Grid of a raster file, without reading its pixels."""
    path = Path(path)
    with _open(path) as src:
        return Grid.from_profile(src.profile)


@dataclass
class Raster:
    """A SAR raster in memory, with what is needed to write results on the same grid.

    ``data`` is ``(C, H, W)`` float32 holding the values as stored on disk (dB or linear power, see
    ``units``) with nodata replaced by NaN. ``dtype`` and ``nodata`` are the on-disk ones, so a result
    written "like" this raster reads in a GIS exactly as the input does.
    """

    data: np.ndarray
    grid: Grid
    profile: dict
    descriptions: tuple[str | None, ...]
    nodata: float | None
    dtype: str
    units: str
    sources: tuple[str, ...]

    @property
    def count(self) -> int:
        """Number of bands C."""
        return int(self.data.shape[0])

    def db(self) -> np.ndarray:
        """The data in dB, ``(C, H, W)`` float32 (a copy; see :func:`to_db`)."""
        return to_db(self.data, self.units)

    def present(self) -> np.ndarray:
        """Which pixels ``(C, H, W)`` hold data (:func:`holds_data`)."""
        return holds_data(self.data, self.nodata, self.units)

    @property
    def band_names(self) -> tuple[str, ...]:
        """A name for every band (:func:`band_names`)."""
        return band_names(self.descriptions)


def band_names(descriptions: Sequence[str | None]) -> tuple[str, ...]:
    """A name for every band, for tables, tags and figures: the ``descriptions`` when every band has
    one; otherwise two bands are taken in SEN12MS ``s1`` order (VV, VH), and any other count gets
    ``band1``, ``band2``, ..."""
    if all(descriptions):
        return tuple(str(d) for d in descriptions)
    if len(descriptions) == len(S1_BANDS):
        return S1_BANDS
    return tuple(f"band{i + 1}" for i in range(len(descriptions)))


def descriptions_from_names(path: Path, descriptions: tuple[str | None, ...]) -> tuple[str | None, ...]:
    """Band descriptions from the file, else from its name: a polarisation token, or SEN12MS ``s1`` (VV, VH)."""
    if any(descriptions):
        return tuple(d or None for d in descriptions)
    match = FILE_RE.match(path.name)
    if match is not None and match["sensor"] == "s1" and len(descriptions) == len(S1_BANDS):
        return S1_BANDS
    tokens = POL_RE.findall(path.stem)
    if len(descriptions) == 1 and tokens:
        return (tokens[-1].upper(),)
    return tuple(None for _ in descriptions)


def _read_one(path: Path) -> tuple[np.ndarray, dict, tuple[str | None, ...]]:
    with _open(path) as src:
        try:
            raw = src.read()
        except RasterioIOError as err:
            raise RasterError(f"{path}: pixels cannot be decoded, file corrupt or truncated ({err})") from None
        profile = src.profile.copy()
        names = descriptions_from_names(path, tuple(src.descriptions))
        if any(s != 1 for s in src.scales) or any(o != 0 for o in src.offsets):
            raise RasterError(
                f"{path}: bands with a scale or offset ({src.scales}, {src.offsets}) are read as whole rasters "
                "without them; anonymise it as a scene (sardip inpaint without --whole-raster), which honours them"
            )
    data = raw.astype(np.float32)
    nodata = profile.get("nodata")
    if nodata is not None and not math.isnan(nodata):
        data[raw == nodata] = np.nan
    return data, profile, names


class UnitsError(RasterError):
    """Values whose scale cannot be told without being told: the message asks for ``units``."""


def detect_units(values: np.ndarray, dtype: str | np.dtype | None = None) -> tuple[str, str]:
    """The value scale of SAR backscatter ``values`` (nodata already left out) and why, or
    :class:`UnitsError` when the values do not say it.

    Integers (uint16 Sentinel-1 GRD measurements) are amplitude digital numbers. Among floats (exact
    zeros, the border of many products, left out): dB when at least half of the values are negative
    (a bright town above 0 dB cannot outweigh its surroundings); linear power (sigma0, gamma0) when none
    is negative and the median is at most 1 (0 dB); anything else, mostly positive with a few negative
    pixels or positive with a median above 1 (amplitude or power digital numbers?), is ambiguous.
    Calibrated amplitude cannot be told from power by its values: the reason says so, for ``units``.
    """
    kind = np.dtype(dtype if dtype is not None else np.asarray(values).dtype).kind
    if kind in "iu":
        return "amplitude", f"integer pixels ({np.dtype(dtype or values.dtype)}): taken as amplitude digital numbers"
    finite = values[np.isfinite(values) & (values != 0)]
    if not finite.size:
        raise UnitsError(
            "no valid value (every pixel looked at is nodata or 0) to tell the units from; give them "
            "(--units db, linear or amplitude)"
        )
    negative = float(np.mean(finite < 0))
    median = float(np.median(finite))
    if negative >= 0.5:
        return "db", f"{negative:.0%} of the values are negative: taken as dB"
    if negative == 0 and median <= 1:
        return "linear", (
            f"no negative value, median {median:.3g}: taken as linear power (sigma0/gamma0); give --units amplitude "
            "if these are amplitudes"
        )
    raise UnitsError(
        f"values are ambiguous ({negative:.1%} negative, median {median:.3g}): neither dB nor calibrated power; "
        "give their units (--units db, linear or amplitude)"
    )


def read_raster(paths: str | Path | Sequence[str | Path], units: str = "auto") -> Raster:
    """Read one multi-band GeoTIFF, or several files stacked band after band.

    Several files (one per polarisation, as OPERA RTC ships them) must share one grid and one nodata
    value; their bands are stacked in the order given. Band descriptions come from the file, else
    from a polarisation token in the file name (``_VV``), else SEN12MS ``s1`` naming (VV, VH), else
    ``None``. ``units`` is ``"db"``, ``"linear"`` (power) or ``"auto"`` (see :func:`detect_units`);
    the returned raster carries the one used. The profile is the first file's, with the band count
    and, for mixed dtypes, the common dtype.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    files = [Path(p) for p in paths]
    if not files:
        raise RasterError("read_raster: no file given")
    if units not in (*UNITS, "auto"):
        raise RasterError(f"units={units!r}: expected one of {', '.join((*UNITS, 'auto'))}")
    bands, names, dtypes = [], [], []
    first_profile: dict = {}
    grid: Grid | None = None
    for path in files:
        data, profile, descriptions = _read_one(path)
        this_grid = Grid.from_profile(profile)
        if grid is None:
            grid, first_profile = this_grid, profile
        else:
            why = grid.difference(this_grid)
            if why is not None:
                raise RasterError(f"{files[0]} and {path} are not on the same grid: {why}")
            if not _same_nodata(first_profile.get("nodata"), profile.get("nodata")):
                raise RasterError(
                    f"{files[0]} and {path} have different nodata values "
                    f"({first_profile.get('nodata')} vs {profile.get('nodata')})"
                )
        bands.append(data)
        names.extend(descriptions)
        dtypes.append(profile["dtype"])
    assert grid is not None
    stack = np.concatenate(bands, axis=0)
    if not np.isfinite(stack).any():
        raise RasterError(f"{', '.join(map(str, files))}: no finite pixel (all nodata or NaN)")
    dtype = str(np.result_type(*dtypes))
    profile = {**first_profile, "count": stack.shape[0], "dtype": dtype}
    used = units
    if units == "auto":
        try:
            used, reason = detect_units(stack, dtype)
        except UnitsError as err:
            raise UnitsError(f"{files[0]}: {err}") from None
        log.info("%s: %s", files[0], reason)
    return Raster(
        data=stack,
        grid=grid,
        profile=profile,
        descriptions=tuple(names),
        nodata=first_profile.get("nodata"),
        dtype=dtype,
        units=used,
        sources=tuple(str(p) for p in files),
    )


def _same_nodata(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == b or (math.isnan(a) and math.isnan(b))


def _check_units(units: str) -> None:
    if units not in UNITS:
        raise ValueError(f"units={units!r}: expected one of {', '.join(UNITS)}")


def holds_data(values: np.ndarray, nodata: float | None, units: str) -> np.ndarray:
    """Which of a file's ``values`` (nodata already taken out) hold data: not NaN, and, in linear units
    of a file that declares no nodata value, not 0: the border of a Sentinel-1 GRD, which declares none.
    Where a file declares its nodata, a 0 is data (sigma0 clipped at 0 by thermal-noise removal), and a
    negative value always is. Every such pixel inside a hidden area is replaced."""
    ok = ~np.isnan(values) if values.dtype.kind == "f" else np.ones(values.shape, bool)
    if nodata is None and units != "db":
        ok &= values != 0
    return ok


def to_db(data: np.ndarray, units: str) -> np.ndarray:
    """Values in dB: ``10 log10(x)`` for linear power, ``20 log10(x)`` for amplitude, unchanged (copied)
    for dB.

    Linear values <= 0 have no dB value (0 would give -inf, which poisons every later mean); they
    become NaN, like nodata. Float32 input stays float32; integers become float32.
    """
    _check_units(units)
    data = np.asarray(data)
    out_dtype = np.result_type(data.dtype, np.float32)
    if units == "db":
        return data.astype(out_dtype, copy=True)
    out = np.full(data.shape, np.nan, dtype=out_dtype)
    np.log10(data, out=out, where=data > 0)
    out *= _DB_PER_DECADE[units]
    return out


def from_db(data_db: np.ndarray, units: str) -> np.ndarray:
    """Inverse of :func:`to_db`: ``10 ** (x / 10)`` for linear power, ``10 ** (x / 20)`` for amplitude,
    unchanged (copied) for dB."""
    _check_units(units)
    data_db = np.asarray(data_db)
    out_dtype = np.result_type(data_db.dtype, np.float32)
    if units == "db":
        return data_db.astype(out_dtype, copy=True)
    scale = out_dtype.type(_DB_PER_DECADE[units])
    return np.power(out_dtype.type(10), data_db / scale).astype(out_dtype, copy=False)


def to_stored(data: np.ndarray, dtype: str, nodata: float | None, path: str | Path = "output") -> np.ndarray:
    """``data`` cast to the on-disk ``dtype``, NaN as ``nodata``; integers rounded (half to even) and
    clipped to their range (logged, naming ``path``)."""
    target = np.dtype(dtype)
    nan = np.isnan(data) if np.issubdtype(data.dtype, np.floating) else np.zeros(data.shape, bool)
    if np.issubdtype(target, np.floating):
        out = data.astype(target)
        if nodata is not None and not math.isnan(nodata):
            out[nan] = nodata
        return out
    if nan.any() and (nodata is None or math.isnan(nodata)):
        raise RasterError(f"{path}: {int(nan.sum())} NaN pixels cannot be stored as {dtype} without a nodata value")
    info = np.iinfo(target)
    values = np.rint(np.where(nan, 0, data))
    clipped = int(((values < info.min) | (values > info.max)).sum())
    if clipped:
        log.warning("%s: %d values outside the %s range were clipped", path, clipped, dtype)
    out = np.clip(values, info.min, info.max).astype(target)
    if nan.any():
        out[nan] = nodata
    return out


#: Files beside a GeoTIFF that GDAL reads as part of it: overviews, PAM metadata and statistics, masks,
#: world files, RPC and image metadata. Named from the whole file name (``out.tif.ovr``) or its stem
#: (``out.tfw``); matched without regard to case, as GDAL looks for both.
SIDECARS_OF_NAME = (".ovr", ".aux.xml", ".msk")
SIDECARS_OF_STEM = (".aux", ".ovr", ".tfw", ".tifw", ".tiffw", ".wld", ".imd", ".rpb", "_rpc.txt")


def gdal_sidecars(path: str | Path) -> list[Path]:
    """The files beside ``path`` that GDAL would read with it (:data:`SIDECARS_OF_NAME`,
    :data:`SIDECARS_OF_STEM`), whether or not ``path`` exists."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    wanted = {(path.name + s).lower() for s in SIDECARS_OF_NAME} | {(path.stem + s).lower() for s in SIDECARS_OF_STEM}
    return sorted(p for p in path.parent.iterdir() if p.name.lower() in wanted and p != path)


@contextmanager
def published_path(path: str | Path) -> Iterator[Path]:
    """:func:`sardip.io.atomic_path` for a raster that is published: the files GDAL would read beside
    it (:func:`gdal_sidecars`: an earlier file's external overviews, statistics, mask) are removed just
    before the new file takes its name, since GDAL would serve them with it, and the file is then
    checked to be read alone. Anything else GDAL attaches is an error, and the file is removed."""
    path = Path(path)
    with atomic_path(path) as tmp:
        yield tmp
        for stale in gdal_sidecars(path):
            log.info("%s: removed %s, which GDAL would have read with the new file", path, stale.name)
            stale.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path) as written:
            extra = [f for f in written.files if Path(f).resolve() != path.resolve()]
    if extra:
        path.unlink()
        raise RasterError(f"{path}: GDAL reads {', '.join(extra)} with it, which would change what is published; "
                          "remove it and run again (nothing was written)")  # fmt: skip


def _set_band_metadata(
    dst: rasterio.io.DatasetWriter, descriptions: Sequence[str | None], tags: dict[str, str]
) -> None:
    for band, name in enumerate(descriptions, start=1):
        if name:
            dst.set_band_description(band, name)
    if tags:
        dst.update_tags(**tags)


def write_raster(
    path: str | Path,
    data: np.ndarray,
    like: Raster,
    tags: dict[str, str] | None = None,
    descriptions: Sequence[str | None] | None = None,
    dtype: str | None = None,
    nodata: float | EllipsisType | None = ...,
) -> None:
    """Write ``data`` (``(C, H, W)`` or ``(H, W)``, values as on disk) as a GeoTIFF on ``like``'s grid.

    Defaults come from ``like``: dtype, nodata (``...`` means "like's"; ``None`` writes no nodata
    tag), band descriptions (when the band count matches) and compression. NaN is written as the
    nodata value; with float NaN nodata, or none, NaN stays NaN. Integer dtypes are rounded and
    clipped to their range (logged). ``tags`` go into the dataset metadata. The file appears only
    once complete (:func:`sardip.io.atomic_path`).
    """
    path = Path(path)
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[np.newaxis]
    if data.ndim != 3 or data.shape[1:] != like.grid.shape:
        raise RasterError(
            f"{path}: data of shape {data.shape} does not fit the {like.grid.height}x{like.grid.width} px grid "
            f"of {like.sources[0] if like.sources else 'the template raster'}"
        )
    count = data.shape[0]
    if descriptions is None:
        descriptions = like.descriptions if len(like.descriptions) == count else (None,) * count
    if len(descriptions) != count:
        raise RasterError(f"{path}: {len(descriptions)} band descriptions for {count} bands")
    dtype = dtype or like.dtype
    nodata = like.nodata if nodata is ... else nodata
    profile = {
        "driver": "GTiff",
        "dtype": dtype,
        "count": count,
        "width": like.grid.width,
        "height": like.grid.height,
        "crs": like.grid.crs,
        "transform": like.grid.transform,
        "nodata": nodata,
        "compress": like.profile.get("compress", "deflate"),
    }
    disk = to_stored(data, dtype, nodata, path)
    with published_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a template without CRS was accepted as such
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(disk)
            _set_band_metadata(dst, descriptions, dict(tags or {}))


def write_mask(path: str | Path, hidden: np.ndarray, like: Raster | Grid, tags: dict[str, str] | None = None) -> None:
    """Write the hidden area ``hidden`` (``(H, W)`` bool, True = hidden) as a uint8 GeoTIFF in the paper's M.

    Pixels are 1 where known and 0 where hidden, with the tag ``SARDIP_MASK`` saying so, which is the
    convention :func:`sardip.masks.mask_from_raster` reads by default: the file can be given back as
    a mask. ``like`` gives the grid.
    """
    path = Path(path)
    grid = like.grid if isinstance(like, Raster) else like
    hidden = np.asarray(hidden)
    if hidden.shape != grid.shape:
        raise RasterError(f"{path}: mask of shape {hidden.shape} does not fit the {grid.height}x{grid.width} px grid")
    profile = {
        "driver": "GTiff",
        "dtype": "uint8",
        "count": 1,
        "width": grid.width,
        "height": grid.height,
        "crs": grid.crs,
        "transform": grid.transform,
        "compress": "deflate",
    }
    known = (~hidden.astype(bool)).astype(np.uint8)[np.newaxis]
    with published_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(known)
        _set_band_metadata(dst, ["M"], {**(tags or {}), MASK_TAG: MASK_CONVENTION})


def read_pair(original_path: str | Path, result_path: str | Path) -> tuple[Raster, Raster]:
    """An original and a result that must share grid and band count (to be compared pixel by pixel).

    Raises :class:`RasterError` naming both files when they do not.
    """
    original = read_raster(original_path)
    return original, read_result(original, original_path, result_path)


def read_result(original: Raster, original_path: str | Path, result_path: str | Path) -> Raster:
    """The result of :func:`read_pair` for an original already read, checked against it the same way."""
    result = read_raster(result_path)
    why = original.grid.difference(result.grid)
    if why is not None:
        raise RasterError(f"{original_path} and {result_path} are not on the same grid: {why}")
    if original.count != result.count:
        raise RasterError(f"{original_path} has {original.count} bands but {result_path} has {result.count}")
    return result
