"""Inpaint one selected tile with the configured DIP preset (rule inpaint_tile)."""

from pathlib import Path

import torch

from sardip.inpaint import inpaint_file
from sardip.logs import log_to_file

logger = log_to_file(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
cfg = snakemake.params.fit
ops = snakemake.config["inpaint"]  # operational settings only: they do not change the result
out = snakemake.output
summary = inpaint_file(
    snakemake.input.s1,
    cfg["mask"],
    out.inpainted,
    preset=cfg["preset"],
    land_cover=snakemake.params.land_cover,
    iterations=cfg["iterations"],
    seed=cfg["seed"],
    device=ops["device"],
    grow=cfg["grow"],
    raw_out=out.raw,
    mask_out=out.mask,
    snapshot_dir=Path(out.snapshots[0]).parent if out.snapshots else None,
    snapshot_iters=cfg["snapshots"],
    trajectory_out=out.trajectory,
    checkpoint=Path(out.inpainted).with_name("state.pt"),
    checkpoint_every=ops["checkpoint_every"],
    report_every=ops["report_every"],
    tile_id=snakemake.wildcards.tile,
)
logger.info("done: %s in %.1f s on %s", summary.out, summary.seconds, summary.device)
