"""Train one land-cover classifier on the training pool (rule train_classifier)."""

from pathlib import Path

import torch

from sardip.classify.train import train_from_tables
from sardip.gpu import claim_device
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
with claim_device(snakemake.config["classify"]["device"]) as claim:
    logger.info("%s on %s (%s)", snakemake.wildcards.model, claim.device, claim.reason)
    history = train_from_tables(
        snakemake.input.inventory,
        snakemake.input.test_tiles,
        snakemake.wildcards.model,
        snakemake.params.settings,
        Path(snakemake.output.checkpoint).parent,
        claim.device,
    )
logger.info("trained %d epochs:\n%s", len(history), history.to_string(index=False))
