"""Forensic audit and fill-method comparison: every method of audit.methods on the same tiles and masks.

One job per tile runs all methods (classic fills take well under a second; ``dip`` reuses the main
inpainting output, ``dip+speckle`` its network output), so the demo stays fast.
"""

AUDIT_METHODS = list(dict.fromkeys(config["audit"]["methods"]))
FILLED = [m for m in AUDIT_METHODS if m != "dip"]
# The time-to-quality curve audits the DIP snapshots after at least one update.
CURVE_ITERATIONS = [it for it in SNAPSHOTS if it > 0]


rule audit_tile:
    input:
        original=tile_s1,
        result="results/dip/{tile}/inpainted.tif",
        raw="results/dip/{tile}/raw.tif",
        mask="results/dip/{tile}/mask.tif",
        detector=DETECTOR_MODEL,
        snapshots=expand(
            "results/dip/{{tile}}/snapshots/iter_{it:06d}.tif", it=CURVE_ITERATIONS
        ),
    output:
        audit="results/audit/tiles/{tile}.parquet",
        metrics="results/audit/metrics/{tile}.parquet",
        curve="results/audit/curve/{tile}.parquet",
        fills=expand("results/fill/{{tile}}/{method}.tif", method=FILLED),
    log:
        "logs/audit/{tile}.log",
    benchmark:
        "benchmarks/audit_tile/{tile}.tsv"
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        land_cover=tile_class,
        methods=AUDIT_METHODS,
        seed=config["inpaint"]["seed"],
        iterations=CURVE_ITERATIONS,
    message:
        "Audit of {wildcards.tile}: {params.methods}, DIP after {params.iterations} iterations"
    script:
        "../scripts/audit_tile.py"


rule audit_table:
    input:
        audits=per_kept_tile("results/audit/tiles/{tile}.parquet"),
        metrics=per_kept_tile("results/audit/metrics/{tile}.parquet"),
        curves=per_kept_tile("results/audit/curve/{tile}.parquet"),
    output:
        per_tile="results/audit/per_tile.parquet",
        metrics="results/audit/metrics_per_tile.parquet",
        verdicts=report(
            "results/audit/verdicts.tsv",
            caption="../workflow_report/audit_verdicts.rst",
            category="6. Credible anonymisation",
        ),
        comparison=report(
            "results/audit/comparison.tsv",
            caption="../workflow_report/audit_comparison.rst",
            category="6. Credible anonymisation",
        ),
        curve=report(
            "results/audit/curve.tsv",
            caption="../workflow_report/audit_curve_table.rst",
            category="6. Credible anonymisation",
        ),
    log:
        "logs/audit/audit_table.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    message:
        "Gathering the audit of every method and tile"
    script:
        "../scripts/audit_table.py"


rule fig_audit:
    input:
        comparison=rules.audit_table.output.comparison,
    output:
        figure=report(
            "results/figures/audit_methods.png",
            caption="../workflow_report/audit_methods.rst",
            category="6. Credible anonymisation",
        ),
    log:
        "logs/figures/fig_audit.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    message:
        "Audit figure: detectors, ENL, EPI and SSIM per method and class"
    script:
        "../scripts/fig_audit.py"


rule fig_audit_curve:
    input:
        curve=rules.audit_table.output.curve,
    output:
        figure=report(
            "results/figures/audit_curve.png",
            caption="../workflow_report/audit_curve.rst",
            category="6. Credible anonymisation",
        ),
    log:
        "logs/figures/fig_audit_curve.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    message:
        "Time-to-quality figure: audit of the DIP snapshots with and without speckle"
    script:
        "../scripts/fig_audit_curve.py"


rule train_detector:
    input:
        unpack(detector_tiles),
    output:
        model="results/audit/learned/model.pt",
        record="results/audit/learned/model.json",
        heldout=report(
            "results/audit/learned/heldout.tsv",
            caption="../workflow_report/learned_heldout.rst",
            category="6. Credible anonymisation",
        ),
    log:
        "logs/audit/train_detector.log",
    benchmark:
        "benchmarks/train_detector/train_detector.tsv"
    conda:
        "../envs/sardip.yaml"
    threads: config["inpaint"]["threads"]
    resources:
        gpu=1,
        mem_mb=4000,
    params:
        tiles=lambda wildcards: kept_tiles(),
        iterations=CURVE_ITERATIONS,
        learned=config["audit"]["learned"],
        seed=config["inpaint"]["seed"],
        device=config["inpaint"]["device"],
    message:
        "Training the learned detector on the audit's own fills ({params.learned[steps]} steps)"
    script:
        "../scripts/train_detector.py"
