"""Config validation, data discovery and the input functions shared by the rule files."""

import os
from functools import lru_cache
from pathlib import Path

from snakemake.utils import validate

from sardip import config as sardip_config
from sardip import chunks, demo, masks, sen12ms
from sardip.tile_images import IMAGES, TILE_FILES as IMAGE_FILES
from sardip.scene import sheet
from sardip.io import read_table

sardip_config.validate_config(config, workflow.basedir, validate)

DATA_ROOT = Path(config["data"]["root"])
HOLDOUT_FILE = sardip_config.resolve_resource(
    config["data"]["holdout_file"], workflow.basedir
)
HOLDOUT = sen12ms.read_holdout(HOLDOUT_FILE)
# The learned detector's weights: an input of every job that audits.
DETECTOR_MODEL = str(
    sardip_config.resolve_resource(config["audit"]["detector_model"], workflow.basedir)
)
# The images of a DIP tile that metrics and classifiers measure, and those the report draws figures of.
FIGURE_IMAGES = config["report"]["images"]
# Iterations at which each DIP job saves the network output (inpainting, audit curve, Fig. 4).
SNAPSHOTS = sorted(set(config["inpaint"]["snapshots"]))


def demo_tiles():
    return demo.demo_tiles(config["demo"]["patches_per_side"])


def mask_inputs(spec):
    """The files a mask spec reads (a raster or vector mask): inputs of the jobs that use it, so that
    editing the mask file reruns them."""
    return [str(p) for p in masks.mask_sources(spec)]


def scenes():
    """(season, scene) of every scene: the demo's, or those found under data.root."""
    if config["data"]["demo"]:
        return sorted({(t.season, t.scene) for t in demo_tiles()})
    found = sen12ms.list_scenes(DATA_ROOT)
    if not found:
        raise WorkflowError(
            f"data.root {DATA_ROOT} holds no SEN12MS scene folder (<season>/s1_<N>); "
            "point data.root at a SEN12MS copy or set data.demo: true"
        )
    return found


def scene_input_files(wildcards):
    """What one scene's histogram job reads, so a new tile in a scene reruns that scene only.

    Demo: the scene's tile files, which the demo generator writes. Real data: the scene's s1 and lc
    folders, whose mtimes change when a tile is added or removed; naming every file instead
    (361,324 at SEN12MS scale) made planning take minutes.
    """
    scene = int(wildcards.scene)
    if config["data"]["demo"]:
        refs = [
            t for t in demo_tiles() if (t.season, t.scene) == (wildcards.season, scene)
        ]
        return [str(DATA_ROOT / t.relpath(s)) for t in refs for s in ("s1", "lc")]
    folders = [DATA_ROOT / wildcards.season / f"{s}_{scene}" for s in ("s1", "lc")]
    return [str(f) for f in folders if f.is_dir()]


def scene_split(wildcards):
    return (
        "holdout" if f"{wildcards.season}/s1_{wildcards.scene}" in HOLDOUT else "train"
    )


def scene_histograms():
    return [
        f"results/selection/scenes/{season}/s1_{scene}.parquet"
        for season, scene in scenes()
    ]


@lru_cache(maxsize=4)
def _selection_table(path, mtime):
    return read_table(path).set_index("tile_id")


def selected():
    """The selection table (once the select_tiles checkpoint has run), indexed by tile id.

    Cached on the file's mtime: input functions call this once per job, thousands of times at paper scale.
    """
    path = checkpoints.select_tiles.get().output.selected
    return _selection_table(path, os.path.getmtime(path))


def selected_tiles():
    return selected().index.tolist()


def tile_s1(wildcards):
    return selected().loc[wildcards.tile, "s1_path"]


def tile_class(wildcards):
    return selected().loc[wildcards.tile, "class"]


@lru_cache(maxsize=4)
def _plan_table(path, mtime):
    return read_table(path)


def chunk_plan():
    """The DIP chunks of the selected tiles (once the plan_chunks checkpoint has run): chunk, tile_id,
    land_cover, settings, selected."""
    path = checkpoints.plan_chunks.get().output.plan
    return _plan_table(path, os.path.getmtime(path))


def chunk_ids():
    return sorted(set(chunk_plan()["chunk"]))


