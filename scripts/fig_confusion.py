"""Figures 22-23: confusion matrices of one model, originals beside one image of the DIP tiles (rule
fig_confusion)."""

from sardip.classify.evaluate import read_confusion
from sardip.classify.models import model_label
from sardip.figures import fig22_confusion
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
original, result = read_confusion(snakemake.input.original), read_confusion(snakemake.input.result)
model, image = model_label(snakemake.wildcards.model), snakemake.wildcards.image
logger.info("wrote %s", fig22_confusion(original, result, model, snakemake.output.figure, image))
