"""EPI trajectories of the chosen tiles and Fig. 19 (rule epi_table)."""

import pandas as pd

from sardip.figures.experiments import fig19_epi
from sardip.io import read_table, write_table
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
trajectory = pd.concat([read_table(f) for f in snakemake.input.trajectories], ignore_index=True)
write_table(trajectory, snakemake.output.trajectory)
logger.info("wrote %s", fig19_epi(trajectory, snakemake.output.fig19))
