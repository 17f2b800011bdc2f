"""Quality metrics per tile (SSIM, MS-SSIM, ENL, EPI in NIA, FI, OIA), their per-class summary and its
figures (Figs. 14, 15-17, 18)."""


rule tile_metrics:
    input:
        original=tile_s1,
        result="results/dip/{tile}/inpainted.tif",
        mask="results/dip/{tile}/mask.tif",
    output:
        metrics="results/metrics/tiles/{tile}.parquet",
    log:
        "logs/metrics/tiles/{tile}.log",
    benchmark:
        "benchmarks/tile_metrics/{tile}.tsv"
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        land_cover=tile_class,
    message:
        "Metrics of {wildcards.tile}"
    script:
        "../scripts/tile_metrics.py"


rule metrics_table:
    input:
        kept=rules.convergence_filter.output.kept,
        tiles=per_kept_tile("results/metrics/tiles/{tile}.parquet"),
    output:
        per_tile="results/metrics/per_tile.parquet",
        per_class=report(
            "results/metrics/per_class.tsv",
            caption="../workflow_report/per_class.rst",
            category="3. Quality metrics",
        ),
    log:
        "logs/metrics/metrics_table.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    message:
        "Gathering the metrics of the tiles that passed the convergence filter"
    script:
        "../scripts/metrics_table.py"


rule fig_scores:
    input:
        per_tile=rules.metrics_table.output.per_tile,
    output:
        ssim=report(
            "results/figures/fig14_ssim.png",
            caption="../workflow_report/fig14.rst",
            category="3. Quality metrics",
        ),
        enl=report(
            "results/figures/fig15_enl.png",
            caption="../workflow_report/fig15.rst",
            category="3. Quality metrics",
        ),
        epi=report(
            "results/figures/fig18_epi.png",
            caption="../workflow_report/fig18.rst",
            category="3. Quality metrics",
        ),
    log:
        "logs/figures/fig_scores.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    message:
        "Figures 14, 15 and 18 (SSIM, ENL, EPI per class)"
    script:
        "../scripts/fig_scores.py"
