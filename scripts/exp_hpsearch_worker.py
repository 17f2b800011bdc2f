"""One worker of a class's Table 1 search (rule hpsearch_worker): its share of the study's trials."""

import torch

from sardip.dip.presets import get_preset
from sardip.experiments import (
    SearchSettings,
    open_study,
    run_worker,
    study_name,
    tile_masks,
    trials_table,
)
from sardip.gpu import claim_device
from sardip.io import write_table
from sardip.logs import log_to_file
from sardip.seeds import tile_seed
from sardip.sen12ms import read_s1_tiles

logger = log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p = snakemake.params
worker = int(snakemake.wildcards.worker)
tiles = list(p.tiles)
settings = SearchSettings(**p.settings)
base = get_preset(p.preset, p.land_cover)
images = read_s1_tiles(snakemake.input.s1)
hidden = tile_masks(snakemake.input.s1, p.mask, tiles, settings.seed)
study = open_study(p.storage, study_name(p.study_prefix, p.land_cover, settings, tiles, base), settings)
logger.info("study %s, worker %d of %d, %d tiles", study.study_name, worker, p.workers, len(tiles))
with claim_device(p.device) as claim:
    seeds = [tile_seed(t, settings.seed) for t in tiles]
    ran = run_worker(study, images, hidden, base, seeds, settings, worker=worker, workers=p.workers,
                     device=claim.device)  # fmt: skip
table = trials_table(study, p.land_cover)
write_table(table[table["worker"] == worker], snakemake.output.trials)
logger.info("ran trials %s", ran)
