"""Run every configured fill method on one tile and audit it (rule audit_tile)."""

from pathlib import Path

from sardip.audit.stage import compare_tile, snapshot_curve
from sardip.io import write_table
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
tile = snakemake.wildcards.tile
fills = {Path(p).stem: p for p in snakemake.output.fills}
outputs = {m: fills.get(m, snakemake.input.result) for m in snakemake.params.methods}
audit, metrics = compare_tile(
    snakemake.input.original,
    snakemake.input.mask,
    snakemake.input.result,
    snakemake.input.raw,
    outputs,
    tile,
    snakemake.params.land_cover,
    snakemake.params.seed,
    model=snakemake.input.detector,
)
snapshots = dict(zip(snakemake.params.iterations, snakemake.input.snapshots, strict=True))
curve = snapshot_curve(
    snakemake.input.original,
    snakemake.input.mask,
    snapshots,
    tile,
    snakemake.params.land_cover,
    snakemake.params.seed,
    model=snakemake.input.detector,
)
logger.info("%s: audited %s and the DIP after %s iterations", tile, list(outputs), list(snapshots))
write_table(audit, snakemake.output.audit)
write_table(metrics, snakemake.output.metrics)
write_table(curve, snakemake.output.curve)
