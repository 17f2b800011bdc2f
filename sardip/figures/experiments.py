"""Figures of the experiments: why SSIM (Fig. 7), the Table 1 search (Fig. 9), loss (Fig. 10), hole size
(Fig. 11) and EPI along the iterations (Fig. 19). They read the experiment tables of
:mod:`sardip.experiments` (and, for Fig. 7, the arrays of two results), never a study or a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from sardip.classes import PAPER_CLASSES
from sardip.experiments.search import GRID, PARAMS
from sardip.figures.common import db_limits, save

PathLike = str | Path
LOSS_COLOURS = {"ssim": "tab:blue", "mse": "tab:orange"}


def _classes(table: pd.DataFrame) -> list[str]:
    present = [str(c) for c in table["land_cover"].unique()]
    return [c for c in PAPER_CLASSES if c in present] + sorted(c for c in present if c not in PAPER_CLASSES)


def _grid(n: int, width: float, height: float) -> tuple[Figure, list[Axes]]:
    cols = min(n, 4)
    rows = -(-n // cols)
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def fig07_mse_vs_ssim(
    original_db: np.ndarray, results: Sequence[tuple[np.ndarray, str, float, float]], hidden: np.ndarray, out: PathLike
) -> Path:
    """Fig. 7: the original (VV, dB) beside results of similar MSE but different SSIM, scores in the titles.

    ``original_db`` (C, H, W) or one per result as (R, C, H, W); ``results``: (output (C, H, W) dB,
    label, FI SSIM, FI MSE) each; ``hidden`` (H, W) or (R, H, W), outlined in red.
    """
    originals = np.asarray(original_db)
    originals = originals if originals.ndim == 4 else np.broadcast_to(originals, (len(results), *originals.shape))
    holes = np.broadcast_to(np.asarray(hidden, dtype=bool), (len(results), *originals.shape[2:]))
    fig = Figure(figsize=(3.2 * len(results), 6.2), layout="constrained")
    axes = fig.subplots(2, len(results), squeeze=False)
    for k, (output, label, ssim, mse) in enumerate(results):
        limits = db_limits(originals[k][0])
        for ax, image, title in ((axes[0, k], originals[k][0], f"original\n{label}"),
                                 (axes[1, k], output[0], f"DIP output: SSIM {ssim:.3f}, MSE {mse:.4f}")):  # fmt: skip
            ax.imshow(image, cmap="gray", vmin=limits[0], vmax=limits[1], interpolation="nearest")
            ax.contour(holes[k], levels=[0.5], colors="red", linewidths=0.8)
            ax.set_title(title, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("Similar MSE, different SSIM (VV, dB; hidden area in red)", fontsize=10)
    return save(fig, out)


def _parallel(ax: Axes, trials: pd.DataFrame, land_cover: str) -> None:
    """One class's trials as polylines over the Table 1 axes and the value axis (completed only)."""
    axes_x = np.arange(len(PARAMS) + 1)
    done = trials[trials["state"] == "COMPLETE"]
    values = done["value"].astype(float)
    norm = Normalize(values.min(), values.max() if len(values) and values.max() > values.min() else values.min() + 1)
    cmap = colormaps["viridis"]
    for _, trial in trials.sort_values("value", na_position="first").iterrows():
        wobble = ((int(trial["number"]) * 0.6180339) % 1 - 0.5) * 0.12
        ys = [GRID[p].index(trial[p]) / (len(GRID[p]) - 1) + wobble for p in PARAMS]
        if trial["state"] == "COMPLETE":
            ys.append(norm(float(trial["value"])))
            ax.plot(axes_x, ys, color=cmap(norm(float(trial["value"]))), lw=1, alpha=0.8)
        else:
            ax.plot(axes_x[:-1], ys, color="0.75", lw=0.6, alpha=0.6, ls=":")
    for x, p in enumerate(PARAMS):
        ax.axvline(x, color="0.3", lw=0.6)
        for i, v in enumerate(GRID[p]):
            ax.text(x + 0.04, i / (len(GRID[p]) - 1), v, fontsize=6, va="center")
    ax.axvline(len(PARAMS), color="0.3", lw=0.6)
    if len(values):
        for level in (0.0, 0.5, 1.0):
            ax.text(len(PARAMS) + 0.04, level, f"{norm.inverse(level):.3f}", fontsize=6, va="center")
    ax.set_xticks(axes_x, [*PARAMS, "FI SSIM"], fontsize=7, rotation=30)
    ax.set_yticks([])
    ax.set_xlim(-0.2, len(PARAMS) + 0.5)
    ax.set_ylim(-0.15, 1.15)
    pruned = int((trials["state"] == "PRUNED").sum())
    ax.set_title(f"{land_cover}: {len(done)} completed, {pruned} pruned (dotted)", fontsize=9)


