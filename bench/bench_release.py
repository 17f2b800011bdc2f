"""How close is the ``authors-release`` preset to the authors' code? Hole EPI and ENL over several seeds.

On the real SEN12MS tile with the release's own box (rows 92-155, cols 179-242), fit ``authors-release``
for ``--iterations`` (1000) with each base seed (the seed of ``sardip inpaint --seed``; the tile's own
seed is derived from it), paste the network output into the hole and measure, per band and averaged
over VV and VH, the hole's EPI (result over original) and ENL (linear intensity, 25 px patches):
``sardip.metrics`` OIA. A learning-rate cut by the plateau rule marks a loss spike (the release's
scheduler reacts to one by freezing the fit), so it is recorded. Writes ``bench/results/release.json``
and ``release.md``.

    python bench/bench_release.py --seeds 0 1 2 3 4 --iterations 1000
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import pandas as pd
import torch

from sardip.dip.engine import fit
from sardip.dip.presets import get_preset
from sardip.fill import paste_db
from sardip.masks import release_box
from sardip.metrics import tile_metrics
from sardip.seeds import tile_seed
from sardip.sen12ms import read_s1

ROOT = Path(__file__).resolve().parents[1]
REAL_TILE = ROOT / "tests" / "data" / "sen12ms_real" / "ROIs1158_spring_s1_1_p30.tif"
RESULTS = ROOT / "bench" / "results"


def measure(seed: int, iterations: int) -> list[dict]:
    """One fit: a row per band with hole EPI, hole ENL (result and original), and the fit's facts."""
    image = read_s1(REAL_TILE)
    hidden = release_box(image.shape[1:])
    start = time.perf_counter()
    result = fit(image[None], hidden, get_preset("authors-release"), [tile_seed(REAL_TILE.stem, seed)],
                 iterations=iterations, report_every=10)  # fmt: skip
    seconds = time.perf_counter() - start
    pasted = paste_db(image, result.output_db[0], hidden, speckle=False, seed=0).db
    table = tile_metrics(image, pasted, hidden)
    oia = table[table["scenario"] == "OIA"].set_index(["band", "metric"])["value"]
    lr_cut = min(r["lr"] for r in result.trajectories[0]) < get_preset("authors-release").lr
    return [
        {"seed": seed, "band": band, "epi_hole": oia[band, "epi"], "enl_hole": oia[band, "enl_result"],
         "enl_hole_original": oia[band, "enl_original"], "lr_cut": lr_cut, "seconds": seconds}
        for band in ("VV", "VH")
    ]  # fmt: skip


def markdown(rows: pd.DataFrame, iterations: int) -> str:
    per_seed = rows.groupby("seed").agg(epi=("epi_hole", "mean"), enl=("enl_hole", "mean"), lr_cut=("lr_cut", "first"),
                                        seconds=("seconds", "first"))  # fmt: skip
    wide = rows.pivot(index="seed", columns="band", values=["epi_hole", "enl_hole"])
    lines = [
        f"# authors-release on the real SEN12MS tile, release box, {iterations} iterations",
        "",
        f"`python bench/bench_release.py` on {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        "1 thread. Hole EPI (result / original) and hole ENL (linear intensity, 25 px patches), network output "
        "pasted into the hole.",
        "",
        "| base seed | EPI VV | EPI VH | EPI mean | ENL VV | ENL VH | ENL mean | lr cut (loss spike) | seconds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for seed, row in per_seed.iterrows():
        lines.append(
            f"| {seed} | {wide.loc[seed, ('epi_hole', 'VV')]:.3f} | {wide.loc[seed, ('epi_hole', 'VH')]:.3f} | "
            f"{row['epi']:.3f} | {wide.loc[seed, ('enl_hole', 'VV')]:.0f} | {wide.loc[seed, ('enl_hole', 'VH')]:.0f} | "
            f"{row['enl']:.0f} | {'yes' if row['lr_cut'] else 'no'} | {row['seconds']:.0f} |"
        )
    lines += [
        "",
        f"Median over seeds: EPI {per_seed['epi'].median():.3f}, ENL {per_seed['enl'].median():.0f}; "
        f"original hole ENL {rows['enl_hole_original'].mean():.1f}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--iterations", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = pd.DataFrame([row for seed in args.seeds for row in measure(seed, args.iterations)])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "release.json").write_text(json.dumps(rows.to_dict("records"), indent=1, default=float))
    (RESULTS / "release.md").write_text(markdown(rows, args.iterations))
    print(markdown(rows, args.iterations))


if __name__ == "__main__":
    main()
