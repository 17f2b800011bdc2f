"""Time-to-quality figure from the per-class audit curve (rule fig_audit_curve)."""

from sardip.figures import fig_audit_curve
from sardip.io import read_table
from sardip.logs import log_to_file

logger = log_to_file(snakemake.log[0])
logger.info("wrote %s", fig_audit_curve(read_table(snakemake.input.curve), snakemake.output.figure))
