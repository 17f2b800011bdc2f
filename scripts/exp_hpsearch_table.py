"""All classes' trials, the best configuration per class beside the paper's, and Fig. 9 (rule hpsearch_table)."""

import pandas as pd

from sardip.experiments import best_table
from sardip.figures.experiments import fig09_parallel
from sardip.io import read_table, write_table
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
trials = pd.concat([read_table(f) for f in snakemake.input.trials], ignore_index=True)
write_table(trials, snakemake.output.trials)
write_table(best_table(trials), snakemake.output.best)
logger.info("wrote %s", fig09_parallel(trials, snakemake.output.fig09))
