"""DIP inpainting: the selected tiles of a class in chunks of up to inpaint.tiles_per_job, one batched
fit per chunk on one claimed GPU slot (or the CPU), each tile's results linked to results/dip/<tile>/,
and the DIP output of one tile along the iterations (Fig. 4).

Chunk membership is stable (sardip.chunks: the ledger): adding tiles adds chunks of new tiles only, and
changing tiles_per_job alone changes no existing chunk, so neither refits a finished tile.
"""

# Settings that change a result: their hash names the ledger generation, and they are params of the
# chunk jobs, so a change refits every tile. Operational settings (device, threads, report and
# checkpoint intervals, tiles_per_job) reach the scripts through the config or the plan instead.
FIT_KEYS = ("preset", "iterations", "seed", "mask", "grow", "snapshots")
FIT = {k: config["inpaint"][k] for k in FIT_KEYS}
TILE_FILES = ["inpainted.tif", "raw.tif", "mask.tif", "trajectory.tsv"]


checkpoint plan_chunks:
    input:
        selected=rules.select_tiles.output.selected,
    output:
        plan="results/dip/plan.tsv",
    log:
        "logs/dip/plan_chunks.log",
    conda:
        "../envs/sardip.yaml"
    threads: 1
    resources:
        mem_mb=1000,
    params:
        ledger="results/dip/ledger.tsv",
        chunks_dir="results/dip/chunks",
        state_dir="results/dip/state",
        tiles_per_job=config["inpaint"]["tiles_per_job"],
        fit=FIT,
    message:
        "Planning the DIP chunks ({params.tiles_per_job} tiles per job at most)"
    script:
        "../scripts/plan_chunks.py"


rule inpaint_chunk:
    input:
        s1=chunk_s1,
        mask_files=mask_inputs(config["inpaint"]["mask"]),
    output:
        chunk=directory("results/dip/chunks/{chunk}"),
    log:
        "logs/dip/chunks/{chunk}.log",
    benchmark:
        "benchmarks/inpaint_chunk/{chunk}.tsv"
    conda:
        "../envs/sardip.yaml"
    threads: config["inpaint"]["threads"]
    resources:
        gpu=1,
        mem_mb=chunk_resource("mem_mb"),
        runtime=chunk_resource("runtime"),
    params:
        members=lambda wildcards: chunk_members(wildcards.chunk),
        land_cover=chunk_class,
        fit=FIT,
        state=lambda wildcards: f"results/dip/state/{wildcards.chunk}.pt",
    message:
        "DIP inpainting of chunk {wildcards.chunk} (tiles {params.members}), {params.fit[iterations]} iterations"
    script:
        "../scripts/inpaint_chunk.py"


rule dip_tile:
    input:
        chunk=lambda wildcards: f"results/dip/chunks/{chunk_of(wildcards.tile)}",
    output:
        files=expand("results/dip/{{tile}}/{name}", name=TILE_FILES),
        snapshots=expand(
            "results/dip/{{tile}}/snapshots/iter_{it:06d}.tif", it=SNAPSHOTS
        ),
    log:
        "logs/dip/tiles/{tile}.log",
    threads: 1
    resources:
        mem_mb=200,
    params:
        chunk=lambda wildcards: chunk_of(wildcards.tile),
    message:
        "Results of {wildcards.tile} from chunk {params.chunk}"
    run:
        chunks.link_tile(
            input.chunk, wildcards.tile, [*output.files, *output.snapshots]
        )


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
