"""Write a scene's published copy, its provenance sidecar and its window table (rule anonymise_scene)."""

import json
from pathlib import Path

from sardip.io import write_table
from sardip.logs import log_to_file
from sardip.scene.jobs import assemble, window_table
from sardip.scene.sheet import row_settings, scene_files

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
row = snakemake.params.row
settings = row_settings(row, snakemake.params.options, snakemake.input.detector)
summary = assemble(scene_files(row), row["mask"], settings, snakemake.input.parts, snakemake.output.scene)
table = window_table(json.loads(Path(snakemake.output.provenance).read_text()), row["name"])
write_table(table, snakemake.output.windows)
logger.info("%s: %d windows, %d px hidden", summary.out, len(summary.windows), summary.hidden_pixels)
