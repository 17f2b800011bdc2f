"""What the workflow pays per tile on the CPU: its DIP jobs with K = 1, 2, 4, 8 tiles per job.

One Snakemake working folder on the demo data at 256 px (``data.tile_size: 256``) selects ``--tiles``
tiles of one class. For each K (``inpaint.tiles_per_job``) the DIP results are removed, the chunk
plan is made (untimed), and then ``snakemake`` runs every DIP chunk job of the plan, one job at a time
(``--cores 1``, one torch thread): the wall time of that command holds everything a job costs, the
process start-up, imports, reading, the fit and writing, and Snakemake's own bookkeeping. K = 1 is the
one-tile job of the earlier workflow. ``--iterations`` (default 30) iterations per tile; each K is
measured ``--repeats`` times, and the spread is reported. The fit's own clock (the chunk jobs'
benchmark files) separates the start-up from the fitting. Writes ``bench/results/dip_jobs.json`` and
``dip_jobs.md``.

    python bench/bench_dip_jobs.py --tiles 8 --iterations 30 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from common import ROOT, SCRATCH, write_results

WORK = SCRATCH / "bench_dip_jobs"
#: The one class whose tiles the jobs fit (the workflow's default preset, ``paper``, of that class).
CLASS = "Forest"
ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def snakemake(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(WORK), *args]
    result = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **ENV})
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def config(path: Path, tiles: int, iterations: int, k: int) -> str:
    path.write_text(yaml.safe_dump({
        "data": {"tile_size": 256},
        "selection": {"classes": [CLASS], "max_per_class": tiles},
        "inpaint": {"iterations": iterations, "snapshots": [iterations], "report_every": 10,
                    "checkpoint_every": 10_000, "threads": 1, "tiles_per_job": k},
    }))  # fmt: skip
    return str(path)


def run_k(k: int, tiles: int, iterations: int) -> dict:
    """One timed run of every DIP job for K = ``k``: wall seconds, jobs, and the fits' own seconds."""
    cfg = config(WORK / f"k{k}.yaml", tiles, iterations, k)
    for folder in ("results/dip", "benchmarks/dip"):
        shutil.rmtree(WORK / folder, ignore_errors=True)
    snakemake("results/dip/plan.tsv", "--cores", "1", "--configfile", cfg)
    plan = pd.read_csv(WORK / "results/dip/plan.tsv", sep="\t")
    chunks = sorted(set(plan["chunk"]))
    start = time.perf_counter()
    snakemake(*[f"results/dip/chunks/{c}" for c in chunks], "--cores", "1", "--configfile", cfg)
    wall = time.perf_counter() - start
    fits = sum(float(pd.read_csv(WORK / f"benchmarks/dip/chunks/{c}.tsv", sep="\t")["s"].iloc[0]) for c in chunks)
    n = int(plan["selected"].sum())
    return {"k": k, "jobs": len(chunks), "tiles": n, "wall_s": wall, "job_s": fits,
            "tile_it_s": n * iterations / wall, "seconds_per_tile": wall / n}  # fmt: skip


def markdown(rows: pd.DataFrame, iterations: int, repeats: int) -> str:
    summary = rows.groupby("k").agg(
        jobs=("jobs", "first"), tiles=("tiles", "first"), median=("tile_it_s", "median"), low=("tile_it_s", "min"),
        high=("tile_it_s", "max"), seconds_per_tile=("seconds_per_tile", "median"), job_s=("job_s", "median"),
        wall_s=("wall_s", "median"),
    )  # fmt: skip
    one = summary.loc[1, "median"] if 1 in summary.index else np.nan
    lines = [
        f"# The workflow's DIP jobs on the CPU: {int(summary['tiles'].iloc[0])} tiles of 256 px, "
        f"{iterations} iterations",
        "",
        f"`python bench/bench_dip_jobs.py` on {platform.processor() or platform.machine()}, 1 torch thread, one job "
        f"at a time; {repeats} runs per K (median, min-max). Wall time of `snakemake` running every DIP chunk job, "
        "process start-up, imports, I/O and Snakemake's bookkeeping included.",
        "",
        "| K (tiles per job) | jobs | tile-it/s median (min-max) | vs K = 1 | s per tile | of which in the jobs |",
        "|---|---|---|---|---|---|",
    ]
    for k, row in summary.iterrows():
        lines.append(
            f"| {k} | {int(row['jobs'])} | {row['median']:.3f} ({row['low']:.3f}-{row['high']:.3f}) | "
            f"{row['median'] / one:.2f}x | {row['seconds_per_tile']:.1f} | {row['job_s'] / row['wall_s']:.0%} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ks", default="1,2,4,8")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    snakemake("results/selection/selected.tsv", "--cores", "2", "--configfile",
              config(WORK / "select.yaml", args.tiles, args.iterations, 1))  # fmt: skip
    rows = []
    for _ in range(args.repeats):
        for k in (int(v) for v in args.ks.split(",")):
            rows.append(run_k(k, args.tiles, args.iterations))
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    text = markdown(table, args.iterations, args.repeats)
    write_results("dip_jobs", text, {"rows": table.to_dict("records")}, presets=[f"paper/{CLASS}"])
    print(text)


if __name__ == "__main__":
    main()
