"""Convergence filter: which inpainted tiles leave the dataset, and why."""


rule convergence_filter:
    input:
        selected=rules.select_tiles.output.selected,
        trajectories=per_tile("results/dip/{tile}/trajectory.tsv"),
        raw=per_tile("results/dip/{tile}/raw.tif"),
        masks=per_tile("results/dip/{tile}/mask.tif"),
    output:
        kept="results/filter/kept.tsv",
        dropped=report(
            "results/filter/dropped.tsv",
            caption="../workflow_report/dropped.rst",
            category="2. Convergence filter",
        ),
    log:
        "logs/filter/convergence_filter.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        criteria=config["convergence"],
    message:
        "Convergence filter over the inpainted tiles"
    script:
        "../scripts/convergence_filter.py"
