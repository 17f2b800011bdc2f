"""What every experiment shares: reading a class's tiles, the hole it hides, and how a result is scored.

Scores compare the **network output** ``f(Z)`` over the whole tile with the original, as the paper
does (its NIA SSIM is below 1, so it cannot have scored a composite that keeps the known pixels).
Every score is computed per band (VV, VH) and averaged over the bands:

* ``ssim_fi`` / ``ssim_oia``: SSIM of :func:`sardip.metrics.tile_metrics` (values mapped by
  ``(clip(dB, -25, 0) + 25) / 25`` onto [0, 1], 11 px Gaussian window, windows fully inside the region)
  over the full image (FI) or only the hidden area (OIA; NaN when the hole holds no 11 px window);
* ``mse_fi`` / ``mse_oia``: mean squared difference of the same [0, 1] values over the region
  (dimensionless; 0.01 is an RMS error of 2.5 dB inside [-25, 0] dB);
* ``epi_fi`` / ``epi_oia``: edge preservation index, result over original (1 = as sharp as the original).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sardip.geotiff import read_raster
from sardip.masks import MaskError, box_mask, check_mask, make_mask
from sardip.metrics import db_to_unit, tile_metrics
from sardip.seeds import tile_seed

#: Score columns of every experiment table, in order.
SCORES: tuple[str, ...] = ("ssim_fi", "ssim_oia", "mse_fi", "mse_oia", "epi_fi", "epi_oia")


def tile_masks(paths: Sequence[str | Path], spec: str, tile_ids: Sequence[str], seed: int) -> np.ndarray:
    """Hidden areas (B, H, W) of :func:`sardip.masks.make_mask` ``spec`` on each tile's grid.

    ``random:SIZE`` boxes are seeded per tile with :func:`sardip.seeds.tile_seed`, as in the
    inpainting stage, so every experiment hides the same place in a tile.
    """
    return np.stack(
        [make_mask(spec, read_raster(p).grid, seed=tile_seed(t, seed)) for p, t in zip(paths, tile_ids, strict=True)]
    )


def centred_box(shape: tuple[int, int], size: int) -> np.ndarray:
    """A ``size`` x ``size`` px hidden square centred in an (H, W) tile.

    The side is clipped to ``min(H, W) - 2`` so that a ring of known pixels is always left to fit;
    the hole-size sweep thereby runs paper sizes (up to 192 px of 256) on small demo tiles too.
    """
    height, width = shape
    side = min(int(size), min(height, width) - 2)
    if side < 1:
        raise MaskError(f"hole of {size} px cannot be placed in a {height}x{width} px tile")
    r0, c0 = (height - side) // 2, (width - side) // 2
    hidden = box_mask((height, width), (r0, r0 + side), (c0, c0 + side))
    check_mask(hidden, f"centred box of {side} px")
    return hidden


def _mse(original: np.ndarray, result: np.ndarray, region: np.ndarray) -> float:
    """Mean over bands of the MSE of [0, 1]-mapped values over ``region`` (finite pixels only)."""
    values = []
    for orig_b, res_b in zip(original, result, strict=True):
        inside = region & np.isfinite(orig_b) & np.isfinite(res_b)
        if inside.any():
            values.append(float(np.mean((db_to_unit(res_b[inside]) - db_to_unit(orig_b[inside])) ** 2)))
    return float(np.mean(values)) if values else float("nan")


def score(original: np.ndarray, result: np.ndarray, hidden: np.ndarray) -> dict[str, float]:
    """The :data:`SCORES` of one result (C, H, W) dB against its original (C, H, W) dB; ``hidden`` (H, W)."""
    table = tile_metrics(original, result, hidden, bands=[f"band{i}" for i in range(len(original))])
    means = table.groupby(["metric", "scenario"])["value"].mean()
    return {
        "ssim_fi": float(means["ssim", "FI"]),
        "ssim_oia": float(means["ssim", "OIA"]),
        "mse_fi": _mse(original, result, np.ones_like(hidden)),
        "mse_oia": _mse(original, result, hidden),
        "epi_fi": float(means["epi", "FI"]),
        "epi_oia": float(means["epi", "OIA"]),
    }


def score_batch(originals: np.ndarray, results: np.ndarray, hidden: np.ndarray) -> list[dict[str, float]]:
    """:func:`score` of each tile of a batch (B, C, H, W); ``hidden`` (H, W) or (B, H, W)."""
    hidden = np.broadcast_to(np.asarray(hidden, dtype=bool), (originals.shape[0], *originals.shape[2:]))
    return [score(o, r, h) for o, r, h in zip(originals, results, hidden, strict=True)]
