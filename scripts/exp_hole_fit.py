"""One hole size on one class's tiles, SSIM loss and MSE loss (rule hole_fit, Fig. 11)."""

from sardip.experiments import hole_size_sweep
from sardip.experiments.job import fit_job
from sardip.io import write_table

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

p = snakemake.params
with fit_job(snakemake) as job:
    runs = hole_size_sweep(
        job.images, job.preset, job.seeds, job.tiles, job.land_cover,
        hole_px=int(snakemake.wildcards.hole), iterations=p.iterations, device=job.device,
    )  # fmt: skip
write_table(runs, snakemake.output.runs)
job.logger.info("%s", runs.groupby("loss")[["ssim_fi", "mse_oia"]].mean().to_dict())
