"""Figures of the semantic check (paper Figs. 20-23): classifier accuracy and confusion, originals vs DIP.

They read the tables of :mod:`sardip.classify.evaluate` (accuracy per class, row-normalised confusion
tables in %), never models, for one image of the DIP tiles at a time (:mod:`sardip.tile_images`: the
DIP-generated tile, which the paper classified, or the published composite), named in every title.
Classes are the paper's seven in its order, plus any other class a table holds; a class without test
tiles is labelled so and drawn empty (its values are NaN).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from sardip.classes import PAPER_CLASSES
from sardip.figures.common import save
from sardip.paper import RESNET50_DIAGONAL
from sardip.tile_images import LABELS, check_image, other_images

PathLike = str | Path

ACCURACY_COLUMNS = ("class", "n_tiles", "acc_original", "acc_result", "abs_delta")


def _accuracy_classes(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    present = {str(c) for table in tables.values() for c in table["class"]}
    return list(PAPER_CLASSES) + sorted(present - set(PAPER_CLASSES))


def _class_ticks(ax: Axes, classes: list[str], counts: pd.Series) -> None:
    labels = [f"{c}\n(n={int(counts.get(c, 0))})" if counts.get(c, 0) > 0 else f"{c}\n(no tiles)" for c in classes]
    ax.set_xticks(range(len(classes)), labels, fontsize=8)
    ax.set_xlim(-0.6, len(classes) - 0.4)
    ax.grid(axis="y", alpha=0.3)


def fig20_accuracy(accuracy: Mapping[str, pd.DataFrame], out: PathLike, image: str = "generated") -> Path:
    """Figs. 20-21: per class and model, accuracy on originals vs DIP tiles (top) and |delta| (bottom),
    with the paper's ResNet50 values as markers.

    ``accuracy`` maps a model's display name (``ResNet50``) to its :func:`accuracy_per_class` table of
    ``image`` (a table with an ``image`` column may hold that image only).
    """
    if not accuracy:
        raise ValueError("fig20_accuracy: no accuracy table given")
    check_image(image)
    for model, table in accuracy.items():
        others = other_images(table, image)
        if others:
            raise ValueError(f"accuracy table of {model} holds the {', '.join(others)} image, not only {image}")
        missing = [c for c in ACCURACY_COLUMNS if c not in table.columns]
        if missing:
            raise ValueError(f"accuracy table of {model} lacks columns {missing}")
    classes = _accuracy_classes(accuracy)
    counts = pd.concat([t.set_index("class")["n_tiles"] for t in accuracy.values()], axis=1).max(axis=1)
    colours = [f"C{i}" for i in range(len(accuracy))]
    fig = Figure(figsize=(max(9.0, 1.4 * len(classes)), 7.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    x = np.arange(len(classes), dtype=float)
    n_bars = 2 * len(accuracy)
    width = 0.8 / n_bars
    for m, ((model, table), colour) in enumerate(zip(accuracy.items(), colours, strict=True)):
        values = table.set_index("class").reindex(classes)
        for k, (column, hatch, alpha, what) in enumerate(
            (("acc_original", None, 0.95, "originals"), ("acc_result", "//", 0.45, f"{image} tiles"))
        ):
            offset = (2 * m + k - (n_bars - 1) / 2) * width
            top.bar(x + offset, values[column], width, color=colour, alpha=alpha, hatch=hatch,
                    edgecolor=colour, label=f"{model}, {what}")  # fmt: skip
        offset = (m - (len(accuracy) - 1) / 2) * (0.8 / len(accuracy))
        bottom.bar(x + offset, values["abs_delta"], 0.8 / len(accuracy), color=colour, label=model)
    reference = np.array([RESNET50_DIAGONAL.get(c, (np.nan, np.nan)) for c in classes])
    top.scatter(x - 0.4, reference[:, 0], marker="s", s=22, facecolors="none", edgecolors="k",
                label="paper ResNet50, originals")  # fmt: skip
    top.scatter(x - 0.4, reference[:, 1], marker="v", s=22, color="k", label="paper ResNet50, DIP-generated")
    bottom.scatter(x - 0.4, np.abs(reference[:, 0] - reference[:, 1]), marker="v", s=22, color="k",
                   label="paper ResNet50")  # fmt: skip
    top.set_ylim(0, 125)  # headroom above 100 % for the legend
    top.set_yticks(range(0, 101, 20))
    top.set_ylabel("accuracy (% of the class's tiles)")
    top.set_title(f"Accuracy per class: originals (solid) vs {image} tiles (hatched)")
    top.legend(fontsize=7, ncols=len(accuracy) + 1, loc="upper center")
    bottom.set_ylabel(f"|accuracy originals - {image}| (points)")
    bottom.set_title(f"Accuracy change between the originals and the {image} tiles")
    bottom.legend(fontsize=8)
    for ax in (top, bottom):
        _class_ticks(ax, classes, counts)
    bottom.set_xlabel("true land-cover class (test tiles)")
    fig.suptitle("Semantic check: classifiers trained on real SAR tiles, tested on originals and DIP tiles\n"
                 f"image classified: {LABELS[image]}")  # fmt: skip
    return save(fig, out)


def _heatmap(ax: Axes, table: pd.DataFrame, title: str) -> AxesImage:
    """Draw a confusion table in % with each cell annotated; NaN cells (no tiles) are grey and read "n/a"."""
    values = table.to_numpy(dtype=float)
    cmap = colormaps["Blues"].with_extremes(bad="0.9")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=100, aspect="auto")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            text = "n/a" if np.isnan(v) else f"{v:.1f}"
            colour = "white" if np.isfinite(v) and v > 60 else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(values.shape[1]), list(table.columns), rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(values.shape[0]), list(table.index), fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    return image


def fig22_confusion(
    original: pd.DataFrame, result: pd.DataFrame, model: str, out: PathLike, image: str = "generated"
) -> Path:
    """Figs. 22-23 for one model: confusion (% per true class) on originals and on one ``image`` of the
    DIP tiles, side by side.

    The third panel compares the diagonals (per-class accuracy) with the paper's ResNet50 values.
    ``original`` and ``result``: :func:`confusion_table` outputs (rows true classes, columns
    predicted classes + ``Other``).
    """
    check_image(image)
    if list(original.index) != list(result.index) or list(original.columns) != list(result.columns):
        raise ValueError("fig22_confusion: the two confusion tables have different classes")
    fig = Figure(figsize=(17, 5.8), layout="constrained")
    axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 0.8]})
    heat = _heatmap(axes[0], original, f"{model}: originals")
    _heatmap(axes[1], result, f"{model}: {image} tiles")
    fig.colorbar(heat, ax=axes[:2], shrink=0.8, label="% of the true class's tiles")

    ax = axes[2]
    classes = list(original.index)
    y = np.arange(len(classes), dtype=float)
    ours = [np.array([t.loc[c, c] if c in t.columns else np.nan for c in classes]) for t in (original, result)]
    reference = [np.array([RESNET50_DIAGONAL.get(c, (np.nan, np.nan))[k] for c in classes]) for k in (0, 1)]
    for offset, (orig, dip), marker, fill, who in (
        (-0.15, ours, "o", True, model),
        (0.15, reference, "s", False, "paper ResNet50"),
    ):
        ax.hlines(y + offset, orig, dip, color="0.6", lw=1)
        for values, colour, what in ((orig, "tab:blue", "originals"), (dip, "tab:red", "DIP")):
            ax.scatter(values, y + offset, marker=marker, s=36, label=f"{who}, {what}",
                       facecolors=colour if fill else "none", edgecolors=colour)  # fmt: skip
    ax.set_yticks(y, classes, fontsize=8)
    ax.set_ylim(len(classes) - 0.5, -0.5)
    ax.set_xlim(-2, 102)
    ax.set_xlabel("accuracy = confusion diagonal (%)")
    ax.set_title("Diagonal vs the paper's ResNet50")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    fig.suptitle(f"Confusion matrices of {model}, rows normalised to 100 % ('Other': outside the 7 classes)\n"
                 f"image classified: {LABELS[image]}")  # fmt: skip
    return save(fig, out)
