"""The paper's experiments (Sections 4.1-4.3): Table 1 search (Fig. 9), loss (Fig. 10), hole size
(Fig. 11), EPI along the iterations (Fig. 19) and why SSIM (Fig. 7). Not part of `all`: run the targets
hpsearch, loss_comparison, hole_size_sweep, epi_vs_iterations, or experiments for all of them.

Every fitting job asks for one GPU slot; the search's workers of one class share its Optuna study.
"""


include: "experiments_common.smk"


rule hpsearch_worker:
    input:
        s1=sample_s1("search"),
        mask_files=mask_inputs(EXP["mask"]),
    output:
        trials="results/experiments/hpsearch/{cls}/worker_{worker}.tsv",
    log:
        "logs/experiments/hpsearch/{cls}/worker_{worker}.log",
    benchmark:
        "benchmarks/hpsearch_worker/{cls}/worker_{worker}.tsv"
    wildcard_constraints:
        cls="[A-Za-z]+",
        worker=r"\d+",
    conda:
        "../envs/sardip.yaml"
    threads: EXP["threads"]
    resources:
        gpu=1,
        mem_mb=EXP["mem_mb"],
        runtime=EXP["runtime"],
    params:
        land_cover="{cls}",
        tiles=sample_tiles("search"),
        settings=SEARCH_SETTINGS,
        preset=EXP["preset"],
        mask=EXP["mask"],
        storage=SEARCH["storage"],
        study_prefix=SEARCH["study_prefix"],
        workers=SEARCH["workers"],
        seed=EXP["seed"],
        device=EXP["device"],
    message:
        "Table 1 search of {wildcards.cls}, worker {wildcards.worker}"
    script:
        "../scripts/exp_hpsearch_worker.py"


rule hpsearch_study:
    input:
        workers=expand(
            "results/experiments/hpsearch/{{cls}}/worker_{worker}.tsv",
            worker=range(SEARCH["workers"]),
        ),
    output:
        trials="results/experiments/hpsearch/{cls}/trials.tsv",
    log:
        "logs/experiments/hpsearch/{cls}/study.log",
    wildcard_constraints:
        cls="[A-Za-z]+",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        storage=SEARCH["storage"],
    message:
        "Gathering the study of {wildcards.cls}"
    script:
        "../scripts/exp_hpsearch_study.py"


rule hpsearch_table:
    input:
        trials=per_class("results/experiments/hpsearch/{cls}/trials.tsv"),
    output:
        trials=report(
            "results/experiments/hpsearch/trials.tsv",
            caption="../workflow_report/hpsearch_trials.rst",
            category="7. Experiments",
        ),
        best=report(
            "results/experiments/hpsearch/best.tsv",
            caption="../workflow_report/hpsearch_best.rst",
            category="7. Experiments",
        ),
        fig09=report(
            "results/figures/fig09_parallel.png",
            caption="../workflow_report/fig09.rst",
            category="7. Experiments",
        ),
    log:
        "logs/experiments/hpsearch/table.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    message:
        "Table 1 search: all trials, best configuration per class, Figure 9"
    script:
        "../scripts/exp_hpsearch_table.py"


rule loss_fit:
    input:
        s1=sample_s1("loss"),
        mask_files=mask_inputs(EXP["mask"]),
    output:
        runs="results/experiments/loss/{cls}/runs.tsv",
        arrays="results/experiments/loss/{cls}/outputs.npz",
    log:
        "logs/experiments/loss/{cls}.log",
    benchmark:
        "benchmarks/loss_fit/{cls}.tsv"
    wildcard_constraints:
        cls="[A-Za-z]+",
    conda:
        "../envs/sardip.yaml"
    threads: EXP["threads"]
    resources:
        gpu=1,
        mem_mb=EXP["mem_mb"],
        runtime=EXP["runtime"],
    params:
        land_cover="{cls}",
        tiles=sample_tiles("loss"),
        iterations=EXP["loss"]["iterations"],
        mse_factor=EXP["loss"]["mse_factor"],
        preset=EXP["preset"],
        mask=EXP["mask"],
        seed=EXP["seed"],
        device=EXP["device"],
    message:
        "Loss comparison of {wildcards.cls}: SSIM loss against MSE loss"
    script:
        "../scripts/exp_loss_fit.py"


rule loss_table:
    input:
        runs=per_class("results/experiments/loss/{cls}/runs.tsv"),
    output:
        runs="results/experiments/loss/runs.tsv",
        fig10=report(
            "results/figures/fig10_loss.png",
            caption="../workflow_report/fig10.rst",
            category="7. Experiments",
        ),
    log:
        "logs/experiments/loss/table.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    message:
        "Loss comparison of all classes, Figure 10"
    script:
        "../scripts/exp_loss_table.py"


