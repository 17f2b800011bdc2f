"""The windows of one sheet row's scene and the fitting job of each (checkpoint plan_scene)."""

from sardip.io import write_table
from sardip.logs import log_to_file
from sardip.scene.jobs import plan_parts
from sardip.scene.sheet import row_settings, scene_files

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
row, options = snakemake.params.row, snakemake.params.options
plan = plan_parts(scene_files(row), row["mask"], row_settings(row, options), options["windows_per_job"])
logger.info("%d windows in %d jobs", len(plan), plan["part"].nunique())
write_table(plan, snakemake.output.plan)
