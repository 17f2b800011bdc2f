"""Incremental reruns: new scenes run only what they add; settings rerun only the stages they shape."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from pyproj import Transformer
from workflow_base import (
    ITERATIONS,
    NEW_SCENES,
    TARGET,
    base_run,
    copy_run,
    copy_scene,
    job_counts,
    planned,
    selected_paths,
    selected_tiles,
    snakemake,
    write_config,
)

from sardip.geotiff import read_grid

pytestmark = pytest.mark.workflow


def tile_files(workdir: Path) -> dict[str, tuple[int, str]]:
    """(mtime in ns, sha256) of every per-tile output: DIP results and per-tile metrics."""
    files = [*(workdir / "results/dip").rglob("*"), *(workdir / "results/metrics/tiles").glob("*")]
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
    assert not (jobs["inpaint_tile"] | jobs["tile_metrics"]) & before_tiles
    assert job_counts(dry.stdout).get("select_tiles") == 1

    result = snakemake(work, *args)
    ran = planned(result.stdout + result.stderr)
    after_tiles = set(selected_tiles(work))
    added = after_tiles - before_tiles
    assert added, "the new grassland scene must add a selected tile"
    assert ran["scene_histogram"] == new_scenes
    assert ran["inpaint_tile"] == added and ran["tile_metrics"] == added
    after_files = tile_files(work)
    assert {k: after_files[k] for k in before_files} == before_files, "a finished tile's files changed"


def test_setting_outside_inpainting_plans_no_dip_job(tmp_path_factory, tmp_path):
    run = base_run(tmp_path_factory.getbasetemp())
    config = write_config(tmp_path / "c.yaml", convergence={"min_ssim_known": 0.5}, report={"progress_class": "Water"})
    dry = snakemake(run.workdir, TARGET, "-n", "--configfile", str(config))
    counts = job_counts(dry.stdout)
    assert counts.get("convergence_filter") == 1
    assert "inpaint_tile" not in counts and "tile_metrics" not in counts


def test_inpainting_setting_plans_every_dip_job_again(tmp_path_factory, tmp_path):
    run = base_run(tmp_path_factory.getbasetemp())
    # Same snapshot names, so only the params trigger can plan the jobs (a new snapshot name is an output
    # without metadata, and Snakemake then skips the params check for that job: see the report).
    config = write_config(tmp_path / "c.yaml", inpaint={"iterations": 50, "snapshots": [0, ITERATIONS]})
    dry = snakemake(run.workdir, TARGET, "-n", "--configfile", str(config))
    assert planned(dry.stdout)["inpaint_tile"] == set(selected_tiles(run.workdir))


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
    assert planned(snakemake(work, *targets, "--configfile", str(config), "-n").stdout)["inpaint_tile"] == set()
    _box_geojson(mask, work, tiles, shift=4)
    dry = snakemake(work, *targets, "--configfile", str(config), "-n")
    assert planned(dry.stdout)["inpaint_tile"] == set(tiles)
