"""Figures 14, 15-17 and 18 of one image from the per-tile metrics (rule fig_scores)."""

from sardip.figures import fig14_ssim, fig15_enl, fig18_epi
from sardip.io import read_table
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
image = snakemake.wildcards.image
per_tile = read_table(snakemake.input.per_tile)
per_tile = per_tile[per_tile["image"] == image]
for draw, out in (
    (fig14_ssim, snakemake.output.ssim),
    (fig15_enl, snakemake.output.enl),
    (fig18_epi, snakemake.output.epi),
):
    logger.info("wrote %s", draw(per_tile, out, image))
