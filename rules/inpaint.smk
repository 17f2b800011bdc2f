"""DIP inpainting: one job per selected tile, each claiming a GPU slot (or running on the CPU), and the
DIP output of one tile along the iterations (Fig. 4).

Per-tile params only (the tile's class, never the tile list), so adding tiles never reruns finished ones.
"""

# Settings that change a result: params, so a change reruns the tiles. Operational settings
# (device, threads, report and checkpoint intervals) reach the script through the config instead,
# so changing them never reruns finished tiles.
FIT_KEYS = ("preset", "iterations", "seed", "mask", "grow", "snapshots")


rule inpaint_tile:
    input:
        s1=tile_s1,
        mask_files=mask_inputs(config["inpaint"]["mask"]),
    output:
        inpainted="results/dip/{tile}/inpainted.tif",
        raw="results/dip/{tile}/raw.tif",
        mask="results/dip/{tile}/mask.tif",
        trajectory="results/dip/{tile}/trajectory.tsv",
        snapshots=expand(
            "results/dip/{{tile}}/snapshots/iter_{it:06d}.tif", it=SNAPSHOTS
        ),
    log:
        "logs/dip/{tile}.log",
    benchmark:
        "benchmarks/dip/{tile}.tsv"
    conda:
        "../envs/sardip.yaml"
    threads: config["inpaint"]["threads"]
    resources:
        gpu=1,
        mem_mb=config["inpaint"]["mem_mb"],
        runtime=config["inpaint"]["runtime"],
    params:
        land_cover=tile_class,
        fit={k: config["inpaint"][k] for k in FIT_KEYS},
    message:
        "DIP inpainting of {wildcards.tile} ({params.land_cover}), {params.fit[iterations]} iterations"
    script:
        "../scripts/inpaint_tile.py"


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
