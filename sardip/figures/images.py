"""Figures of tiles: DIP progress over iterations (Fig. 4) and one example per class (Fig. 12)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from sardip.figures.common import db_limits, save
from sardip.geotiff import Grid, read_raster
from sardip.masks import make_mask

PathLike = str | Path
#: Grey scale for dB images; NaN (the blanked hole) shows blue, not white as bright backscatter would.
GRAY_HOLE_BLUE = colormaps["gray"].with_extremes(bad="tab:blue")


def read_band_db(path: PathLike, band: str) -> tuple[np.ndarray, Grid]:
    """Band ``band`` (e.g. ``"VV"``) of a GeoTIFF in dB, (H, W) float32, with the file's grid."""
    raster = read_raster(path)
    names = raster.band_names
    if band not in names:
        raise ValueError(f"{path}: no band {band!r} (bands: {names})")
    return raster.db()[names.index(band)], raster.grid


def _same_grid(reference: Grid, grid: Grid, ref_path: PathLike, path: PathLike) -> None:
    why = reference.difference(grid)
    if why is not None:
        raise ValueError(f"{ref_path} and {path} are not on the same grid: {why}")


def _show(ax: Axes, image: np.ndarray, limits: tuple[float, float], title: str) -> AxesImage:
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax.imshow(image, cmap=GRAY_HOLE_BLUE, vmin=limits[0], vmax=limits[1], interpolation="nearest")


def fig04_progress(
    snapshot_paths: Mapping[int, PathLike], original_path: PathLike, mask_path: PathLike, out: PathLike
) -> Path:
    """Fig. 4: the DIP output of one tile (VV, dB) at several iterations, beside the original and the input.

    ``snapshot_paths`` maps iteration -> GeoTIFF of the output then (the paper shows 0, 500, 1500 and
    3000); ``mask_path`` is any :func:`sardip.masks.make_mask` spec (a raster reads 0 = hidden). All
    panels share the original's 2-98 % dB range, so early noisy outputs show as saturated.
    """
    original, grid = read_band_db(original_path, "VV")
    hidden = make_mask(str(mask_path), grid)
    limits = db_limits(original)
    snapshots = []
    for iteration in sorted(snapshot_paths):
        image, snap_grid = read_band_db(snapshot_paths[iteration], "VV")
        _same_grid(grid, snap_grid, original_path, snapshot_paths[iteration])
        snapshots.append((iteration, image))
    panels = 2 + len(snapshots)
    fig = Figure(figsize=(2.4 * panels + 0.8, 2.9), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    image = _show(axes[0], original, limits, "original")
    _show(axes[1], np.where(hidden, np.nan, original), limits, "DIP input (hole in blue)")
    for ax, (iteration, snapshot) in zip(axes[2:], snapshots, strict=True):
        _show(ax, snapshot, limits, f"iteration {iteration}")
    fig.colorbar(image, ax=list(axes), label="VV backscatter (dB)", shrink=0.85)
    fig.suptitle("DIP output over the iterations (VV)")
    return save(fig, out)


def first_kept_per_class(
    kept: pd.DataFrame,
    tiles: Sequence[str],
    originals: Sequence[PathLike],
    masks: Sequence[PathLike],
    results: Sequence[PathLike],
) -> list[tuple[str, PathLike, PathLike, PathLike]]:
    """The Fig. 12 examples: for each class of the ``kept`` table (``tile_id``, ``land_cover``), its first
    kept tile by id, as ``(class, original, mask, result)`` sorted by class. ``tiles`` names the tile of
    each entry of ``originals``, ``masks`` and ``results``."""
    first = set(kept.sort_values("tile_id").groupby("land_cover")["tile_id"].first())
    classes = dict(zip(kept["tile_id"], kept["land_cover"], strict=True))
    return sorted(
        (classes[tile], original, mask, result)
        for tile, original, mask, result in zip(tiles, originals, masks, results, strict=True)
        if tile in first
    )


def fig12_examples(examples: Sequence[tuple[str, PathLike, PathLike, PathLike]], out: PathLike) -> Path:
    """Fig. 12: one row per class, ``(class, original, mask, result)``: mask, then original and result for VV and VH.

    Original and result of a band share one dB colour scale (2-98 % of all originals of that band), with
    its colour bar; the mask shows the paper's M (white = known, black = hidden). ``mask`` is any
    :func:`sardip.masks.make_mask` spec.
    """
    if not examples:
        raise ValueError("fig12_examples: no example given")
    bands = ("VV", "VH")
    rows = []
    for land_cover, original_path, mask_path, result_path in examples:
        images = {}
        for band in bands:
            original, grid = read_band_db(original_path, band)
            result, result_grid = read_band_db(result_path, band)
            _same_grid(grid, result_grid, original_path, result_path)
            images[band] = (original, result)
        rows.append((land_cover, make_mask(str(mask_path), grid), images))
    limits = {band: db_limits(*(row[2][band][0] for row in rows)) for band in bands}
    fig = Figure(figsize=(12.5, 2.3 * len(rows) + 0.8), layout="constrained")
    axes = fig.subplots(len(rows), 5, squeeze=False)
    shown = {}
    for r, (land_cover, hidden, images) in enumerate(rows):
        axes[r, 0].imshow(~hidden, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes[r, 0].set_title("mask M (black = hidden)", fontsize=9)
        axes[r, 0].set_xticks([])
        axes[r, 0].set_yticks([])
        axes[r, 0].set_ylabel(land_cover, fontsize=11)
        for b, band in enumerate(bands):
            original, result = images[band]
            shown[band] = _show(axes[r, 1 + 2 * b], original, limits[band], f"{band} original")
            _show(axes[r, 2 + 2 * b], result, limits[band], f"{band} DIP result")
    for b, band in enumerate(bands):
        fig.colorbar(shown[band], ax=list(axes[:, 2 + 2 * b]), label=f"{band} backscatter (dB)", shrink=0.9)
    fig.suptitle("Examples per class: original, mask and DIP result")
    return save(fig, out)
