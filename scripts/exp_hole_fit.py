"""One hole size on one class's tiles, SSIM loss and MSE loss (rule hole_fit, Fig. 11)."""

import torch

from sardip.dip.presets import get_preset
from sardip.experiments import hole_size_sweep
from sardip.gpu import claim_device
from sardip.io import write_table
from sardip.logs import log_to_file
from sardip.seeds import tile_seed
from sardip.sen12ms import read_s1_tiles

logger = log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p = snakemake.params
tiles = list(p.tiles)
with claim_device(p.device) as claim:
    runs = hole_size_sweep(
        read_s1_tiles(snakemake.input.s1), get_preset(p.preset, p.land_cover), [tile_seed(t, p.seed) for t in tiles],
        tiles, p.land_cover, hole_px=int(snakemake.wildcards.hole), iterations=p.iterations, device=claim.device,
    )  # fmt: skip
write_table(runs, snakemake.output.runs)
logger.info("%s", runs.groupby("loss")[["ssim_fi", "mse_oia"]].mean().to_dict())
