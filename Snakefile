"""sardip: Deep Image Prior anonymisation of amplitude SAR tiles, from SEN12MS tile selection to the report."""

import sys
from pathlib import Path

from snakemake.utils import min_version

from sardip.cluster import log_hints

min_version("9.0")


# Defaults from the workflow folder, so `--directory` runs and other working folders find them.
configfile: Path(workflow.basedir) / "config" / "config.yaml"


report: "workflow_report/workflow.rst"


include: "rules/common.smk"
include: "rules/select.smk"
include: "rules/inpaint.smk"
include: "rules/filter.smk"
include: "rules/metrics.smk"
include: "rules/classify.smk"
include: "rules/findings.smk"
include: "rules/audit.smk"
include: "rules/experiments.smk"
include: "rules/anonymise.smk"


# Seconds-long jobs that read tables and write tables or figures: on a cluster they run on the
# submitting host instead of waiting in the queue as jobs of their own.
localrules:
    all,
    demo_data,
    select_tiles,
    plan_chunks,
    dip_tile,
    convergence_filter,
    metrics_table,
    audit_table,
    fig_scores,
    fig_examples,
    fig_progress,
    fig_audit,
    fig_audit_curve,
    fig_accuracy,
    fig_confusion,
    paper_findings,
    hpsearch_table,
    loss_table,
    fig07,
    hole_table,
    epi_table,
    demo_scene,
    plan_scene,
    anonymise_table,
    fig_anonymise,


onerror:
    for hint in log_hints(log):
        print(f"sardip: {hint}", file=sys.stderr)


rule all:
    default_target: True
    input:
        rules.select_tiles.output.summary,
        rules.inventory.output.rejected,
        rules.convergence_filter.output.dropped,
        rules.metrics_table.output.per_class,
        rules.paper_findings.output,
        expand(rules.fig_scores.output, image=FIGURE_IMAGES),
        rules.fig_examples.output,
        rules.fig_progress.output,
        expand(rules.fig_accuracy.output, image=FIGURE_IMAGES),
        rules.fig_audit.output,
        rules.fig_audit_curve.output,
        rules.train_detector.output,
        expand(
            rules.fig_confusion.output,
            image=FIGURE_IMAGES,
            model=config["classify"]["models"],
        ),
        rules.anonymise.input,
