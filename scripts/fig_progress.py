"""Figure 4: the DIP output of one tile at the snapshot iterations (rule fig_progress)."""

from sardip.figures import fig04_progress
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
snapshots = dict(zip(snakemake.params.iterations, snakemake.input.snapshots, strict=True))
out = fig04_progress(snapshots, snakemake.input.original, snakemake.input.mask, snakemake.output.figure)
logger.info("wrote %s", out)
