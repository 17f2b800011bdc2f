"""Fit one part of a scene's windows and save their patches (rule fill_scene_part)."""

import torch

from sardip.logs import log_to_file
from sardip.scene.jobs import fill_part
from sardip.scene.sheet import row_settings, scene_files

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
row = snakemake.params.row
settings = row_settings(row, snakemake.params.options, snakemake.input.detector)
fill_part(scene_files(row), row["mask"], settings, snakemake.params.windows, snakemake.output.part)
logger.info("fitted %d windows", len(snakemake.params.windows))
