"""Draw the pure tiles of each class (checkpoint select_tiles)."""

from sardip.io import read_table, write_table
from sardip.logs import log_to_file
from sardip.select import class_summary, select_tiles

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
cfg = snakemake.params.selection
inventory = read_table(snakemake.input.inventory)
selected = select_tiles(
    inventory, cfg["classes"], cfg["purity"], cfg["max_per_class"], cfg["seed"], cfg["include_holdout"]
)
summary = class_summary(inventory, selected, cfg["purity"])
logger.info("selected %d tiles:\n%s", len(selected), summary.to_string(index=False))
write_table(selected, snakemake.output.selected)
write_table(summary, snakemake.output.summary)
