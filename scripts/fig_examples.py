"""Figures 12-13: the first kept tile of each class, original, mask and result (rule fig_examples)."""

from sardip.figures import fig12_examples
from sardip.io import read_table
from sardip.logs import log_to_file

logger = log_to_file(snakemake.log[0])
inputs = snakemake.input
kept = read_table(inputs.kept)
first = set(kept.sort_values("tile_id").groupby("land_cover")["tile_id"].first())
tiles = [path.split("/")[-2] for path in inputs.results]  # results/dip/<tile>/inpainted.tif
classes = dict(zip(kept["tile_id"], kept["land_cover"], strict=True))
examples = sorted(
    (classes[tile], original, mask, result)
    for tile, original, mask, result in zip(tiles, inputs.originals, inputs.masks, inputs.results, strict=True)
    if tile in first
)
logger.info("wrote %s with %d classes", fig12_examples(examples, snakemake.output.figure), len(examples))
