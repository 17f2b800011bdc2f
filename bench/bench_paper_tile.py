"""The paper's metrics on the real SEN12MS tile, for both images of the DIP result.

Fits the paper's setting (``--preset paper``, the tile's land-cover class, the authors' release box)
on ``tests/data/sen12ms_real`` with ``sardip inpaint --whole-raster`` for each seed, one process per seed
at one thread each, and measures against the original (``sardip.metrics``) the DIP-generated tile
(``--raw-out``: the network output over the whole tile, what the paper measured) and the published
composite. Writes ``bench/results/paper_tile.{md,json}``::

    python bench/bench_paper_tile.py --iterations 1000 --seeds 0 1
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from common import ROOT, SCRATCH, write_results

from sardip.classify.labels import label_from_files
from sardip.metrics import tile_metrics_files

TILE = ROOT / "tests" / "data" / "sen12ms_real" / "ROIs1158_spring_s1_1_p30.tif"
LABELS = ROOT / "tests" / "data" / "sen12ms_real" / "ROIs1158_spring_lc_1_p30.tif"
#: Metrics of the table: (metric, scenario), in the paper's figure order.
SHOWN = (("ssim", "NIA"), ("ssim", "FI"), ("ms_ssim", "NIA"), ("ms_ssim", "FI"), ("enl_rel_change", "FI"),
         ("enl_rel_change", "OIA"), ("epi", "OIA"), ("epi", "FI"))  # fmt: skip


def fit(seed: int, iterations: int, land_cover: str, folder: Path) -> subprocess.Popen:
    """Start one whole-tile fit; its files go to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "sardip", "inpaint", str(TILE), "--whole-raster", "--mask", "release",
               "--preset", "paper", "--land-cover", land_cover, "--iterations", str(iterations), "--seed", str(seed),
               "--device", "cpu", "--raw-out", str(folder / "raw.tif"), "--mask-out", str(folder / "mask.tif"),
               "-o", str(folder / "published.tif"), "--overwrite"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=open(folder / "fit.log", "w"))


def measure(seed: int, folder: Path, land_cover: str) -> pd.DataFrame:
    """Every metric of both images of one fit, with ``seed`` and ``image`` columns."""
    images = {"generated": folder / "raw.tif", "published": folder / "published.tif"}
    tables = []
    for image, path in images.items():
        table = tile_metrics_files(TILE, path, folder / "mask.tif", TILE.stem, land_cover)
        tables.append(table.assign(seed=seed, image=image))
    return pd.concat(tables, ignore_index=True)


def markdown(table: pd.DataFrame, iterations: int, seconds: dict[int, float], land_cover: str) -> str:
    """Mean over seeds (and range) of each shown metric, per image and band."""
    rows = []
    for metric, scenario in SHOWN:
        for band in ("VV", "VH"):
            cells = []
            for image in ("generated", "published"):
                v = table[(table["metric"] == metric) & (table["scenario"] == scenario) & (table["band"] == band)
                          & (table["image"] == image)]["value"]  # fmt: skip
                scale = 100 if metric == "enl_rel_change" else 1
                text = (
                    f"{scale * v.mean():.4f}"
                    if len(v) == 1
                    else f"{scale * v.mean():.4f} ({scale * v.min():.4f}-{scale * v.max():.4f})"
                )
                cells.append(text)
            name = f"{metric} (%)" if metric == "enl_rel_change" else metric
            rows.append(f"| {name} | {scenario} | {band} | {cells[0]} | {cells[1]} |")
    seeds = ", ".join(str(s) for s in seconds)
    times = ", ".join(f"{s:.0f}" for s in seconds.values())
    return "\n".join([
        "# The paper's metrics on the real SEN12MS tile: DIP-generated and published",
        "",
        f"`{TILE.name}` ({land_cover}, 256 px), the authors' release box (64 px), `--preset paper`, {iterations} "
        f"iterations, seeds {seeds} (seconds per fit, one CPU thread each: {times}). Generated: the network output "
        "over the whole tile (`--raw-out`), the paper's measure; published: the composite. Mean over seeds "
        "(range in brackets); ENL change as (result - original) / original in %.",
        "",
        "| metric | scenario | band | generated | published |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    land_cover = label_from_files(LABELS, TILE)
    scratch = SCRATCH / "bench_paper_tile"
    started = time.perf_counter()
    jobs = {seed: fit(seed, args.iterations, land_cover, scratch / f"seed{seed}") for seed in args.seeds}
    seconds = {}
    for seed, job in jobs.items():
        if job.wait() != 0:
            raise SystemExit(f"seed {seed}: sardip inpaint failed, see {scratch / f'seed{seed}' / 'fit.log'}")
        seconds[seed] = time.perf_counter() - started
    table = pd.concat([measure(seed, scratch / f"seed{seed}", land_cover) for seed in args.seeds], ignore_index=True)
    metrics = table.drop(columns=["method", "note"]).to_dict(orient="records")
    record = {"tile": TILE.name, "land_cover": land_cover, "iterations": args.iterations, "seeds": args.seeds,
              "seconds": seconds, "metrics": metrics}  # fmt: skip
    text = markdown(table, args.iterations, seconds, land_cover)
    write_results("paper_tile", text, record, presets=[f"paper/{land_cover}"])
    print((ROOT / "bench" / "results" / "paper_tile.md").read_text())


if __name__ == "__main__":
    main()
