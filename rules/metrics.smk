"""Quality metrics per tile (SSIM, MS-SSIM, ENL, EPI in NIA, FI, OIA) and their per-class summary."""


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
        "benchmarks/metrics/tiles/{tile}.tsv"
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
        tiles=per_tile("results/metrics/tiles/{tile}.parquet"),
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
