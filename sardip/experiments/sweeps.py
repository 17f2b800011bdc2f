"""The paper's Section 4.1-4.3 studies on fixed tiles: loss (Fig. 10), hole size (Fig. 11), EPI along the
iterations (Fig. 19), and the pair of results that shows why SSIM, not MSE, scores quality (Fig. 7).

Every fit is batched over the tiles of one class with each tile's fixed seed, and scored with
:func:`sardip.experiments.common.score` (network output against the original; SSIM and MSE on the
[0, 1] map of [-25, 0] dB, averaged over VV and VH).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from sardip.dip.engine import fit
from sardip.dip.presets import Preset
from sardip.experiments.common import SCORES, centred_box, score, score_batch
from sardip.experiments.search import with_loss

#: Columns of the loss-comparison and hole-size tables.
RUN_COLUMNS: tuple[str, ...] = ("land_cover", "tile_id", "hole_px", "loss", "iterations", "row", *SCORES)
#: Columns of the EPI-trajectory table.
EPI_COLUMNS: tuple[str, ...] = ("land_cover", "tile_id", "iteration", *SCORES)


def _rows(
    land_cover: str, tile_ids: Sequence[str], hole_px: int, loss: str, iterations: int, scores: list[dict], first: int
) -> list[dict]:
    return [
        {"land_cover": land_cover, "tile_id": t, "hole_px": hole_px, "loss": loss, "iterations": iterations,
         "row": first + i, **s}
        for i, (t, s) in enumerate(zip(tile_ids, scores, strict=True))
    ]  # fmt: skip


def loss_comparison(
    images_db: np.ndarray,
    hidden: np.ndarray,
    base: Preset,
    seeds: Sequence[int],
    tile_ids: Sequence[str],
    land_cover: str,
    *,
    iterations: int,
    mse_factor: int = 3,
    device: str = "cpu",
) -> tuple[pd.DataFrame, np.ndarray]:
    """Fig. 10: SSIM loss for ``iterations`` against MSE loss for ``mse_factor * iterations`` (paper
    3000 vs 9000), same tiles, holes and seeds.

    Returns the table (:data:`RUN_COLUMNS`, one row per tile and loss; ``hole_px`` is the hidden pixel
    count) and the network outputs (2B, C, H, W) dB in the table's ``row`` order (SSIM rows first).
    """
    hidden = np.broadcast_to(np.asarray(hidden, dtype=bool), (images_db.shape[0], *images_db.shape[2:]))
    rows: list[dict] = []
    outputs = []
    for loss, n in (("ssim", iterations), ("mse", mse_factor * iterations)):
        result = fit(images_db, hidden, with_loss(base, loss), seeds, iterations=n, device=device)
        scores = score_batch(images_db, result.output_db, hidden)
        for i, s in enumerate(scores):
            rows += _rows(land_cover, [tile_ids[i]], int(hidden[i].sum()), loss, n, [s], len(rows))
        outputs.append(result.output_db)
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS)), np.concatenate(outputs)


def hole_size_sweep(
    images_db: np.ndarray,
    base: Preset,
    seeds: Sequence[int],
    tile_ids: Sequence[str],
    land_cover: str,
    *,
    hole_px: int,
    iterations: int,
    device: str = "cpu",
) -> pd.DataFrame:
    """Fig. 11, one hole size: a centred ``hole_px`` square (:func:`~sardip.experiments.common.centred_box`,
    clipped to the tile) inpainted with SSIM loss and with MSE loss, ``iterations`` each.

    Returns :data:`RUN_COLUMNS` rows, one per tile and loss; ``hole_px`` is the side actually used.
    """
    hidden = centred_box(images_db.shape[2:], hole_px)
    side = int(np.sqrt(hidden.sum()))
    rows: list[dict] = []
    for loss in ("ssim", "mse"):
        result = fit(images_db, hidden, with_loss(base, loss), seeds, iterations=iterations, device=device)
        rows += _rows(land_cover, tile_ids, side, loss, iterations, score_batch(images_db, result.output_db, hidden),
                      len(rows))  # fmt: skip
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def epi_trajectory(
    image_db: np.ndarray,
    hidden: np.ndarray,
    preset: Preset,
    seed: int,
    tile_id: str,
    land_cover: str,
    *,
    iterations: int,
    every: int,
    device: str = "cpu",
) -> pd.DataFrame:
    """Fig. 19: the scores (EPI in OIA and FI among them) of the network output of one tile (C, H, W)
    after 0, ``every``, 2 ``every``, ... and ``iterations`` updates (paper: up to 12000)."""
    if every < 1:
        raise ValueError(f"every={every}: must be >= 1")
    wanted = sorted({*range(0, iterations + 1, every), iterations})
    result = fit(image_db[None], hidden, preset, [seed], iterations=iterations, device=device,
                 report_every=every, snapshot_iters=wanted)  # fmt: skip
    rows = [
        {"land_cover": land_cover, "tile_id": tile_id, "iteration": i, **score(image_db, snap[0], hidden)}
        for i, snap in sorted(result.snapshots.items())
    ]
    return pd.DataFrame(rows, columns=list(EPI_COLUMNS))


def similar_mse_pair(runs: pd.DataFrame, max_mse_ratio: float = 1.5) -> tuple[int, int]:
    """Fig. 7: indices (into ``runs``) of two results whose FI MSE differ by at most ``max_mse_ratio``
    (larger over smaller; paper 0.026 / 0.018 = 1.44) and whose FI SSIM differ most; the higher-SSIM
    result first. Without such a pair, the pair with the closest MSE.
    """
    runs = runs.reset_index(drop=True)
    finite = runs.index[np.isfinite(runs["mse_fi"]) & np.isfinite(runs["ssim_fi"]) & (runs["mse_fi"] > 0)]
    if len(finite) < 2:
        raise ValueError("need at least two scored results to pick a pair")
    mse, ssim = runs["mse_fi"].to_numpy(), runs["ssim_fi"].to_numpy()
    pairs = list(combinations(finite, 2))
    ratio = np.array([max(mse[i], mse[j]) / min(mse[i], mse[j]) for i, j in pairs])
    gap = np.array([abs(ssim[i] - ssim[j]) for i, j in pairs])
    ok = ratio <= max_mse_ratio
    i, j = pairs[int(np.argmax(np.where(ok, gap, -np.inf)))] if ok.any() else pairs[int(np.argmin(ratio))]
    return (int(i), int(j)) if ssim[i] >= ssim[j] else (int(j), int(i))


def fig07_panels(
    runs: Sequence[pd.DataFrame], arrays: Sequence[Mapping[str, np.ndarray]], max_mse_ratio: float
) -> tuple[pd.DataFrame, np.ndarray, list[tuple[np.ndarray, str, float, float]], np.ndarray]:
    """What Fig. 7 shows, from the loss comparison of every class: ``runs[k]`` the :func:`loss_comparison`
    table of class file ``k`` and ``arrays[k]`` its saved arrays (``original`` (B, C, H, W), ``hidden``
    (B, H, W), ``output`` (2B, C, H, W) in the table's ``row`` order: SSIM-loss tiles, then MSE-loss ones).

    Returns the chosen pair of rows (:func:`similar_mse_pair`, with the class file in ``file``), their
    originals (2, C, H, W), the panels (output, label, FI SSIM, FI MSE) and their holes (2, H, W).
    """
    table = pd.concat([r.assign(file=k) for k, r in enumerate(runs)], ignore_index=True)
    pair = table.iloc[list(similar_mse_pair(table, max_mse_ratio))]
    originals, panels, holes = [], [], []
    for _, run in pair.iterrows():
        saved = arrays[int(run["file"])]
        tile = int(run["row"]) % len(saved["original"])
        originals.append(saved["original"][tile])
        holes.append(saved["hidden"][tile])
        label = f"{run['land_cover']} {run['tile_id']}, {run['loss'].upper()} loss"
        panels.append((saved["output"][int(run["row"])], label, float(run["ssim_fi"]), float(run["mse_fi"])))
    return pair, np.stack(originals), panels, np.stack(holes)
