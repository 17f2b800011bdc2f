"""What every fitting job of the experiment stage starts with, read from the workflow's job object.

A fitting job (``hpsearch_worker``, ``loss_fit``, ``hole_fit``, ``epi_fit``) logs to its rule's log,
limits torch to its threads, reads its class's sample tiles, builds the class's base preset and each
tile's own seed from the base seed, and claims a device. :func:`fit_job` does all of that once, for
every script alike; it reads the job's ``input.s1``, ``log``, ``threads`` and the params ``tiles``,
``land_cover``, ``preset``, ``seed`` and ``device``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from sardip.dip.presets import Preset, get_preset
from sardip.experiments.common import tile_masks
from sardip.gpu import claim_device
from sardip.logs import log_to_file
from sardip.seeds import tile_seed
from sardip.sen12ms import read_s1_tiles


@dataclass
class FitJob:
    """One experiment job's tiles (ids, files, images (B, C, H, W) dB), the class's base ``preset``, each
    tile's seed from ``base_seed``, the claimed ``device`` and the job's logger."""

    land_cover: str
    tiles: list[str]
    paths: list[str]
    images: np.ndarray
    preset: Preset
    base_seed: int
    seeds: list[int]
    device: str
    logger: logging.Logger

    def hidden(self, spec: str) -> np.ndarray:
        """The hidden area (B, H, W) of mask ``spec`` in each tile, as the inpainting stage hides it."""
        return tile_masks(self.paths, spec, self.tiles, self.base_seed)


@contextmanager
def fit_job(job: Any) -> Iterator[FitJob]:
    """The :class:`FitJob` of a workflow job (Snakemake's ``snakemake`` object), on a claimed device."""
    logger = log_to_file(job.log[0])
    torch.set_num_threads(job.threads)
    params = job.params
    paths = [job.input.s1] if isinstance(job.input.s1, str) else [str(p) for p in job.input.s1]
    tiles = list(params.tiles)
    base_seed = int(params.seed)
    with claim_device(params.device) as claim:
        logger.info("%s: %d tiles on %s (%s)", params.land_cover, len(tiles), claim.device, claim.reason)
        yield FitJob(
            land_cover=params.land_cover,
            tiles=tiles,
            paths=paths,
            images=read_s1_tiles(paths),
            preset=get_preset(params.preset, params.land_cover),
            base_seed=base_seed,
            seeds=[tile_seed(t, base_seed) for t in tiles],
            device=claim.device,
            logger=logger,
        )
