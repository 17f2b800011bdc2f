"""Reading SEN12MS: its naming rules, S1/LC pairing, the hold-out scenes, and validated tile reads.

SEN12MS (Schmitt et al. 2019) stores each 256x256 patch three times, one file per sensor::

    <season>/<sensor>_<scene>/<season>_<sensor>_<scene>_p<patch>.tif      sensor in {s1, s2, lc}

``s1`` holds sigma0 in dB, bands VV then VH, float32, with no nodata tag (a few patches hold NaN);
``lc`` holds 4 uint8 bands, IGBP first. A tile is named here ``<season>_<scene>_p<patch>``
(``ROIs1158_spring_1_p30``), which is unique, file-name safe and free of the sensor token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError

SEASON_RE = re.compile(r"^ROIs\d{4}_[a-z]+$")
SCENE_DIR_RE = re.compile(r"^(?P<sensor>s1|s2|lc)_(?P<scene>\d+)$")
FILE_RE = re.compile(r"^(?P<season>ROIs\d{4}_[a-z]+)_(?P<sensor>s1|s2|lc)_(?P<scene>\d+)_p(?P<patch>\d+)\.tif$")
TIF_SUFFIXES = (".tif", ".tiff")
S1_BANDS = ("VV", "VH")
LC_BANDS = ("IGBP", "LCCS_LC", "LCCS_LU", "LCCS_SH")


class TileError(ValueError):
    """A tile that cannot be used; the message names the file and the reason."""


@dataclass(frozen=True, order=True)
class TileRef:
    """One SEN12MS patch, independent of sensor."""

    season: str
    scene: int
    patch: int

    @property
    def tile_id(self) -> str:
        return f"{self.season}_{self.scene}_p{self.patch}"

    @property
    def scene_id(self) -> str:
        """Scene as the hold-out list writes it (``ROIs1158_spring/s1_1``)."""
        return f"{self.season}/s1_{self.scene}"

    def relpath(self, sensor: str) -> Path:
        name = f"{self.season}_{sensor}_{self.scene}_p{self.patch}.tif"
        return Path(self.season) / f"{sensor}_{self.scene}" / name


def parse_tile_path(path: str | Path) -> tuple[TileRef, str]:
    """Tile and sensor of a SEN12MS file name; ``ValueError`` for a name off the dataset's pattern."""
    match = FILE_RE.match(Path(path).name)
    if match is None:
        raise ValueError(f"{path}: not a SEN12MS tile name (<season>_<sensor>_<scene>_p<patch>.tif)")
    ref = TileRef(match["season"], int(match["scene"]), int(match["patch"]))
    return ref, match["sensor"]


def list_scenes(root: str | Path) -> list[tuple[str, int]]:
    """Every (season, scene) with an s1 or lc folder under ``root``, sorted.

    Only folders are listed, never tiles, so planning a workflow over the full dataset stays cheap.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"data root {root} does not exist or is not a folder")
    scenes = set()
    for season_dir in root.iterdir():
        if not (season_dir.is_dir() and SEASON_RE.match(season_dir.name)):
            continue
        for scene_dir in season_dir.iterdir():
            match = SCENE_DIR_RE.match(scene_dir.name)
            if scene_dir.is_dir() and match and match["sensor"] in ("s1", "lc"):
                scenes.add((season_dir.name, int(match["scene"])))
    return sorted(scenes)


def scene_files(root: str | Path, season: str, scene: int) -> list[Path]:
    """The GeoTIFFs in the s1 and lc folders of one scene (either folder may be missing)."""
    files: list[Path] = []
    for sensor in ("s1", "lc"):
        folder = Path(root) / season / f"{sensor}_{scene}"
        if folder.is_dir():
            files.extend(sorted(p for p in folder.iterdir() if p.suffix.lower() in TIF_SUFFIXES))
    return files


def expand_folders(paths: Sequence[str | Path]) -> list[Path]:
    """Tile files of a mix of files and scene folders (a folder stands for the GeoTIFFs in it)."""
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in TIF_SUFFIXES) if path.is_dir() else [path])
    return files


def pair_scene(files: list[Path]) -> tuple[dict[TileRef, tuple[Path | None, Path | None]], list[Path]]:
    """Pair s1 and lc files of a scene by patch number.

    Returns ``{tile: (s1_path, lc_path)}`` with ``None`` for a missing partner, and the files whose
    names do not follow the dataset's rules.
    """
    pairs: dict[TileRef, list[Path | None]] = {}
    misnamed: list[Path] = []
    for path in files:
        try:
            ref, sensor = parse_tile_path(path)
        except ValueError:
            misnamed.append(path)
            continue
        slot = pairs.setdefault(ref, [None, None])
        slot[0 if sensor == "s1" else 1] = path
    return {ref: (s1, lc) for ref, (s1, lc) in sorted(pairs.items())}, misnamed


def read_holdout(path: str | Path) -> set[str]:
    """Hold-out scenes (``ROIsXXXX_season/s1_N`` per line) of the SEN12MS classification split."""
    lines = Path(path).read_text().split()
    return {line.strip() for line in lines if line.strip()}


def _open(path: Path, what: str) -> rasterio.io.DatasetReader:
    try:
        return rasterio.open(path)
    except RasterioIOError as err:
        raise TileError(f"{path}: cannot read {what} tile ({err})") from None


def read_s1(path: str | Path, tile_size: int | None = None) -> np.ndarray:
    """Read an S1 tile as float32 dB, shape (2, H, W) (VV, VH), nodata (if the file declares one) as NaN.

    The one reader of S1 tiles (selection, labels, classifiers, experiments). Checks band count, size
    (when ``tile_size`` is given) and that the pixels decode, so a truncated file fails here with its
    name rather than deep inside a later stage.
    """
    path = Path(path)
    with _open(path, "S1") as src:
        if src.count != 2:
            raise TileError(f"{path}: S1 tile has {src.count} bands, expected 2 (VV, VH)")
        if tile_size is not None and (src.height, src.width) != (tile_size, tile_size):
            raise TileError(f"{path}: S1 tile is {src.height}x{src.width} px, expected {tile_size}x{tile_size}")
        try:
            raw = src.read()
        except RasterioIOError as err:
            raise TileError(f"{path}: S1 tile is corrupt or truncated ({err})") from None
        nodata = src.nodata
    data = raw.astype(np.float32)
    if nodata is not None and not np.isnan(nodata):
        data[raw == nodata] = np.nan
    return data


def read_s1_tiles(paths: Sequence[str | Path]) -> np.ndarray:
    """The S1 tiles at ``paths`` stacked as (B, 2, H, W) float32 dB (:func:`read_s1`); all must be one size."""
    tiles = [read_s1(p) for p in paths]
    shapes = {t.shape for t in tiles}
    if len(shapes) != 1:
        raise TileError(
            f"S1 tiles of different shapes {sorted(shapes)} cannot be stacked: {', '.join(map(str, paths))}"
        )
    return np.stack(tiles)


def read_lc_igbp(path: str | Path, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Read the IGBP band (band 1) of an LC tile; checks the band count and, if given, the shape."""
    path = Path(path)
    with _open(path, "LC") as src:
        if src.count != 4:
            raise TileError(f"{path}: LC tile has {src.count} bands, expected 4 (IGBP first)")
        if shape is not None and (src.height, src.width) != tuple(shape):
            raise TileError(f"{path}: LC tile is {src.height}x{src.width} px, its S1 tile {shape[0]}x{shape[1]}")
        try:
            return src.read(1)
        except RasterioIOError as err:
            raise TileError(f"{path}: LC tile is corrupt or truncated ({err})") from None
