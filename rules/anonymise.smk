"""Scene anonymisation for data providers (target ``anonymise``): every row of the scene sheet
(anonymise.sheet) gets its published copy, its private provenance sidecar, a per-window audit table
and a before/after figure.

A scene's windows are planned once (checkpoint plan_scene), fitted in parts of up to
anonymise.windows_per_job windows, each part a GPU job like a chunk of tiles, and written into the
published copy by one job (sardip.scene.jobs). The demo scene comes from rule demo_scene.
"""


wildcard_constraints:
    name=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    part=r"p\d{4}",


rule demo_scene:
    output:
        scene="results/demo/scene/scene.tif",
        targets="results/demo/scene/targets.gpkg",
    log:
        "logs/demo/demo_scene.log",
    benchmark:
        "benchmarks/demo_scene/demo_scene.tsv"
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        size=config["demo"]["scene_size"],
        seed=config["demo"]["seed"],
    message:
        "Writing the {params.size} px demo scene and its target polygons"
    script:
        "../scripts/demo_scene.py"


checkpoint plan_scene:
    input:
        scene=sheet_scene,
        mask_files=sheet_mask_files,
    output:
        plan="results/anonymise/{name}/plan.tsv",
    log:
        "logs/anonymise/{name}/plan.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        row=sheet_fit_row,
        options=FIT_OPTIONS,
    message:
        "Planning the windows of scene {wildcards.name}"
    script:
        "../scripts/plan_scene.py"


rule fill_scene_part:
    input:
        scene=sheet_scene,
        mask_files=sheet_mask_files,
        plan="results/anonymise/{name}/plan.tsv",
        detector=DETECTOR_MODEL,
    output:
        part="results/anonymise/{name}/parts/{part}.npz",
    log:
        "logs/anonymise/{name}/{part}.log",
    benchmark:
        "benchmarks/fill_scene_part/{name}/{part}.tsv"
    conda:
        "../envs/sardip.yaml"
    threads: config["anonymise"]["threads"]
    resources:
        gpu=1,
        mem_mb=config["anonymise"]["mem_mb"],
        runtime=config["anonymise"]["runtime"],
    params:
        row=sheet_fit_row,
        options=FIT_OPTIONS,
        windows=part_windows,
    message:
        "Fitting part {wildcards.part} of scene {wildcards.name}: windows {params.windows}"
    script:
        "../scripts/fill_scene_part.py"


rule anonymise_scene:
    input:
        scene=sheet_scene,
        mask_files=sheet_mask_files,
        parts=scene_parts,
        detector=DETECTOR_MODEL,
    output:
        scene="results/anonymise/{name}/anonymised.tif",
        provenance="results/anonymise/{name}/anonymised.provenance.json",
        windows="results/anonymise/{name}/windows.tsv",
    log:
        "logs/anonymise/{name}/anonymise.log",
    benchmark:
        "benchmarks/anonymise_scene/{name}.tsv"
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        row=sheet_row,
        options=config["anonymise"],
    message:
        "Writing the anonymised copy of scene {wildcards.name}"
    script:
        "../scripts/anonymise_scene.py"


rule fig_anonymise:
    input:
        original=sheet_scene,
        anonymised=rules.anonymise_scene.output.scene,
        provenance=rules.anonymise_scene.output.provenance,
    output:
        figure=report(
            "results/figures/anonymise/{name}.png",
            caption="../workflow_report/anonymise_figure.rst",
            category="8. Scene anonymisation",
            labels={"scene": "{name}"},
        ),
    log:
        "logs/figures/anonymise/{name}.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        row=sheet_row,
    message:
        "Before/after figure of scene {wildcards.name}"
    script:
        "../scripts/fig_anonymise.py"


rule anonymise_table:
    input:
        windows=expand(rules.anonymise_scene.output.windows, name=SHEET.index),
    output:
        table=report(
            "results/anonymise/windows.tsv",
            caption="../workflow_report/anonymise_windows.rst",
            category="8. Scene anonymisation",
        ),
    log:
        "logs/anonymise/anonymise_table.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    message:
        "Gathering the per-window audit of every scene"
    script:
        "../scripts/anonymise_table.py"


rule anonymise:
    input:
        rules.anonymise_table.output.table,
        expand(rules.fig_anonymise.output.figure, name=SHEET.index),
