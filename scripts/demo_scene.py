"""Write the demo scene and the polygons over its bright targets (rule demo_scene)."""

from pathlib import Path

from sardip.demo import write_demo_scene
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
folder = Path(snakemake.output.scene).parent
scene, targets = write_demo_scene(folder, size=snakemake.params.size, seed=snakemake.params.seed)
logger.info("wrote %s and %s", scene, targets)
