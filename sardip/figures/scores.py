"""Figures of the per-tile metric table: SSIM / MS-SSIM (Fig. 14), ENL (Fig. 15-17) and EPI (Fig. 18).

Each panel shows, per land-cover class, the mean over tiles with a ±1 std bar (none for one tile),
one marker series per scenario or image. The x axis always lists the paper's seven classes (plus any
other class in the table), each with its tile count, so figures of different runs line up and a
class without tiles shows as such. The paper's reported values are drawn as reference lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sardip import paper
from sardip.classes import PAPER_CLASSES
from sardip.figures.common import save
from sardip.tile_images import LABELS, other_images

PathLike = str | Path
BANDS = ("VV", "VH")

#: Fig. 14's legend for the NIA series, per image: the composite copies the known pixels back.
NIA_LABELS = {"generated": "NIA (known pixels)", "published": "NIA (known pixels, copied: 1 by construction)"}

#: One marker series: (legend label, metric, scenario, colour).
Series = tuple[str, str, str, str]


def _classes(per_tile: pd.DataFrame) -> list[str]:
    present = [str(c) for c in per_tile["land_cover"].dropna().unique()] if len(per_tile) else []
    return list(PAPER_CLASSES) + sorted(c for c in present if c not in PAPER_CLASSES)


def _stats(
    per_tile: pd.DataFrame,
    metric: str,
    scenario: str,
    band: str,
    classes: Sequence[str],
    transform: Callable[[pd.Series], pd.Series] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per class (in ``classes`` order) mean and std (0 for one tile, NaN for none) of the finite values."""
    rows = per_tile[(per_tile["metric"] == metric) & (per_tile["scenario"] == scenario) & (per_tile["band"] == band)]
    values = pd.to_numeric(rows["value"]).replace([np.inf, -np.inf], np.nan)
    if transform is not None:
        values = transform(values)
    grouped = values.groupby(rows["land_cover"]).agg(["mean", "std"]).reindex(classes)
    return grouped["mean"].to_numpy(float), grouped["std"].fillna(0).to_numpy(float)


