"""DFC2020 class histogram of every tile of one scene (rule scene_histogram)."""

from sardip.io import write_table
from sardip.logs import log_to_file
from sardip.select import scene_inventory
from sardip.sen12ms import expand_folders

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
season, scene = snakemake.wildcards.season, int(snakemake.wildcards.scene)
holdout = {f"{season}/s1_{scene}"} if snakemake.params.split == "holdout" else set()
frame = scene_inventory(expand_folders(snakemake.input.tiles), holdout, snakemake.params.tile_size)
for reason in frame.loc[frame["status"] == "rejected", "reason"]:
    logger.warning("rejected: %s", reason)
logger.info("%s/s1_%d: %d tiles, %d rejected", season, scene, len(frame), (frame["status"] == "rejected").sum())
write_table(frame, snakemake.output.histogram)
