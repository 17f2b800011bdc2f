"""Classify the kept tiles, original, DIP-generated and published, and tabulate accuracy and confusion
(rule evaluate_classifier)."""

import torch

from sardip.classify.evaluate import evaluate_from_tables, write_confusion
from sardip.gpu import claim_device
from sardip.io import read_table, write_table
from sardip.logs import log_to_file
from sardip.tile_images import IMAGES

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
inputs, out = snakemake.input, snakemake.output
kept = read_table(inputs.kept)["tile_id"]  # the order of the per-tile inputs
test = read_table(inputs.selected).set_index("tile_id").loc[kept].reset_index()
test = test.rename(columns={"s1_path": "original_path"})
test = test.assign(**{f"{image}_path": list(getattr(inputs, image)) for image in IMAGES})
with claim_device(snakemake.config["classify"]["device"]) as claim:
    evaluation = evaluate_from_tables(inputs.checkpoint, test, claim.device, IMAGES)
logger.info("accuracy per class (%%):\n%s", evaluation.accuracy.to_string(index=False))
write_table(evaluation.predictions, out.predictions)
write_table(evaluation.accuracy, out.accuracy)
for version, table in evaluation.confusion.items():
    write_confusion(table, getattr(out, f"confusion_{version}"))
