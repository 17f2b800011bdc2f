"""SSIM loss for N iterations against MSE loss for 3N on one class's tiles (rule loss_fit, Fig. 10)."""

import numpy as np
import torch

from sardip.dip.presets import get_preset
from sardip.experiments import loss_comparison, tile_masks
from sardip.gpu import claim_device
from sardip.io import atomic_path, write_table
from sardip.logs import log_to_file
from sardip.seeds import tile_seed
from sardip.sen12ms import read_s1_tiles

logger = log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p = snakemake.params
tiles = list(p.tiles)
images = read_s1_tiles(snakemake.input.s1)
hidden = tile_masks(snakemake.input.s1, p.mask, tiles, p.seed)
with claim_device(p.device) as claim:
    runs, outputs = loss_comparison(
        images, hidden, get_preset(p.preset, p.land_cover), [tile_seed(t, p.seed) for t in tiles], tiles,
        p.land_cover, iterations=p.iterations, mse_factor=p.mse_factor, device=claim.device,
    )  # fmt: skip
write_table(runs, snakemake.output.runs)
with atomic_path(snakemake.output.arrays) as tmp, open(tmp, "wb") as f:
    np.savez_compressed(f, original=images, hidden=hidden, output=outputs)
logger.info("%s", runs.groupby("loss")[["ssim_fi", "mse_fi"]].mean().to_dict())
