"""SSIM, MS-SSIM, ENL and EPI of one image of a DIP tile against its original (rule tile_metrics)."""

from sardip.io import write_table
from sardip.logs import log_to_file
from sardip.metrics import tile_metrics_files

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
inputs, tile, image = snakemake.input, snakemake.wildcards.tile, snakemake.wildcards.image
table = tile_metrics_files(inputs.original, inputs.result, inputs.mask, tile, snakemake.params.land_cover)
table.insert(2, "image", image)
logger.info("%s, %s image (%s): %d metric rows", tile, image, inputs.result, len(table))
write_table(table, snakemake.output.metrics)
