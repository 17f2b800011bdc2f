"""Write the seeded demo SEN12MS tree (rule demo_data)."""

from pathlib import Path

from sardip.demo import write_demo
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
demo = snakemake.params.demo
root = Path(snakemake.output.tiles[0]).parents[2]  # <root>/<season>/s1_<scene>/<file>
tiles = write_demo(
    root,
    tile_size=snakemake.params.tile_size,
    patches_per_side=demo["patches_per_side"],
    seed=demo["seed"],
    looks=demo["looks"],
    corr_sigma=demo["speckle_correlation"],
)
logger.info("wrote %d demo tiles under %s", len(tiles), root)
