"""The hole-size sweep of every class and Fig. 11 (rule hole_table)."""

import pandas as pd

from sardip.figures.experiments import fig11_hole_size
from sardip.io import read_table, write_table
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
runs = pd.concat([read_table(f) for f in snakemake.input.runs], ignore_index=True)
write_table(runs, snakemake.output.runs)
logger.info("wrote %s", fig11_hole_size(runs, snakemake.output.fig11))
