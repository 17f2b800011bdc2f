"""Fit one chunk of selected tiles as one batch with the configured DIP preset (rule inpaint_chunk)."""

from pathlib import Path

import torch

from sardip.chunks import run_chunk
from sardip.inpaint import FitSettings
from sardip.logs import log_to_file
from sardip.masks import MaskSpec

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
fit = snakemake.params.fit
ops = snakemake.config["inpaint"]  # operational settings only: they do not change the result
settings = FitSettings(
    preset=fit["preset"],
    land_cover=snakemake.params.land_cover,
    iterations=fit["iterations"],
    seed=fit["seed"],
    device=ops["device"],
    report_every=ops["report_every"],
    checkpoint_every=ops["checkpoint_every"],
)
out = Path(snakemake.output.chunk)
members = dict(zip(snakemake.params.members, snakemake.input.s1, strict=True))
mask = MaskSpec(fit["mask"], grow=fit["grow"])
status = run_chunk(members, mask, settings, fit["snapshots"], out, Path(snakemake.params.state))
for row in status[status["status"] != "ok"].itertuples():
    logger.warning("%s failed: %s", row.tile_id, row.reason)
logger.info("done: %d of %d tiles", (status["status"] == "ok").sum(), len(status))
