"""Convergence filter: which inpainted tiles leave the dataset, and why; the figures of the DIP results
(Fig. 4, the output along the iterations, and Figs. 12-13, one kept example per class).
"""


checkpoint convergence_filter:
    input:
        selected=rules.select_tiles.output.selected,
        plan=rules.plan_chunks.output.plan,
        chunks=chunk_dirs,
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


rule fig_examples:
    input:
        kept=rules.convergence_filter.output.kept,
        originals=lambda wildcards: [selected().loc[t, "s1_path"] for t in kept_tiles()],
        masks=per_kept_tile("results/dip/{tile}/mask.tif"),
        results=per_kept_tile("results/dip/{tile}/inpainted.tif"),
    output:
        figure=report(
            "results/figures/fig12_examples.png",
            caption="../workflow_report/fig12.rst",
            category="4. Examples",
        ),
    log:
        "logs/figures/fig_examples.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        tiles=lambda wildcards: kept_tiles(),
    message:
        "Figures 12-13 (one example per class)"
    script:
        "../scripts/fig_examples.py"