def chunk_members(chunk):
    """Tile ids of one chunk, in the plan's order (the batch order)."""
    plan = chunk_plan()
    return plan.loc[plan["chunk"] == chunk, "tile_id"].tolist()


def chunk_of(tile):
    plan = chunk_plan()
    return plan.loc[plan["tile_id"] == tile, "chunk"].iloc[0]


def chunk_s1(wildcards):
    """The S1 files of a chunk's members, as the ledger recorded them (its inputs)."""
    plan = chunk_plan()
    return plan.loc[plan["chunk"] == wildcards.chunk, "s1_path"].tolist()


def chunk_class(wildcards):
    plan = chunk_plan()
    return plan.loc[plan["chunk"] == wildcards.chunk, "land_cover"].iloc[0]


def chunk_resource(key):
    """A chunk job's runtime (min) or memory (MB): the base plus a share per member."""
    base, per_tile = config["inpaint"][key], config["inpaint"][f"{key}_per_tile"]
    return lambda wildcards: base + per_tile * len(chunk_members(wildcards.chunk))


def chunk_dirs(wildcards):
    return [f"results/dip/chunks/{c}" for c in chunk_ids()]


@lru_cache(maxsize=4)
def _kept_table(path, mtime):
    return read_table(path).set_index("tile_id")


def kept():
    """The tiles the convergence filter kept (once that checkpoint has run), indexed by tile id."""
    path = checkpoints.convergence_filter.get().output.kept
    return _kept_table(path, os.path.getmtime(path))


def kept_tiles():
    return kept().index.tolist()


def per_kept_tile(pattern, **values):
    """Input function expanding ``pattern`` over the kept tiles (every stage after the filter), and
    over ``values`` of its other placeholders."""
    return lambda wildcards: expand(pattern, tile=kept_tiles(), **values)


def progress_tile():
    """First kept tile of report.progress_class (or of any class when that one has none), for Fig. 4."""
    table = kept()
    chosen = table[table["land_cover"] == config["report"]["progress_class"]]
    return (chosen if len(chosen) else table).index[0]


# The scene sheet of the anonymise target, checked against its schema before any job.
SHEET = sheet.read_sheet(
    sardip_config.resolve_resource(config["anonymise"]["sheet"], workflow.basedir),
    Path(workflow.basedir) / "config" / "scenes.schema.yaml",
)


def sheet_row(wildcards):
    return SHEET.loc[wildcards.name].to_dict()


# The anonymise options the plan and the fits take: where the sheet lives says nothing of them.
FIT_OPTIONS = {k: v for k, v in config["anonymise"].items() if k != "sheet"}


def sheet_fit_row(wildcards):
    """A sheet row without the columns that only decide whether the finished scene is published: the
    planning and fitting jobs take this, so accepting a detectable edit refits nothing.
    """
    return {
        k: v for k, v in sheet_row(wildcards).items() if k not in sheet.PUBLISH_COLUMNS
    }


def sheet_scene(wildcards):
    return sheet.scene_files(SHEET.loc[wildcards.name])


def sheet_mask_files(wildcards):
    return mask_inputs(SHEET.loc[wildcards.name, "mask"])


def scene_plan(name):
    """A scene's windows and their parts (once its plan_scene checkpoint has run)."""
    path = checkpoints.plan_scene.get(name=name).output.plan
    return _plan_table(path, os.path.getmtime(path))


def scene_parts(wildcards):
    parts = sorted(set(scene_plan(wildcards.name)["part"]))
    return expand(
        "results/anonymise/{name}/parts/{part}.npz", name=wildcards.name, part=parts
    )


def part_windows(wildcards):
    plan = scene_plan(wildcards.name)
    return plan.loc[plan["part"] == wildcards.part, "window"].tolist()


def detector_tiles(wildcards):
    """S1 tile, mask and DIP snapshots of every kept tile: what the learned detector trains on."""
    tiles = kept_tiles()
    return {
        "s1": [selected().loc[t, "s1_path"] for t in tiles],
        "masks": expand("results/dip/{tile}/mask.tif", tile=tiles),
        "snapshots": expand(
            "results/dip/{tile}/snapshots/iter_{it:06d}.tif",
            tile=tiles,
            it=CURVE_ITERATIONS,
        ),
    }
