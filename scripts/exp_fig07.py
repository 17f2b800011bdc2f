"""Fig. 7: two results of the loss comparison with similar MSE but very different SSIM (rule fig07)."""

import numpy as np

from sardip.experiments import fig07_panels
from sardip.figures.experiments import fig07_mse_vs_ssim
from sardip.io import read_table, write_table
from sardip.logs import log_to_file

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
runs = [read_table(f) for f in snakemake.input.runs]
arrays = [np.load(f) for f in snakemake.input.arrays]
pair, originals, panels, holes = fig07_panels(runs, arrays, snakemake.params.max_mse_ratio)
write_table(pair, snakemake.output.pair)
logger.info("wrote %s", fig07_mse_vs_ssim(originals, panels, holes, snakemake.output.fig07))
