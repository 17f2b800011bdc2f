"""Lazy S1 tile datasets for the classifiers, with per-band normalisation.

Each item is one tile read from its GeoTIFF when asked for, so a DataLoader with ``num_workers``
streams the full SEN12MS train pool (162,555 tiles) without holding it in memory. A tile goes
through, in order:

1. read as dB, ``(2, H, W)`` float32, bands VV, VH (nodata -> NaN, :func:`sardip.sen12ms.read_s1`);
2. per-band z-score ``(x - mean_b) / std_b`` (dB in, unitless out);
3. NaN -> 0, i.e. a missing pixel takes the band mean; done after (2) so it cannot bias the stats;
4. bilinear resize to ``input_size x input_size`` when the tile has another size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from sardip.sen12ms import read_s1

#: z-score stats (dB) of SEN12MS S1 used by the dataset's classification code, bands VV, VH.
SEN12MS_MEAN = (-11.76858, -18.294598)
SEN12MS_STD = (4.525339, 4.3586307)


@dataclass(frozen=True)
class Normalisation:
    """Per-band z-score parameters in dB, one value per band (VV, VH)."""

    mean: tuple[float, ...] = SEN12MS_MEAN
    std: tuple[float, ...] = SEN12MS_STD

    def __post_init__(self) -> None:
        if len(self.mean) != len(self.std):
            raise ValueError(f"normalisation: {len(self.mean)} means but {len(self.std)} stds")
        if not all(math.isfinite(s) and s > 0 for s in self.std):
            raise ValueError(f"normalisation.std must be finite and > 0, got {self.std}")

    def as_dict(self) -> dict[str, list[float]]:
        """Plain-type form stored in checkpoints (loadable with ``torch.load(weights_only=True)``)."""
        return {"mean": [float(m) for m in self.mean], "std": [float(s) for s in self.std]}

    @classmethod
    def from_dict(cls, values: dict) -> Normalisation:
        return cls(tuple(float(m) for m in values["mean"]), tuple(float(s) for s in values["std"]))

    @classmethod
    def from_tiles(cls, paths: Sequence[str | Path], max_tiles: int = 2000, seed: int = 0) -> Normalisation:
        """Mean and std per band over the finite pixels of up to ``max_tiles`` tiles drawn with ``seed``.

        A sample suffices: with 256x256 px per tile, 2000 tiles are 131 M pixels per band.
        """
        if not paths:
            raise ValueError("normalisation: no tile to compute statistics on")
        rng = np.random.default_rng(seed)
        chosen = rng.choice(len(paths), size=min(max_tiles, len(paths)), replace=False)
        total = np.zeros(2)
        total_sq = np.zeros(2)
        count = np.zeros(2)
        for i in sorted(chosen):
            data = read_s1(paths[i]).astype(np.float64)
            finite = np.isfinite(data)
            total += np.where(finite, data, 0).sum(axis=(1, 2))
            total_sq += np.where(finite, data**2, 0).sum(axis=(1, 2))
            count += finite.sum(axis=(1, 2))
        mean = total / np.maximum(count, 1)
        std = np.sqrt(np.maximum(total_sq / np.maximum(count, 1) - mean**2, 0))
        return cls(tuple(mean.tolist()), tuple(std.tolist()))


def prepare(data: np.ndarray, norm: Normalisation, input_size: int) -> torch.Tensor:
    """Steps 2-4 of the module docstring on one tile ``(2, H, W)`` dB -> ``(2, S, S)`` float32 tensor."""
    mean = np.asarray(norm.mean, dtype=np.float32)[:, None, None]
    std = np.asarray(norm.std, dtype=np.float32)[:, None, None]
    z = np.nan_to_num((data - mean) / std, nan=0.0, posinf=0.0, neginf=0.0)
    tensor = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32))
    if tensor.shape[-2:] != (input_size, input_size):
        size = (input_size, input_size)
        tensor = torch.nn.functional.interpolate(tensor[None], size=size, mode="bilinear", align_corners=False)[0]
    return tensor


class S1TileDataset(Dataset):
    """Sentinel-1 tiles read lazily from paths; item ``i`` is ``(x, y)``.

    ``x``: ``(2, input_size, input_size)`` float32, normalised (see the module docstring).
    ``y``: class index (int64 scalar), or -1 when the dataset has no labels (prediction).
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        labels: Sequence[int] | None,
        normalisation: Normalisation,
        input_size: int,
    ) -> None:
        if labels is not None and len(labels) != len(paths):
            raise ValueError(f"{len(paths)} tile paths but {len(labels)} labels")
        self.paths = [str(p) for p in paths]
        self.labels = None if labels is None else [int(v) for v in labels]
        self.normalisation = normalisation
        self.input_size = int(input_size)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = prepare(read_s1(self.paths[index]), self.normalisation, self.input_size)
        y = -1 if self.labels is None else self.labels[index]
        return x, torch.tensor(y, dtype=torch.int64)


def make_loader(
    dataset: S1TileDataset,
    batch_size: int,
    num_workers: int,
    device: str,
    shuffle: bool = False,
    seed: int = 0,
    drop_last: bool = False,
) -> DataLoader:
    """A DataLoader over ``dataset``; shuffling draws from a generator seeded with ``seed``.

    Workers read tiles in parallel (``num_workers`` > 0 spawns processes; 0 reads in the main one);
    the dataset itself draws no random numbers, so the batches depend only on ``seed``.
    """
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        generator=generator,
        drop_last=drop_last,
        pin_memory=str(device).startswith("cuda"),
        persistent_workers=num_workers > 0,
    )
