"""Figures 12-13: the first kept tile of each class, original, mask and result (rule fig_examples)."""

from sardip.figures import fig12_examples
from sardip.figures.images import first_kept_per_class
from sardip.io import read_table
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
inputs = snakemake.input
examples = first_kept_per_class(
    read_table(inputs.kept), snakemake.params.tiles, inputs.originals, inputs.masks, inputs.results
)
logger.info("wrote %s with %d classes", fig12_examples(examples, snakemake.output.figure), len(examples))
