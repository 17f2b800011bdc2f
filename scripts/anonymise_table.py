"""Gather every scene's per-window audit into one table (rule anonymise_table)."""

import pandas as pd

from sardip.io import read_table, write_table
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
table = pd.concat([read_table(path) for path in snakemake.input.windows], ignore_index=True)
windows = table.drop_duplicates(["scene", "window"])
logger.info("%d windows of %d scenes", len(windows), table["scene"].nunique())
write_table(table, snakemake.output.table)
