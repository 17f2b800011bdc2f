"""Train the learned detector on the workflow's own tiles and fills; held-out AUC per fill (rule train_detector)."""

import torch

from sardip.audit import learned
from sardip.gpu import claim_device
from sardip.io import write_table
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
per_tile = len(snakemake.params.iterations)
snapshots = [snakemake.input.snapshots[i : i + per_tile] for i in range(0, len(snakemake.input.snapshots), per_tile)]
tiles = {
    tile: (s1, mask, dict(zip(snakemake.params.iterations, snaps, strict=True)))
    for tile, s1, mask, snaps in zip(
        snakemake.params.tiles, snakemake.input.s1, snakemake.input.masks, snapshots, strict=True
    )
}
options = snakemake.params.learned
with claim_device(snakemake.params.device) as claim:
    net, record, table = learned.train_on_tiles(
        tiles, options["steps"], options["per_image"], snakemake.params.seed, device=claim.device
    )
learned.save(net, snakemake.output.model, record)
summary = table.groupby("fill", sort=False)["auc"].agg(["mean", "min", "count"]).reset_index()
write_table(summary, snakemake.output.heldout)
logger.info("held-out AUC per fill:\n%s", summary.to_string(index=False))
