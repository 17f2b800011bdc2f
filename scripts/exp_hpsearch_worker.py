"""One worker of a class's Table 1 search (rule hpsearch_worker): its share of the study's trials."""

from sardip.experiments import SearchSettings, open_study, run_worker, study_name, trials_table
from sardip.experiments.job import fit_job
from sardip.io import write_table

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

p = snakemake.params
worker = int(snakemake.wildcards.worker)
settings = SearchSettings(**p.settings)
with fit_job(snakemake) as job:
    study = open_study(p.storage, study_name(p.study_prefix, job.land_cover, settings, job.tiles, job.preset), settings)
    job.logger.info("study %s, worker %d of %d", study.study_name, worker, p.workers)
    ran = run_worker(study, job.images, job.hidden(p.mask), job.preset, job.seeds, settings, worker=worker,
                     workers=p.workers, device=job.device)  # fmt: skip
table = trials_table(study, job.land_cover)
write_table(table[table["worker"] == worker], snakemake.output.trials)
job.logger.info("ran trials %s", ran)
