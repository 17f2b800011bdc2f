"""The one way a batch of hidden areas is filled, for tiles and for scene windows (:func:`fill_batch`).

A classic fill runs per image; the DIP fits the whole batch in one call of
:func:`sardip.dip.engine.fit`, each image with its own network and seed. Either way every hidden pixel
that holds data gets a fill value, a non-positive one (no dB value) too
(:func:`sardip.fill.with_placeholders`, ``classic_fill(everywhere=True)``). What the caller adds is its
own: reading and writing, the device claim, a scene's level shift, speckle and the paste.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sardip.dip.engine import FitResult, ProgressCallback, fit
from sardip.fill import classic_fill, with_placeholders
from sardip.fill.spec import FillSpec


@dataclass
class BatchFill:
    """The fills (one (C, H, W) dB array per image) and, for the DIP, the fit (trajectories, snapshots)."""

    fills_db: list[np.ndarray]
    fit: FitResult | None = None


def fill_batch(
    spec: FillSpec,
    images_db: Sequence[np.ndarray],
    hidden: Sequence[np.ndarray],
    present: Sequence[np.ndarray],
    seeds: Sequence[int],
    *,
    device: str = "cpu",
    report_every: int = 100,
    snapshot_iters: Sequence[int] = (),
    checkpoint: Path | None = None,
    checkpoint_every: int = 500,
    progress: ProgressCallback | None = None,
) -> BatchFill:
    """Fill ``hidden[i]`` (H, W) in ``images_db[i]`` (C, H, W dB, NaN where there is nothing to fit from)
    as ``spec`` says; ``present[i]`` (C, H, W) marks the pixels that hold data. A DIP batch needs images
    of one shape and runs on ``device`` (claimed by the caller) with ``seeds[i]``; the reporting,
    snapshot and checkpoint options are the engine's."""
    method, preset = spec.fill_method(), spec.dip_preset()
    if preset is None:
        pairs = zip(images_db, hidden, strict=True)
        return BatchFill([classic_fill(method.name, image, h, everywhere=True) for image, h in pairs])
    held = np.stack([with_placeholders(image, h, p) for image, h, p in zip(images_db, hidden, present, strict=True)])
    result = fit(held, np.stack(hidden), preset, list(seeds), iterations=spec.dip_iterations(), device=device,
                 report_every=report_every, snapshot_iters=snapshot_iters, checkpoint=checkpoint,
                 checkpoint_every=checkpoint_every, progress=progress)  # fmt: skip
    return BatchFill(list(result.output_db), result)
