"""Time-to-quality figure from the per-class audit curve (rule fig_audit_curve)."""

from sardip.figures import fig_audit_curve
from sardip.io import read_table
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
logger.info("wrote %s", fig_audit_curve(read_table(snakemake.input.curve), snakemake.output.figure))
