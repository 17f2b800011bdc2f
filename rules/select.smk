"""Tile selection: demo data, per-scene class histograms, the inventory, and the per-class draw."""


rule demo_data:
    output:
        tiles=[
            str(DATA_ROOT / t.relpath(s)) for t in demo_tiles() for s in ("s1", "lc")
        ],
    log:
        "logs/demo_data.log",
    benchmark:
        "benchmarks/demo_data/demo_data.tsv"
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        tile_size=config["data"]["tile_size"],
        demo=config["demo"],
    message:
        "Writing the seeded demo SEN12MS tree"
    script:
        "../scripts/demo_data.py"


rule scene_histogram:
    input:
        tiles=scene_input_files,
    output:
        histogram="results/selection/scenes/{season}/s1_{scene}.parquet",
    log:
        "logs/selection/scenes/{season}/s1_{scene}.log",
    benchmark:
        "benchmarks/scene_histogram/{season}/s1_{scene}.tsv"
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        split=scene_split,
        tile_size=config["data"]["tile_size"],
    message:
        "Class histograms of scene {wildcards.season}/s1_{wildcards.scene}"
    script:
        "../scripts/scene_histogram.py"


rule inventory:
    input:
        histograms=scene_histograms(),
    output:
        inventory="results/selection/inventory.parquet",
        rejected=report(
            "results/selection/rejected.tsv",
            caption="../workflow_report/rejected.rst",
            category="1. Tile selection",
        ),
    log:
        "logs/selection/inventory.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    message:
        "Gathering the tile inventory"
    script:
        "../scripts/inventory.py"


checkpoint select_tiles:
    input:
        inventory=rules.inventory.output.inventory,
    output:
        selected="results/selection/selected.tsv",
        summary=report(
            "results/selection/class_summary.tsv",
            caption="../workflow_report/selection.rst",
            category="1. Tile selection",
        ),
    log:
        "logs/selection/select_tiles.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        selection=config["selection"],
    message:
        "Selecting pure tiles (purity >= {params.selection[purity]})"
    script:
        "../scripts/select_tiles.py"
