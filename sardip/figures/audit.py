"""Audit figures: per fill method and class, the blind detectors' AUC against the untouched baseline,
the hole/ring ENL ratio factor, EPI inside the hole and SSIM on known pixels; and the time-to-quality
curve of the DIP with and without speckle-consistent filling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sardip.audit import DETECTORS, TARGETS
from sardip.figures.common import save


def _target_lines(ax, column: str) -> None:
    """Dashed target lines of a verdict figure (log scale for the ENL ratio factor)."""
    levels = {
        "auc_excess": (0.0,),
        "enl_ratio_factor": (1 / TARGETS["enl_ratio_factor"], TARGETS["enl_ratio_factor"]),
        "epi_hole": (TARGETS["epi_min"], TARGETS["epi_max"]),
        "hole_correlation": (TARGETS["max_hole_correlation"],),
    }
    for level in levels.get(column, ()):
        ax.axhline(level, color="k", ls="--", lw=1)
    if column == "enl_ratio_factor":
        ax.set_yscale("log")


def fig_audit_methods(table: pd.DataFrame, out: str | Path) -> Path:
    """Grouped bars of :func:`sardip.audit.stage.comparison` ``table``: one panel per figure, methods on x,
    one bar per class; dashed lines mark the targets (detector panels: the mean limit, each tile's
    natural range in its image, :mod:`sardip.audit.natural`)."""
    methods = list(dict.fromkeys(table["fill"]))
    classes = list(dict.fromkeys(table["land_cover"]))
    panels = [(f"auc_{d}_result", f"AUC, {d} detector (0.5 = undetectable)") for d in DETECTORS]
    panels += [
        ("enl_ratio_factor", "hole/ring ENL ratio / untouched ratio"),
        ("epi_hole", "EPI inside the hole"),
        ("ssim_NIA", "SSIM on known pixels (NIA)"),
    ]
    columns = (len(panels) + 1) // 2
    fig = Figure(figsize=(4.2 * columns, 8.4), layout="constrained")
    axes = fig.subplots(2, columns).ravel()
    for ax in axes[len(panels) :]:
        ax.set_axis_off()
    x = np.arange(len(methods))
    width = 0.8 / max(len(classes), 1)
    for ax, (column, title) in zip(axes, panels, strict=False):
        for i, cls in enumerate(classes):
            rows = table[table["land_cover"] == cls].set_index("fill").reindex(methods)
            ax.bar(x + (i - (len(classes) - 1) / 2) * width, rows[column], width, label=cls)
        if column.startswith("auc_"):
            base = table[column.replace("_result", "_original")].mean()
            ax.axhline(base, color="k", lw=1, label="untouched (mean)")
            name = column.removeprefix("auc_").removesuffix("_result")
            limit = (table[column] - table[f"excess_{name}"]).mean()  # mean limit: mean AUC - mean excess
            ax.axhline(limit, color="k", ls="--", lw=1, label="limit (mean)")
            ax.set_ylim(0.45, 1.0)
        else:
            _target_lines(ax, column)
        ax.set_xticks(x, methods, rotation=45, ha="right")
        ax.set_title(title, fontsize=9)
    axes[0].legend(fontsize=7)
    return save(fig, out)


def fig_audit_curve(curve: pd.DataFrame, out: str | Path) -> Path:
    """Time-to-quality from :func:`sardip.audit.stage.curve_table` ``curve``: per verdict figure, the class
    means against iterations, one colour per class, solid with speckle-consistent filling
    (``dip+speckle``), dotted without (``dip``); dashed black lines mark the targets."""
    panels = [
        ("auc_excess", "detector AUC above its natural limit"),
        ("enl_ratio_factor", "hole/ring ENL ratio / untouched ratio"),
        ("epi_hole", "EPI inside the hole"),
        ("hole_correlation", "hole correlation with the original"),
    ]
    fig = Figure(figsize=(4.2 * len(panels), 4.0), layout="constrained")
    axes = fig.subplots(1, len(panels))
    colours = {cls: f"C{i}" for i, cls in enumerate(dict.fromkeys(curve["land_cover"]))}
    for ax, (column, title) in zip(axes, panels, strict=True):
        for (cls, fill), rows in curve.groupby(["land_cover", "fill"], sort=False):
            style = "-o" if fill.endswith("+speckle") else ":o"
            ax.plot(rows["iterations"], rows[column], style, color=colours[cls], ms=3, label=f"{cls} {fill}")
        _target_lines(ax, column)
        ax.set_xlabel("iterations")
        ax.set_title(title, fontsize=9)
    axes[0].legend(fontsize=6, ncol=2)
    return save(fig, out)
