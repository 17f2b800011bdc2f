"""Time `snakemake -n` over the paper-scale DAG (2800 selected tiles) without any real raster.

Why: planning runs every input function once per job; at paper scale (180,662 inventoried tiles in
~250 scenes, 400 tiles for each of 7 classes) a slow one makes every `snakemake` call slow. The
script writes, in a temporary working directory, a SEN12MS tree of *empty* .tif files (planning only
lists them), the per-scene histograms, inventory and selection with mtimes in dependency order, so
Snakemake treats selection as done and plans the DIP, metrics, filter, classifier and figure jobs.

    python bench/bench_plan.py [--tiles 180662] [--scenes 250]   # writes bench/results/plan.{json,md}
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

REPO = Path(__file__).resolve().parents[1]
CLASSES = ["Barren", "Croplands", "Forest", "Grassland", "Shrubland", "Urban", "Water"]
SEASONS = ["ROIs1158_spring", "ROIs1868_summer", "ROIs1970_fall", "ROIs2017_winter"]


def build_tree(work: Path, n_tiles: int, n_scenes: int, per_class: int) -> pd.DataFrame:
    """Empty SEN12MS files, histograms, inventory and selection; returns the selection table."""
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
    return selected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=180_662)
    parser.add_argument("--scenes", type=int, default=250)
    parser.add_argument("--per-class", type=int, default=400)
    parser.add_argument("--out", type=Path, default=REPO / "bench/results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        selected = build_tree(work, args.tiles, args.scenes, args.per_class)
        build_s = time.perf_counter() - start
        config = work / "bench.yaml"
        config.write_text(yaml.safe_dump({"data": {"root": "sen12ms", "demo": False, "tile_size": 256},
                                          "selection": {"max_per_class": args.per_class}}))  # fmt: skip
        cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(work), "-n", "--quiet",
               "rules", "--configfile", str(config)]  # fmt: skip
        start = time.perf_counter()
        result = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        plan_s = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"snakemake -n failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    figures = {"inventoried_tiles": args.tiles, "scenes": args.scenes, "selected_tiles": len(selected),
               "tree_build_s": round(build_s, 1), "dry_run_s": round(plan_s, 1), "cpus": os.cpu_count(),
               "target_s": 60}  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "plan.json").write_text(json.dumps(figures, indent=2) + "\n")
    (args.out / "plan.md").write_text(
        "# Planning the paper-scale DAG (`snakemake -n`)\n\n| what | value |\n|---|---|\n"
        + "".join(f"| {k} | {v} |\n" for k, v in figures.items())
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
