"""Which selected tiles share a DIP job: the chunk plan and the ledger that keeps it stable (checkpoint plan_chunks)."""

from pathlib import Path

from sardip.chunks import plan_chunks, settings_hash, started_in
from sardip.io import read_table, write_table
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
params = snakemake.params
ledger_path = Path(params.ledger)
old = read_table(ledger_path) if ledger_path.exists() else None
plan, ledger = plan_chunks(
    read_table(snakemake.input.selected),
    old,
    settings_hash(params.fit),
    params.tiles_per_job,
    started_in(params.chunks_dir, params.state_dir),
)
for chunk in set(old["chunk"]) - set(ledger["chunk"]) if old is not None else ():
    (Path(params.state_dir) / f"{chunk}.pt").unlink(missing_ok=True)
logger.info("%d tiles in %d chunks; ledger %d tiles", plan["selected"].sum(), plan["chunk"].nunique(), len(ledger))
write_table(ledger, ledger_path)
write_table(plan, snakemake.output.plan)