def _class_axis(ax: Axes, per_tile: pd.DataFrame, classes: Sequence[str]) -> None:
    counts = per_tile.groupby("land_cover")["tile_id"].nunique() if len(per_tile) else pd.Series(dtype=int)
    labels = [f"{c}\n(n={int(counts.get(c, 0))})" if counts.get(c, 0) else f"{c}\n(no tiles)" for c in classes]
    ax.set_xticks(range(len(classes)), labels, fontsize=7, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_xlim(-0.6, len(classes) - 0.4)
    ax.set_xlabel("land-cover class (tiles)")
    ax.grid(axis="y", alpha=0.3)


def _dots(
    ax: Axes,
    per_tile: pd.DataFrame,
    band: str,
    classes: Sequence[str],
    series: Sequence[Series],
    transform: Callable[[pd.Series], pd.Series] | None = None,
) -> None:
    """Mean ± std markers per class, one series per entry, side by side around each class tick."""
    offsets = np.linspace(-0.25, 0.25, len(series)) if len(series) > 1 else np.zeros(1)
    x = np.arange(len(classes), dtype=float)
    for offset, (label, metric, scenario, colour) in zip(offsets, series, strict=True):
        mean, std = _stats(per_tile, metric, scenario, band, classes, transform)
        ax.errorbar(x + offset, mean, yerr=std, fmt="o", ms=4, capsize=3, color=colour, label=label)
    _class_axis(ax, per_tile, classes)


def _legend(fig: Figure, *axes: Axes) -> None:
    """One legend below the panels (so it never hides a marker), from the handles of ``axes``."""
    entries: dict[str, object] = {}
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        entries.update(zip(labels, handles, strict=True))
    fig.legend(list(entries.values()), list(entries), loc="outside lower center", ncols=len(entries), fontsize=8)


def _log_if_wide(ax: Axes) -> None:
    """Log y axis when the data span more than a decade (ENL of a smoothed hole vs speckle), else linear."""
    low, high = ax.dataLim.y0, ax.dataLim.y1
    if np.isfinite([low, high]).all() and low > 0 and high / low > 10:
        ax.set_yscale("log")


def _check_columns(per_tile: pd.DataFrame, image: str) -> str:
    """The figure's subtitle for ``image``; ``ValueError`` when columns are missing or the table holds
    measurements of another image than ``image`` (one figure never mixes two images)."""
    missing = [c for c in ("tile_id", "land_cover", "band", "scenario", "metric", "value") if c not in per_tile]
    if missing:
        raise ValueError(f"per-tile metric table lacks columns {missing}")
    others = other_images(per_tile, image)
    if others:
        raise ValueError(f"the {image} image's figure was given measurements of the {', '.join(others)} image")
    return f"image measured: {LABELS[image]}"


def fig14_ssim(per_tile: pd.DataFrame, out: PathLike, image: str = "generated") -> Path:
    """Fig. 14: SSIM and MS-SSIM per class (rows) and polarisation (columns), NIA vs FI, with the paper's
    0.85, for one ``image`` of the tiles (:mod:`sardip.tile_images`; the paper measured ``generated``)."""
    subtitle = _check_columns(per_tile, image)
    classes = _classes(per_tile)
    fig = Figure(figsize=(11, 7.5), layout="constrained")
    axes = fig.subplots(2, len(BANDS), squeeze=False, sharey="row")
    for r, (metric, name) in enumerate((("ssim", "SSIM"), ("ms_ssim", "MS-SSIM"))):
        for c, band in enumerate(BANDS):
            ax = axes[r, c]
            series = [
                (NIA_LABELS[image], metric, "NIA", "tab:blue"),
                ("FI (full image)", metric, "FI", "tab:orange"),
            ]
            _dots(ax, per_tile, band, classes, series)
            ax.axhline(paper.SSIM_FLOOR, color="grey", ls="--", lw=1, label="paper: almost all classes > 0.85")
            ax.axhline(1.0, color="black", lw=0.6)
            ax.set_title(f"{name}, {band}")
            ax.set_ylabel(f"{name} (unitless, 1 = identical)")
    _legend(fig, axes[0, 0])
    fig.suptitle(f"Original vs DIP result: SSIM and MS-SSIM per class (mean ± std over tiles)\n{subtitle}")
    return save(fig, out)


def fig15_enl(per_tile: pd.DataFrame, out: PathLike, image: str = "generated") -> Path:
    """Fig. 15-17: ENL per class and polarisation, original vs result in OIA and FI, and the relative change.

    ENL is that of linear intensity (see :mod:`sardip.metrics`), on a log axis when it spans more than a
    decade. The third column shows the class mean of the per-tile ``|enl_result - enl_original| /
    enl_original`` in %, with the paper's FI band of 0.5-2.5 %. ``image`` as in :func:`fig14_ssim`.
    """
    subtitle = _check_columns(per_tile, image)
    classes = _classes(per_tile)
    fig = Figure(figsize=(15, 7.5), layout="constrained")
    axes = fig.subplots(len(BANDS), 3, squeeze=False)
    for r, band in enumerate(BANDS):
        for c, scenario in enumerate(("OIA", "FI")):
            ax = axes[r, c]
            series = [
                ("original", "enl_original", scenario, "tab:blue"),
                ("DIP result", "enl_result", scenario, "tab:red"),
            ]
            _dots(ax, per_tile, band, classes, series)
            _log_if_wide(ax)
            ax.set_title(f"ENL, {band}, {scenario}")
            ax.set_ylabel("ENL of linear intensity (looks)")
        ax = axes[r, 2]
        series = [
            ("|change| OIA", "enl_rel_change", "OIA", "tab:purple"),
            ("|change| FI", "enl_rel_change", "FI", "tab:green"),
        ]
        _dots(ax, per_tile, band, classes, series, transform=lambda v: 100 * v.abs())
        ax.axhspan(*paper.ENL_FI_BAND, color="tab:green", alpha=0.15, label="paper FI: 0.5-2.5 %")
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_title(f"relative ENL change, {band}")
        ax.set_ylabel("|ENL result - ENL original| / ENL original (%)")
    _legend(fig, axes[0, 0], axes[0, 2])
    fig.suptitle(f"Equivalent number of looks per class (mean ± std over tiles)\n{subtitle}")
    return save(fig, out)


def fig18_epi(per_tile: pd.DataFrame, out: PathLike, image: str = "generated") -> Path:
    """Fig. 18: EPI (result over original) per class and polarisation, OIA and FI, with the paper's ~0.7;
    ``image`` as in :func:`fig14_ssim`."""
    subtitle = _check_columns(per_tile, image)
    classes = _classes(per_tile)
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    axes = fig.subplots(1, len(BANDS), squeeze=False, sharey="row")[0]
    for ax, band in zip(axes, BANDS, strict=True):
        series = [("OIA (inpainted area)", "epi", "OIA", "tab:purple"), ("FI (full image)", "epi", "FI", "tab:orange")]
        _dots(ax, per_tile, band, classes, series)
        ax.axhline(paper.EPI, color="grey", ls="--", lw=1, label="paper: about 0.7")
        ax.axhline(1.0, color="black", lw=0.6, label="1 = edges preserved")
        ax.set_title(f"EPI, {band}")
        ax.set_ylabel("EPI = sum|grad result| / sum|grad original|")
    _legend(fig, axes[0])
    fig.suptitle(f"Edge preservation index per class (Sobel on dB; mean ± std over tiles)\n{subtitle}")
    return save(fig, out)