rule fig07:
    input:
        runs=per_class("results/experiments/loss/{cls}/runs.tsv"),
        arrays=per_class("results/experiments/loss/{cls}/outputs.npz"),
    output:
        pair="results/experiments/loss/fig07_pair.tsv",
        fig07=report(
            "results/figures/fig07_mse_vs_ssim.png",
            caption="../workflow_report/fig07.rst",
            category="7. Experiments",
        ),
    log:
        "logs/experiments/loss/fig07.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        max_mse_ratio=EXP["fig07"]["max_mse_ratio"],
    message:
        "Figure 7: similar MSE, different SSIM"
    script:
        "../scripts/exp_fig07.py"


rule hole_fit:
    input:
        s1=sample_s1("holes"),
    output:
        runs="results/experiments/holes/{cls}/hole_{hole}.tsv",
    log:
        "logs/experiments/holes/{cls}/hole_{hole}.log",
    benchmark:
        "benchmarks/hole_fit/{cls}/hole_{hole}.tsv"
    wildcard_constraints:
        cls="[A-Za-z]+",
        hole=r"\d+",
    conda:
        "../envs/sardip.yaml"
    threads: EXP["threads"]
    resources:
        gpu=1,
        mem_mb=EXP["mem_mb"],
        runtime=EXP["runtime"],
    params:
        land_cover="{cls}",
        tiles=sample_tiles("holes"),
        iterations=EXP["holes"]["iterations"],
        preset=EXP["preset"],
        seed=EXP["seed"],
        device=EXP["device"],
    message:
        "Hole-size sweep of {wildcards.cls}: {wildcards.hole} px, SSIM and MSE loss"
    script:
        "../scripts/exp_hole_fit.py"


rule hole_table:
    input:
        runs=per_class(
            "results/experiments/holes/{cls}/hole_{hole}.tsv",
            hole=EXP["holes"]["sizes"],
        ),
    output:
        runs="results/experiments/holes/runs.tsv",
        fig11=report(
            "results/figures/fig11_hole_size.png",
            caption="../workflow_report/fig11.rst",
            category="7. Experiments",
        ),
    log:
        "logs/experiments/holes/table.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    message:
        "Hole-size sweep of all classes, Figure 11"
    script:
        "../scripts/exp_hole_table.py"


rule epi_fit:
    input:
        s1=lambda wildcards: selected().loc[epi_tile(wildcards), "s1_path"],
        mask_files=mask_inputs(EXP["mask"]),
    output:
        trajectory="results/experiments/epi/{cls}.tsv",
    log:
        "logs/experiments/epi/{cls}.log",
    benchmark:
        "benchmarks/epi_fit/{cls}.tsv"
    wildcard_constraints:
        cls="[A-Za-z]+",
    conda:
        "../envs/sardip.yaml"
    threads: EXP["threads"]
    resources:
        gpu=1,
        mem_mb=EXP["mem_mb"],
        runtime=EXP["runtime"],
    params:
        land_cover="{cls}",
        tiles=lambda wildcards: [epi_tile(wildcards)],
        iterations=EXP["epi"]["iterations"],
        every=EXP["epi"]["every"],
        preset=EXP["preset"],
        mask=EXP["mask"],
        seed=EXP["seed"],
        device=EXP["device"],
    message:
        "EPI of a {wildcards.cls} tile along {params.iterations} iterations"
    script:
        "../scripts/exp_epi_fit.py"


rule epi_table:
    input:
        trajectories=lambda wildcards: expand(
            "results/experiments/epi/{cls}.tsv",
            cls=[c for c in EXP["epi"]["classes"] if c in experiment_classes()],
        ),
    output:
        trajectory="results/experiments/epi/trajectory.tsv",
        fig19=report(
            "results/figures/fig19_epi_iterations.png",
            caption="../workflow_report/fig19.rst",
            category="7. Experiments",
        ),
    log:
        "logs/experiments/epi/table.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    message:
        "EPI against the iterations, Figure 19"
    script:
        "../scripts/exp_epi_table.py"


rule hpsearch:
    input:
        rules.hpsearch_table.output,


rule loss_comparison:
    input:
        rules.loss_table.output,
        rules.fig07.output,


rule hole_size_sweep:
    input:
        rules.hole_table.output,


rule epi_vs_iterations:
    input:
        rules.epi_table.output,


rule experiments:
    input:
        rules.hpsearch.input,
        rules.loss_comparison.input,
        rules.hole_size_sweep.input,
        rules.epi_vs_iterations.input,
