"""The paper's figures (Figs. 4, 12-13, 14, 15-17, 18), each wrapped in report() for `snakemake --report`."""


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


rule fig_examples:
    input:
        kept=rules.convergence_filter.output.kept,
        originals=lambda wildcards: [
            selected().loc[t, "s1_path"] for t in selected_tiles()
        ],
        masks=per_tile("results/dip/{tile}/mask.tif"),
        results=per_tile("results/dip/{tile}/inpainted.tif"),
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
    message:
        "Figures 12-13 (one example per class)"
    script:
        "../scripts/fig_examples.py"


rule fig_progress:
    input:
        original=lambda wildcards: selected().loc[progress_tile(), "s1_path"],
        mask=lambda wildcards: f"results/dip/{progress_tile()}/mask.tif",
        snapshots=lambda wildcards: expand(
            "results/dip/{tile}/snapshots/iter_{it:06d}.tif",
            tile=progress_tile(),
            it=SNAPSHOTS,
        ),
    output:
        figure=report(
            "results/figures/fig04_progress.png",
            caption="../workflow_report/fig04.rst",
            category="4. Examples",
        ),
    log:
        "logs/figures/fig_progress.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        iterations=SNAPSHOTS,
    message:
        "Figure 4 (DIP output along the iterations)"
    script:
        "../scripts/fig_progress.py"