def fig09_parallel(trials: pd.DataFrame, out: PathLike) -> Path:
    """Fig. 9: parallel coordinates of the Table 1 search, one panel per class.

    A line per trial through its activation, padding, upsampling, loss and noise (small offsets keep
    equal choices apart) to its value (mean FI SSIM, colour and last axis, scaled to the class's
    range); pruned trials end before the value axis, dotted grey.
    """
    classes = _classes(trials)
    fig, axes = _grid(len(classes), 4.6, 3.2)
    for ax, land_cover in zip(axes, classes, strict=True):
        _parallel(ax, trials[trials["land_cover"] == land_cover], land_cover)
    return save(fig, out)


def _mean_std(table: pd.DataFrame, by: list[str], column: str) -> pd.DataFrame:
    return table.groupby(by)[column].agg(["mean", "std", "count"]).reset_index()


def fig10_loss(runs: pd.DataFrame, out: PathLike) -> Path:
    """Fig. 10: FI SSIM (left) and FI MSE (right) per class, SSIM loss for N iterations against MSE loss
    for 3N (the ``iterations`` of each loss are in the legend); mean ± std over the tiles."""
    classes = _classes(runs)
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    axes = fig.subplots(1, 2)
    x = np.arange(len(classes), dtype=float)
    for ax, column, label in ((axes[0], "ssim_fi", "SSIM (FI)"), (axes[1], "mse_fi", "MSE (FI, [0, 1] scale)")):
        for offset, loss in ((-0.12, "ssim"), (0.12, "mse")):
            part = runs[runs["loss"] == loss]
            stats = _mean_std(part, ["land_cover"], column).set_index("land_cover").reindex(classes)
            iterations = ", ".join(str(i) for i in sorted(part["iterations"].unique()))
            ax.errorbar(x + offset, stats["mean"], yerr=stats["std"].fillna(0), fmt="o", capsize=3, ms=4,
                        color=LOSS_COLOURS[loss], label=f"{loss.upper()} loss, {iterations} it")  # fmt: skip
        ax.set_xticks(x, classes, rotation=45, ha="right", fontsize=8)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    return save(fig, out)


def fig11_hole_size(runs: pd.DataFrame, out: PathLike) -> Path:
    """Fig. 11: FI SSIM (top row) and MSE inside the hole (bottom row) against the hole side in px, per
    class, SSIM loss against MSE loss; mean ± std over the tiles."""
    classes = _classes(runs)
    fig = Figure(figsize=(2.6 * len(classes), 5.2), layout="constrained")
    axes = fig.subplots(2, len(classes), squeeze=False, sharex=True)
    for k, land_cover in enumerate(classes):
        part = runs[runs["land_cover"] == land_cover]
        for row, (column, label) in enumerate((("ssim_fi", "SSIM (FI)"), ("mse_oia", "MSE in hole (OIA)"))):
            ax = axes[row, k]
            for loss in ("ssim", "mse"):
                stats = _mean_std(part[part["loss"] == loss], ["hole_px"], column)
                ax.errorbar(stats["hole_px"], stats["mean"], yerr=stats["std"].fillna(0), marker="o", ms=3,
                            capsize=2, color=LOSS_COLOURS[loss], label=f"{loss.upper()} loss")  # fmt: skip
            ax.grid(alpha=0.3)
            if k == 0:
                ax.set_ylabel(label)
            if row == 1:
                ax.set_xlabel("hole side (px)")
        axes[0, k].set_title(f"{land_cover} (n={part['tile_id'].nunique()})", fontsize=9)
    axes[0, 0].legend(fontsize=7)
    return save(fig, out)


def fig19_epi(trajectory: pd.DataFrame, out: PathLike) -> Path:
    """Fig. 19: EPI of the network output against the iterations, in OIA (solid) and FI (dashed), one
    colour per tile (the paper: one Barren and one Water tile up to 12000 iterations)."""
    fig = Figure(figsize=(6.4, 4), layout="constrained")
    ax = fig.subplots()
    colours = colormaps["tab10"]
    for k, ((land_cover, tile_id), part) in enumerate(trajectory.groupby(["land_cover", "tile_id"], sort=True)):
        part = part.sort_values("iteration")
        for column, style in (("epi_oia", "-"), ("epi_fi", "--")):
            ax.plot(part["iteration"], part[column], style, marker="o", ms=3, color=colours(k),
                    label=f"{land_cover} {tile_id} ({column[4:].upper()})")  # fmt: skip
    ax.axhline(1.0, color="0.5", lw=0.6)
    ax.set_xlabel("DIP iterations")
    ax.set_ylabel("EPI (result / original)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return save(fig, out)
