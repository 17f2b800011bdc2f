"""Quality metrics per tile and image (SSIM, MS-SSIM, ENL, EPI in NIA, FI, OIA), their per-class
summary and its figures (Figs. 14, 15-17, 18). Both images of a tile are measured against the original
(sardip.tile_images): the DIP-generated tile, the paper's measure, and the published composite.
"""


wildcard_constraints:
    image="|".join(IMAGES),


rule tile_metrics:
    input:
        original=tile_s1,
        result=lambda wildcards: f"results/dip/{wildcards.tile}/{IMAGE_FILES[wildcards.image]}",
        mask="results/dip/{tile}/mask.tif",
    output:
        metrics="results/metrics/tiles/{tile}/{image}.parquet",
    log:
        "logs/metrics/tiles/{tile}/{image}.log",
    benchmark:
        "benchmarks/tile_metrics/{tile}/{image}.tsv"
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        land_cover=tile_class,
    message:
        "Metrics of {wildcards.tile}, {wildcards.image} image"
    script:
        "../scripts/tile_metrics.py"


rule metrics_table:
    input:
        kept=rules.convergence_filter.output.kept,
        tiles=per_kept_tile(
            "results/metrics/tiles/{tile}/{image}.parquet", image=IMAGES
        ),
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
            "results/figures/{image}/fig14_ssim.png",
            caption="../workflow_report/fig14.rst",
            category="3. Quality metrics",
            subcategory="{image} image",
        ),
        enl=report(
            "results/figures/{image}/fig15_enl.png",
            caption="../workflow_report/fig15.rst",
            category="3. Quality metrics",
            subcategory="{image} image",
        ),
        epi=report(
            "results/figures/{image}/fig18_epi.png",
            caption="../workflow_report/fig18.rst",
            category="3. Quality metrics",
            subcategory="{image} image",
        ),
    log:
        "logs/figures/{image}/fig_scores.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    message:
        "Figures 14, 15 and 18 (SSIM, ENL, EPI per class) of the {wildcards.image} image"
    script:
        "../scripts/fig_scores.py"
