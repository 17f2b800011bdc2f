"""Figures 20-21: accuracy per class and model, originals against one image of the DIP tiles (rule
fig_accuracy)."""

from sardip.classify.models import model_label
from sardip.figures import fig20_accuracy
from sardip.io import read_table
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
image = snakemake.wildcards.image
tables = {}
for model, path in zip(snakemake.params.models, snakemake.input.accuracy, strict=True):
    table = read_table(path)
    tables[model_label(model)] = table[table["image"] == image]
logger.info("wrote %s", fig20_accuracy(tables, snakemake.output.figure, image))
