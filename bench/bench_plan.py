"""Time `snakemake -n` over the paper-scale DAG (2800 selected tiles, K tiles per DIP job) without any
real raster.

Why: planning runs every input function once per job; at paper scale (180,662 inventoried tiles in
~250 scenes, 400 tiles for each of 7 classes) a slow one makes every `snakemake` call slow. The
script writes, in a temporary working directory, a SEN12MS tree of *empty* .tif files (planning only
lists them), the per-scene histograms, inventory and selection, the chunk plan of ``--tiles-per-job``
(the workflow's own planner) and the finished chunks' status tables and filter, all with mtimes in
dependency order, so Snakemake treats the selection, the DIP chunks and the convergence filter as done
and plans every later job: the per-tile links, metrics and audit, the classifiers and the figures.

    python bench/bench_plan.py [--tiles 180662] [--scenes 250] [--tiles-per-job 32]   # bench/results/plan.{json,md}
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml
from common import RESULTS, ROOT, write_results

from sardip.chunks import plan_chunks, settings_hash

CLASSES = ["Barren", "Croplands", "Forest", "Grassland", "Shrubland", "Urban", "Water"]
SEASONS = ["ROIs1158_spring", "ROIs1868_summer", "ROIs1970_fall", "ROIs2017_winter"]


def build_tree(work: Path, n_tiles: int, n_scenes: int, per_class: int, tiles_per_job: int) -> pd.DataFrame:
    """Empty SEN12MS files, histograms, inventory, selection, chunk plan, finished chunks and filter;
    returns the selection table."""
    root = work / "sen12ms"
    per_scene = -(-n_tiles // n_scenes)
    rows = []
    for s in range(n_scenes):
        season, scene = SEASONS[s % 4], 1000 + s
        for sensor in ("s1", "lc"):
            (root / season / f"{sensor}_{scene}").mkdir(parents=True)
        for p in range(1, per_scene + 1):
            if len(rows) == n_tiles:
                break
            paths = {}
            for sensor in ("s1", "lc"):
                path = root / season / f"{sensor}_{scene}" / f"{season}_{sensor}_{scene}_p{p}.tif"
                path.touch()
                paths[sensor] = f"sen12ms/{path.relative_to(root)}"
            tile = f"{season}_{scene}_p{p}"
            rows.append(
                {"tile_id": tile, "scene_id": f"{season}/s1_{scene}", "s1_path": paths["s1"], "lc_path": paths["lc"]}
            )
        hist = work / f"results/selection/scenes/{season}/s1_{scene}.parquet"
        hist.parent.mkdir(parents=True, exist_ok=True)
        hist.touch()
    inventory = pd.DataFrame(rows)
    inventory["class"] = [CLASSES[i % len(CLASSES)] for i in range(len(inventory))]
    selected = inventory.groupby("class").head(per_class).assign(purity=1.0, split="train", n_nan=0, key=0.5)
    now = time.time()
    for offset, name in ((1, "inventory.parquet"), (1, "rejected.tsv"), (2, "selected.tsv"), (2, "class_summary.tsv")):
        path = work / "results/selection" / name
        if name == "inventory.parquet":
            inventory.to_parquet(path)
        elif name == "selected.tsv":
            selected.to_csv(path, sep="\t", index=False)
        else:
            path.touch()
        os.utime(path, (now + offset, now + offset))
    fit = {k: v for k, v in yaml.safe_load((ROOT / "config/config.yaml").read_text())["inpaint"].items()
           if k in ("preset", "iterations", "seed", "mask", "grow", "snapshots")}  # fmt: skip
    plan, ledger = plan_chunks(selected, None, settings_hash(fit), tiles_per_job, lambda chunk: True)
    dip = work / "results/dip"
    dip.mkdir(parents=True)
    plan.to_csv(dip / "plan.tsv", sep="\t", index=False)
    ledger.to_csv(dip / "ledger.tsv", sep="\t", index=False)
    for chunk, members in plan.groupby("chunk")["tile_id"]:
        folder = dip / "chunks" / chunk
        folder.mkdir(parents=True)
        pd.DataFrame({"tile_id": members, "status": "ok", "reason": ""}).to_csv(folder / "status.tsv", sep="\t")
        (folder / ".snakemake_timestamp").touch()
        os.utime(folder / ".snakemake_timestamp", (now + 4, now + 4))
    kept = selected.rename(columns={"class": "land_cover"})[["tile_id", "land_cover"]]
    for offset, path in (
        (3, dip / "plan.tsv"),
        (5, work / "results/filter/kept.tsv"),
        (5, work / "results/filter/dropped.tsv"),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            (kept if path.name == "kept.tsv" else kept.iloc[:0]).to_csv(path, sep="\t", index=False)
        os.utime(path, (now + offset, now + offset))
    return selected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=180_662)
    parser.add_argument("--scenes", type=int, default=250)
    parser.add_argument("--per-class", type=int, default=400)
    parser.add_argument("--tiles-per-job", type=int, default=32)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        selected = build_tree(work, args.tiles, args.scenes, args.per_class, args.tiles_per_job)
        build_s = time.perf_counter() - start
        config = work / "bench.yaml"
        config.write_text(yaml.safe_dump({"data": {"root": "sen12ms", "demo": False, "tile_size": 256},
                                          "selection": {"max_per_class": args.per_class},
                                          "inpaint": {"tiles_per_job": args.tiles_per_job}}))  # fmt: skip
        cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(work), "-n", "--quiet",
               "rules", "--configfile", str(config)]  # fmt: skip
        start = time.perf_counter()
        result = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        plan_s = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"snakemake -n failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    jobs = {}
    for line in result.stdout.split("Job stats:")[-1].splitlines()[3:]:
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            jobs[parts[0]] = int(parts[1])
    figures = {"inventoried_tiles": args.tiles, "scenes": args.scenes, "selected_tiles": len(selected),
               "tiles_per_job": args.tiles_per_job, "planned_jobs": jobs.get("total", 0),
               "planned_dip_links": jobs.get("dip_tile", 0), "tree_build_s": round(build_s, 1),
               "dry_run_s": round(plan_s, 1), "cpus": os.cpu_count(), "target_s": 60}  # fmt: skip
    text = "# Planning the paper-scale DAG (`snakemake -n`)\n\n| what | value |\n|---|---|\n"
    write_results("plan", text + "".join(f"| {k} | {v} |\n" for k, v in figures.items()), figures, folder=args.out)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
