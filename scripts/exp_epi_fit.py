"""EPI (OIA, FI) of one tile's DIP output every K iterations up to N (rule epi_fit, Fig. 19)."""

import torch

from sardip.dip.presets import get_preset
from sardip.experiments import epi_trajectory, tile_masks
from sardip.gpu import claim_device
from sardip.io import write_table
from sardip.logs import log_to_file
from sardip.seeds import tile_seed
from sardip.sen12ms import read_s1_tiles

logger = log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p = snakemake.params
hidden = tile_masks([snakemake.input.s1], p.mask, [p.tile], p.seed)[0]
with claim_device(p.device) as claim:
    table = epi_trajectory(
        read_s1_tiles([snakemake.input.s1])[0], hidden, get_preset(p.preset, p.land_cover), tile_seed(p.tile, p.seed),
        p.tile, p.land_cover, iterations=p.iterations, every=p.every, device=claim.device,
    )  # fmt: skip
write_table(table, snakemake.output.trajectory)
logger.info("final EPI OIA %.3f, FI %.3f", table["epi_oia"].iloc[-1], table["epi_fi"].iloc[-1])
