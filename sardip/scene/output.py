"""Writing an anonymised scene that publishes safely, without touching the original.

- :func:`check_output`: the output may not be any input (a scene file or a mask file: the same path,
  a symbolic or a hard link, another relative path to it), may not exist unless ``overwrite``, nor may
  files that GDAL would read with it (:func:`sardip.geotiff.gdal_sidecars`: an earlier publication's
  ``.ovr``, ``.aux.xml``, ``.msk``), and its folder must be writable and have room. All of this is
  checked before any fit.
- :func:`write_scene`: the unavoidable full copy, block by block (512 px tiles, DEFLATE, as GDAL's
  ``gdal_translate -co TILED=YES -co COMPRESS=DEFLATE`` would), with the anonymised pixels patched in
  on the way, so no block is written twice. It keeps the input's size, dtype, nodata, CRS and
  transform (or GCPs), ``AREA_OR_POINT``, band descriptions, scales and offsets, its per-dataset mask
  (written again from the input's, block by block, inside the file), its alpha band (copied as it is)
  and the tags that describe the product (:func:`sardip.scene.source.describes_product`: TIFF's image
  description, software and date/time, the product's dataset and band tags, from the first file);
  nothing that describes the original pixels: not their statistics, histograms or overviews.
  Overviews are computed again from the anonymised pixels, at the levels the input had; a COG is made
  by GDAL's COG driver from that GTiff (at the input's levels when it had some, else the driver's own),
  that GTiff then left uncompressed (compressing it too costs a second DEFLATE pass:
  ``bench/results/scene.md``). Everything is written under a temporary name beside the output and
  renamed at the end (:func:`sardip.geotiff.published_path`, which also removes the stale files GDAL
  would read with it): an interrupted run leaves no partial file.
- :func:`write_sidecar`: the provenance (method, preset, parameters, seed, version, mask source,
  windows and their audit figures) goes to a JSON file beside the output, which the data provider
  keeps; the published raster carries none of it unless asked (``provenance_tags``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.enums import Resampling
from rasterio.windows import Window

from sardip.geotiff import gdal_sidecars, published_path
from sardip.io import atomic_path, scratch_path
from sardip.scene.source import CACHE_MB, Scene

log = logging.getLogger(__name__)

#: Output block side (px): GDAL's COG default, and the block copy's unit of work.
BLOCK = 512


class OutputError(ValueError):
    """An output that would endanger the user's files or cannot be written; the message says why."""


@dataclass
class Patch:
    """Anonymised pixels of one window: scene rows and columns (n,) and their stored values (C, n).
    Patches wait in memory for the copy, so their indices are int32 (half of numpy's default)."""

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output(out: Path, inputs: Sequence[Path], overwrite: bool, needed_bytes: int) -> None:
    """Refuse an output that is an input (any path to it), that exists, or has files GDAL would read
    with it, without ``overwrite``, or whose folder cannot be written or has less free space than
    ``needed_bytes``."""
    stale = gdal_sidecars(out)
    for path in inputs:
        if _same_file(out, path):
            raise OutputError(f"output {out} is the input {path}: the original is never overwritten; name another file")
        if any(_same_file(s, path) for s in stale):
            raise OutputError(f"output {out}: GDAL would read the input {path} as part of it; name another file")
    if out.exists() and not overwrite:
        raise OutputError(f"output {out} exists; pass --overwrite to replace it")
    if stale and not overwrite:
        raise OutputError(
            f"output {out}: {', '.join(p.name for p in stale)} beside it would be read by GDAL as part of the "
            "published file (an earlier file's overviews or statistics); remove it, or pass --overwrite to remove it"
        )
    folder = out.parent if out.parent != Path("") else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise OutputError(f"output folder {folder} cannot be written ({err.strerror})") from None
    free = shutil.disk_usage(folder).free
    if free < needed_bytes:
        raise OutputError(
            f"{folder} has {free / 2**30:.1f} GiB free, the output needs about {needed_bytes / 2**30:.1f} GiB"
        )


