"""Gather the audit and metrics of every tile and method; verdicts and the per-class comparison (rule audit_table)."""

import pandas as pd

from sardip.audit.stage import comparison, curve_table, verdicts
from sardip.io import read_table, write_table
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
audit = pd.concat([read_table(p) for p in snakemake.input.audits], ignore_index=True)
metrics = pd.concat([read_table(p) for p in snakemake.input.metrics], ignore_index=True)
curves = pd.concat([read_table(p) for p in snakemake.input.curves], ignore_index=True)
logger.info("%d tiles, methods %s", audit["tile_id"].nunique(), list(dict.fromkeys(audit["fill"])))
write_table(audit, snakemake.output.per_tile)
write_table(metrics, snakemake.output.metrics)
write_table(verdicts(audit), snakemake.output.verdicts)
write_table(comparison(audit, metrics), snakemake.output.comparison)
write_table(curve_table(curves), snakemake.output.curve)
