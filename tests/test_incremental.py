"""Incremental reruns: new scenes fit only the new tiles; settings rerun only the stages they shape; the
chunk packing (tiles_per_job) changes no result and refits nothing."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from pyproj import Transformer
from workflow_base import (
    ITERATIONS,
    NEW_SCENES,
    TARGET,
    base_run,
    copy_run,
    copy_scene,
    fitted,
    job_counts,
    pixels,
    planned,
    selected_paths,
    selected_tiles,
    snakemake,
    write_config,
)

from sardip.geotiff import read_grid

pytestmark = pytest.mark.workflow


def tile_files(workdir: Path) -> dict[str, tuple[int, str]]:
    """(mtime in ns, sha256) of every per-tile output: DIP results (per tile and per chunk) and metrics."""
    dip = [p for p in (workdir / "results/dip").rglob("*") if p.parent != workdir / "results/dip"]
    files = [*dip, *(workdir / "results/metrics/tiles").rglob("*")]
    return {
        str(p.relative_to(workdir)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in files
        if p.is_file()
    }


def test_new_scenes_run_only_their_own_jobs(tmp_path_factory, tmp_path):
    run = base_run(tmp_path_factory.getbasetemp())
    work = copy_run(run, tmp_path / "work")
    before_tiles = set(selected_tiles(work))
    before_files = tile_files(work)
    for season, scene in NEW_SCENES:
        copy_scene(run.source, work / "sen12ms", season, scene, keep_mtime=False)
    new_scenes = {f"{season}/s1_{scene}" for season, scene in NEW_SCENES}
    args = (TARGET, "--configfile", str(run.config), "--cores", "2")

    dry = snakemake(work, *args, "-n")
    jobs = planned(dry.stdout)
    assert jobs["scene_histogram"] == new_scenes
    # The selection is a checkpoint: until it has run again the DAG below it is the old one, in which
    # every tile is finished, so no per-tile job is planned for an old tile.
    assert not set(fitted(dry.stdout)) & before_tiles and not jobs["tile_metrics"] & before_tiles
    assert job_counts(dry.stdout).get("select_tiles") == 1

    result = snakemake(work, *args)
    output = result.stdout + result.stderr
    ran = planned(output)
    after_tiles = set(selected_tiles(work))
    added = after_tiles - before_tiles
    assert added, "the new grassland scene must add a selected tile"
    assert ran["scene_histogram"] == new_scenes
    # Every DIP fit of the run, counted: each new tile once, no finished tile again.
    assert sorted(fitted(output)) == sorted(added) and ran["tile_metrics"] <= added
    logged = [line for log in (work / "logs/dip/chunks").glob("*.log") for line in log.read_text().splitlines()]
    assert sum(int(n) for n in re.findall(r"fitting (\d+) tiles", "\n".join(logged))) == 3 * 2 + len(added)
    after_files = tile_files(work)
    assert {k: after_files[k] for k in before_files} == before_files, "a finished tile's files changed"
    displaced = before_tiles - after_tiles  # a forest newcomer with a smaller key takes an old tile's place
    for tile in displaced:
        assert (work / f"results/dip/{tile}/inpainted.tif").exists()  # kept on disk, just no longer asked for


def test_setting_outside_inpainting_plans_no_dip_job(tmp_path_factory, tmp_path):
    run = base_run(tmp_path_factory.getbasetemp())
    config = write_config(tmp_path / "c.yaml", convergence={"min_ssim_known": 0.5}, report={"progress_class": "Water"})
    dry = snakemake(run.workdir, TARGET, "-n", "--configfile", str(config))
    counts = job_counts(dry.stdout)
    assert counts.get("convergence_filter") == 1
    assert "inpaint_chunk" not in counts and "tile_metrics" not in counts


def test_adding_the_generated_image_metrics_refits_no_tile(tmp_path_factory, tmp_path):
    """A finished run whose tables lack the generated image's metrics (the layout before it was measured)
    gains them, and the tables made from them, without any DIP job."""
    run = base_run(tmp_path_factory.getbasetemp())
    work = copy_run(run, tmp_path / "work")
    kept = set(pd.read_csv(work / "results/filter/kept.tsv", sep="\t")["tile_id"])
    generated = sorted((work / "results/metrics/tiles").glob("*/generated.parquet"))
    assert {path.parent.name for path in generated} == kept
    for path in [*generated, work / "results/metrics/per_tile.parquet", work / TARGET]:
        path.unlink()  # the tables that gain the generated image are made again
    dip_before = {k: v for k, v in tile_files(work).items() if k.startswith("results/dip/")}
    result = snakemake(work, TARGET, "--configfile", str(run.config), "--cores", "2")
    output = result.stdout + result.stderr
    assert fitted(output) == [] and "inpaint_chunk" not in job_counts(output)
    assert planned(output)["tile_metrics"] == kept and job_counts(output)["tile_metrics"] == len(kept)
    assert "metrics_table" in job_counts(output)
    assert {k: v for k, v in tile_files(work).items() if k.startswith("results/dip/")} == dip_before
    per_tile = pd.read_parquet(work / "results/metrics/per_tile.parquet")
    nia = per_tile[(per_tile["metric"] == "ssim") & (per_tile["scenario"] == "NIA")].groupby("image")["value"]
    assert nia.max()["published"] == pytest.approx(1.0) and nia.max()["generated"] < 1


def test_inpainting_setting_plans_every_dip_job_again(tmp_path_factory, tmp_path):
    """A fit setting starts a new ledger generation: the plan is made again, then every tile is fitted."""
    run = base_run(tmp_path_factory.getbasetemp())
    work = copy_run(run, tmp_path / "work")
    config = write_config(tmp_path / "c.yaml", inpaint={"iterations": 50, "snapshots": [0, ITERATIONS]})
    dry = snakemake(work, TARGET, "-n", "--configfile", str(config))
    assert job_counts(dry.stdout).get("plan_chunks") == 1
    snakemake(work, "results/dip/plan.tsv", "--configfile", str(config), "--cores", "1")
    dry = snakemake(work, TARGET, "-n", "--configfile", str(config))
    assert sorted(fitted(dry.stdout)) == sorted(selected_tiles(work))


def test_changing_tiles_per_job_alone_refits_nothing(tmp_path_factory, tmp_path):
    run = base_run(tmp_path_factory.getbasetemp())
    work = copy_run(run, tmp_path / "work")
    before = tile_files(work)
    config = write_config(tmp_path / "c.yaml", inpaint={"tiles_per_job": 1})
    result = snakemake(work, TARGET, "--configfile", str(config), "--cores", "2")
    output = result.stdout + result.stderr
    assert fitted(output) == [] and "plan_chunks" in job_counts(output)
    assert {k: tile_files(work)[k] for k in before} == before
    plan = pd.read_csv(work / "results/dip/plan.tsv", sep="\t")
    assert plan.groupby("chunk").size().eq(2).all()  # the finished chunks of two tiles stay as they were


def test_a_tile_gives_the_same_pixels_alone_or_in_a_chunk(tmp_path_factory, tmp_path):
    """K = 1 (one job per tile) and K = 2 (the base run) give bit-identical results on the CPU."""
    run = base_run(tmp_path_factory.getbasetemp())
    work = copy_run(run, tmp_path / "work")
    for name in ("chunks", "state", "ledger.tsv", "plan.tsv", *selected_tiles(work)):
        target = work / "results/dip" / name
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    config = write_config(tmp_path / "c.yaml", inpaint={"tiles_per_job": 1})
    tiles = selected_tiles(work)
    result = snakemake(work, *[f"results/dip/{t}/inpainted.tif" for t in tiles], "--configfile", str(config),
                       "--cores", "2")  # fmt: skip
    assert len(planned(result.stdout + result.stderr)["inpaint_chunk"]) == len(tiles)
    for tile in tiles:
        folder = f"results/dip/{tile}"
        for name in ("inpainted.tif", "raw.tif", f"snapshots/iter_{ITERATIONS:06d}.tif"):
            assert pixels(work / folder / name).tobytes() == pixels(run.workdir / folder / name).tobytes(), name
        alone, together = (pd.read_csv(w / folder / "trajectory.tsv", sep="\t") for w in (work, run.workdir))
        pd.testing.assert_frame_equal(alone.drop(columns="seconds"), together.drop(columns="seconds"))


def _box_geojson(path: Path, workdir: Path, tiles: list[str], shift: int) -> None:
    """A GeoJSON (WGS84) with one 8 px box per tile, ``shift`` px from the tile's corner at (8, 8)."""
    features = []
    for tile in tiles:
        grid = read_grid(workdir / selected_paths(workdir)[tile])
        to_wgs84 = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
        corners = [grid.transform * (8 + shift + dx, 8 + dy) for dx, dy in ((0, 0), (8, 0), (8, 8), (0, 8))]
        ring = [list(to_wgs84.transform(x, y)) for x, y in corners]
        features.append(
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]}}
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


def test_editing_the_mask_file_reruns_the_tiles_that_use_it(tmp_path_factory, tmp_path):
    run = base_run(tmp_path_factory.getbasetemp())
    work = copy_run(run, tmp_path / "work")
    tiles = selected_tiles(work)
    mask = work / "targets.geojson"
    _box_geojson(mask, work, tiles, shift=0)
    config = write_config(tmp_path / "c.yaml", inpaint={"mask": "targets.geojson"})
    targets = [f"results/dip/{tile}/inpainted.tif" for tile in tiles]
    snakemake(work, *targets, "--configfile", str(config), "--cores", "2")
    assert fitted(snakemake(work, *targets, "--configfile", str(config), "-n").stdout) == []
    _box_geojson(mask, work, tiles, shift=4)
    dry = snakemake(work, *targets, "--configfile", str(config), "-n")
    assert sorted(fitted(dry.stdout)) == sorted(tiles)
