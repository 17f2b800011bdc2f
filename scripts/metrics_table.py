"""Gather per-tile metrics of the kept tiles and summarise them per class (rule metrics_table)."""

import pandas as pd

from sardip.io import read_table, write_table
from sardip.logs import log_to_file
from sardip.metrics import summarise

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
kept = set(read_table(snakemake.input.kept)["tile_id"])
per_tile = pd.concat([read_table(path) for path in snakemake.input.tiles], ignore_index=True)
per_tile = per_tile[per_tile["tile_id"].isin(kept)].reset_index(drop=True)
per_class = summarise(per_tile)
logger.info("metrics of %d kept tiles", per_tile["tile_id"].nunique())
write_table(per_tile, snakemake.output.per_tile)
write_table(per_class, snakemake.output.per_class)
