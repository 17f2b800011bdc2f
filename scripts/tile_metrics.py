"""SSIM, MS-SSIM, ENL and EPI of one inpainted tile against its original (rule tile_metrics)."""

from sardip.io import write_table
from sardip.logs import log_to_file
from sardip.metrics import tile_metrics_files

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
inputs = snakemake.input
table = tile_metrics_files(
    inputs.original, inputs.result, inputs.mask, snakemake.wildcards.tile, snakemake.params.land_cover
)
logger.info("%s: %d metric rows", snakemake.wildcards.tile, len(table))
write_table(table, snakemake.output.metrics)
