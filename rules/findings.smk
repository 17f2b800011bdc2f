"""The paper's findings (Figs. 14-23) checked on this run's tables, for the generated and the published
image (sardip.paper): which hold, which do not, and what was measured."""


rule paper_findings:
    input:
        per_class=rules.metrics_table.output.per_class,
        accuracy=expand(
            rules.evaluate_classifier.output.accuracy,
            model=config["classify"]["models"],
        ),
    output:
        findings=report(
            "results/paper/findings.tsv",
            caption="../workflow_report/findings.rst",
            category="0. The paper's findings",
        ),
    log:
        "logs/paper/findings.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        models=config["classify"]["models"],
    message:
        "Checking the paper's findings on this run's metrics and classifier tables"
    script:
        "../scripts/paper_findings.py"
