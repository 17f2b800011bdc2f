"""Every trial of one class's study, once all its workers have finished (rule hpsearch_study)."""

import pandas as pd

from sardip.experiments import load_study, trials_table
from sardip.io import read_table, write_table
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
names = pd.concat([read_table(f) for f in snakemake.input.workers])["study"].unique()
if len(names) != 1:
    raise ValueError(f"workers of {snakemake.wildcards.cls} wrote to studies {list(names)}, expected one")
table = trials_table(load_study(snakemake.params.storage, str(names[0])), snakemake.wildcards.cls)
write_table(table, snakemake.output.trials)
logger.info("%s: %s", names[0], table["state"].value_counts().to_dict())
