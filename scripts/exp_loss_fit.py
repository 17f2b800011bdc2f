"""SSIM loss for N iterations against MSE loss for 3N on one class's tiles (rule loss_fit, Fig. 10)."""

import numpy as np

from sardip.experiments import loss_comparison
from sardip.experiments.job import fit_job
from sardip.io import atomic_path, write_table

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

p = snakemake.params
with fit_job(snakemake) as job:
    hidden = job.hidden(p.mask)
    runs, outputs = loss_comparison(
        job.images, hidden, job.preset, job.seeds, job.tiles, job.land_cover,
        iterations=p.iterations, mse_factor=p.mse_factor, device=job.device,
    )  # fmt: skip
write_table(runs, snakemake.output.runs)
with atomic_path(snakemake.output.arrays) as tmp, open(tmp, "wb") as f:
    np.savez_compressed(f, original=job.images, hidden=hidden, output=outputs)
job.logger.info("%s", runs.groupby("loss")[["ssim_fi", "mse_fi"]].mean().to_dict())
