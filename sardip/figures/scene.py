"""The report's figure of an anonymised scene: the whole scene before and after, and the largest
windows up close, with the replaced pixels outlined (in the report only: the published file carries
no outline, no mask and no trace of where it was edited)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from rasterio.windows import Window

from sardip.figures.common import db_limits, save
from sardip.figures.images import GRAY_HOLE_BLUE
from sardip.scene.gate import judge_window
from sardip.scene.source import Scene

#: Windows shown up close, the largest hidden areas first.
MAX_WINDOWS = 5
#: Longer side (px) of the whole-scene panels.
PREVIEW_SIDE = 1024


def _panel(ax, image: np.ndarray, limits: tuple[float, float], title: str) -> None:
    ax.imshow(image, cmap=GRAY_HOLE_BLUE, vmin=limits[0], vmax=limits[1], interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def scene_figure(
    original: Sequence[str | Path],
    anonymised: str | Path,
    provenance: dict,
    out: str | Path,
    first: Collection[str] = (),
) -> Path:
    """Two rows (before, after): the whole scene with its windows boxed, then up to
    :data:`MAX_WINDOWS` windows (those named in ``first``, then the largest), the pixels that differ
    between the two outlined in red."""
    windows = sorted(
        (w for w in provenance["windows"] if w["hidden_pixels"]),
        key=lambda w: (w["window"] not in first, -w["hidden_pixels"]),
    )
    shown = windows[:MAX_WINDOWS]
    units = provenance["units"]
    with Scene.open(original, units) as before, Scene.open([anonymised], units) as after:
        assert before.grid is not None
        previews = [before.preview_db(PREVIEW_SIDE), after.preview_db(PREVIEW_SIDE)]
        scale = previews[0].shape[0] / before.grid.height
        crops = []
        for w in shown:
            window = Window.from_slices(tuple(w["rows"]), tuple(w["cols"]))
            crops.append([before.read_db(window).db[0], after.read_db(window).db[0]])
    limits = db_limits(previews[0])
    columns = 1 + len(shown)
    fig = Figure(figsize=(2.3 * columns + 0.6, 5.0), layout="constrained")
    axes = fig.subplots(2, columns, squeeze=False)
    for row, (label, preview) in enumerate(zip(("original", "anonymised"), previews, strict=True)):
        _panel(axes[row, 0], preview, limits, f"{label} (whole scene)")
        for w in windows:
            (r0, r1), (c0, c1) = w["rows"], w["cols"]
            axes[row, 0].add_patch(Rectangle((c0 * scale, r0 * scale), (c1 - c0) * scale, (r1 - r0) * scale,
                                             fill=False, edgecolor="tab:red", linewidth=0.8))  # fmt: skip
    for k, (w, pair) in enumerate(zip(shown, crops, strict=True), start=1):
        changed = ~((pair[0] == pair[1]) | (np.isnan(pair[0]) & np.isnan(pair[1])))
        for row, image in enumerate(pair):
            _panel(axes[row, k], image, limits, f"{w['window']} ({w['hidden_pixels']:,} px, {judge_window(w).status})")
            axes[row, k].contour(changed, levels=[0.5], colors="tab:red", linewidths=0.6)
    fig.suptitle(f"{Path(anonymised).name}: {len(windows)} windows, first band (dB); red: replaced pixels; "
                 "titles: the audit's verdict")  # fmt: skip
    return save(fig, out)
