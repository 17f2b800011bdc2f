"""Keep the tiles whose DIP converged, list the others with their reasons (checkpoint convergence_filter)."""

from sardip.chunks import tile_results
from sardip.convergence import ConvergenceCriteria, filter_tiles, tile_table
from sardip.io import read_table, write_table
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
inputs = snakemake.input
selected = read_table(inputs.selected)
tiles = tile_table(selected, tile_results(read_table(inputs.plan), inputs.chunks))
kept, dropped = filter_tiles(tiles, ConvergenceCriteria(**snakemake.params.criteria))
for row in dropped.itertuples():
    logger.warning("dropped %s (%s): %s", row.tile_id, row.land_cover, row.reason)
logger.info("kept %d of %d tiles", len(kept), len(tiles))
write_table(kept, snakemake.output.kept)
write_table(dropped, snakemake.output.dropped)
