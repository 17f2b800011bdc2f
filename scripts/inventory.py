"""Gather the per-scene histograms into one inventory and list rejected tiles (rule inventory)."""

from sardip.io import read_table, write_table
from sardip.logs import log_to_file
from sardip.select import combine_inventories, rejected_tiles

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
inventory = combine_inventories(read_table(path) for path in snakemake.input.histograms)
rejected = rejected_tiles(inventory)
logger.info("%d tiles inventoried, %d rejected", len(inventory), len(rejected))
write_table(inventory, snakemake.output.inventory)
write_table(rejected, snakemake.output.rejected)
