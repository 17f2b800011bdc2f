"""EPI (OIA, FI) of one tile's DIP output every K iterations up to N (rule epi_fit, Fig. 19)."""

from sardip.experiments import epi_trajectory
from sardip.experiments.job import fit_job
from sardip.io import write_table

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

p = snakemake.params
with fit_job(snakemake) as job:
    table = epi_trajectory(
        job.images[0], job.hidden(p.mask)[0], job.preset, job.seeds[0], job.tiles[0], job.land_cover,
        iterations=p.iterations, every=p.every, device=job.device,
    )  # fmt: skip
write_table(table, snakemake.output.trajectory)
job.logger.info("final EPI OIA %.3f, FI %.3f", table["epi_oia"].iloc[-1], table["epi_fi"].iloc[-1])
