"""The paper's findings, checked on this run's metric and accuracy tables (rule paper_findings)."""

from sardip.classify.models import model_label
from sardip.io import read_table, write_table
from sardip.logs import log_to_file
from sardip.paper import findings

if "snakemake" not in globals():  # run by hand, see sardip.mock
    from sardip.mock import mock_snakemake

    snakemake = mock_snakemake(__file__)

logger = log_to_file(snakemake.log[0])
accuracy = {
    model_label(model): read_table(path)
    for model, path in zip(snakemake.params.models, snakemake.input.accuracy, strict=True)
}
table = findings(read_table(snakemake.input.per_class), accuracy)
logger.info("the paper's findings on this run:\n%s", table.to_string(index=False))
write_table(table, snakemake.output.findings)
