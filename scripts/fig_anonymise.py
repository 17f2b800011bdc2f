"""Before/after figure of one anonymised scene (rule fig_anonymise)."""

import json
from pathlib import Path

from sardip.figures.scene import scene_figure
from sardip.logs import log_to_file
from sardip.scene.sheet import scene_files

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
provenance = json.loads(Path(snakemake.input.provenance).read_text())
scene_figure(scene_files(snakemake.params.row), snakemake.input.anonymised, provenance, snakemake.output.figure)
logger.info("figure of %d windows", len(provenance["windows"]))
