"""Inpaint one selected tile with the configured DIP preset (rule inpaint_tile)."""

from pathlib import Path

import torch

from sardip.inpaint import FitSettings, OutputPaths, inpaint_file
from sardip.logs import log_to_file
from sardip.masks import MaskSpec

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
cfg = snakemake.params.fit
ops = snakemake.config["inpaint"]  # operational settings only: they do not change the result
out = snakemake.output
settings = FitSettings(
    preset=cfg["preset"],
    land_cover=snakemake.params.land_cover,
    iterations=cfg["iterations"],
    seed=cfg["seed"],
    device=ops["device"],
    report_every=ops["report_every"],
    checkpoint_every=ops["checkpoint_every"],
)
outputs = OutputPaths(
    Path(out.inpainted),
    raw=out.raw,
    mask=out.mask,
    trajectory=out.trajectory,
    snapshot_dir=Path(out.snapshots[0]).parent if out.snapshots else None,
    snapshots=tuple(cfg["snapshots"]),
    checkpoint=Path(out.inpainted).with_name("state.pt"),
)
mask = MaskSpec(cfg["mask"], grow=cfg["grow"])
summary = inpaint_file(snakemake.input.s1, mask, outputs, settings, tile_id=snakemake.wildcards.tile)
logger.info("done: %s in %.1f s on %s", summary.out, summary.seconds, summary.device)