def _profile(scene: Scene, compress: bool) -> dict:
    grid = scene.grid
    assert grid is not None
    profile = {
        "driver": "GTiff", "width": grid.width, "height": grid.height, "count": len(scene.layout),
        "dtype": scene.dtype, "nodata": scene.nodata, "tiled": True, "blockxsize": BLOCK, "blockysize": BLOCK,
        "bigtiff": "IF_SAFER",
    }  # fmt: skip
    if scene.alpha_index is not None:
        profile.update(photometric="MINISBLACK", alpha="YES")
    if compress:
        profile.update(compress="deflate", predictor=3 if np.dtype(scene.dtype).kind == "f" else 2)
    if grid.gcps:
        profile["gcps"], profile["crs"] = grid.ground_control_points(), grid.gcp_crs
    else:
        profile["crs"], profile["transform"] = grid.crs, grid.transform
    return profile


def _blocks(width: int, height: int) -> Iterator[Window]:
    for r in range(0, height, BLOCK):
        for c in range(0, width, BLOCK):
            yield Window(c, r, min(BLOCK, width - c), min(BLOCK, height - r))


def _by_block(patches: Sequence[Patch]) -> dict[tuple[int, int], list[int]]:
    index: dict[tuple[int, int], list[int]] = defaultdict(list)
    for k, patch in enumerate(patches):
        for key in set(zip((patch.rows // BLOCK).tolist(), (patch.cols // BLOCK).tolist(), strict=True)):
            index[key].append(k)
    return index


def _copy(scene: Scene, path: Path, patches: Sequence[Patch], tags: Mapping[str, str], compress: bool) -> None:
    """The block copy of the scene into ``path``, ``patches`` applied to its bands of data."""
    index = _by_block(patches)
    data = [scene.layout.index(b) for b in scene.bands]
    with rasterio.open(path, "w", **_profile(scene, compress)) as dst:
        dst.update_tags(**scene.product_tags())
        if scene.area_or_point:
            dst.update_tags(AREA_OR_POINT=scene.area_or_point)
        for band, name in enumerate(scene.descriptions, start=1):
            dst.update_tags(band, **scene.band_tags(band - 1))
            if name:
                dst.set_band_description(band, name)
        dst.scales, dst.offsets = scene.scales, scene.offsets
        for window in _blocks(dst.width, dst.height):
            values = scene.read_layout(window)
            r0, c0 = int(window.row_off), int(window.col_off)
            for k in index.get((r0 // BLOCK, c0 // BLOCK), ()):
                patch = patches[k]
                inside = (patch.rows // BLOCK == r0 // BLOCK) & (patch.cols // BLOCK == c0 // BLOCK)
                rows, cols = patch.rows[inside] - r0, patch.cols[inside] - c0
                for source, target in enumerate(data):
                    values[target, rows, cols] = patch.values[source, inside]
            dst.write(values, window=window)
            if scene.has_dataset_mask:
                dst.write_mask(scene.dataset_mask(window), window=window)
        if tags:
            dst.update_tags(**tags)


def write_scene(
    scene: Scene, out: Path, patches: Sequence[Patch], *, cog: bool, tags: Mapping[str, str] | None = None
) -> None:
    """Write the anonymised scene to ``out`` (module docstring); ``tags`` only when asked for."""
    assert scene.grid is not None
    with ExitStack() as stack, rasterio.Env(GDAL_CACHEMAX=CACHE_MB * 2**20, GDAL_TIFF_INTERNAL_MASK=True):
        final = stack.enter_context(published_path(out))
        gtiff = stack.enter_context(scratch_path(out)) if cog else final
        _copy(scene, gtiff, patches, tags or {}, compress=not cog)
        if scene.has_overviews:
            with rasterio.open(gtiff, "r+") as dst:
                dst.build_overviews(list(scene.overview_factors), Resampling.average)
        if cog:
            overviews = "FORCE_USE_EXISTING" if scene.has_overviews else "IGNORE_EXISTING"
            rasterio.shutil.copy(gtiff, final, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=BLOCK, BIGTIFF="IF_SAFER",
                                 OVERVIEWS=overviews, RESAMPLING="AVERAGE")  # fmt: skip


def write_sidecar(path: Path, provenance: Mapping[str, object]) -> None:
    """The provenance JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(provenance, indent=2, default=str) + "\n")
