"""Is the real tile's grain fitted to its one hole? The same fill at hole positions the grain was not tuned on.

The resampled grain's varying width (:data:`sardip.speckle.RESPONSE_SPREAD`) was chosen on the
detectors at the real SEN12MS tile's release hole. Here the 64 px hole is also put at three positions
in the tile's right half (which the learned detector's training crops, from the left half, never
covered), filled with GDAL's fill plus speckle (the background is not what the detectors find there:
``bench/results/credible.md``, ``gdal+speckle`` against ``credible``), and audited for the grain as
shipped, for other spreads, and for the grain before resampling (no wave: the fill of the code before
it, bit for bit). The variants set the module's constants for the run (a benchmark, not an API).
Writes ``bench/results/positions.{md,json}``.

    python bench/bench_positions.py [--draws 6]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from sardip import speckle
from sardip.audit import DETECTORS, audit, verdict
from sardip.fill import classic_fill
from sardip.geotiff import read_raster

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
REAL_TILE = ROOT / "tests" / "data" / "sen12ms_real" / "ROIs1158_spring_s1_1_p30.tif"
#: (rows, columns) of each 64 px hole; ``release`` is the benchmark's own (``sardip.masks.release_box``).
BOXES = {
    "release (tuned here)": (92, 156, 179, 243),
    "top-right": (8, 72, 184, 248),
    "top-middle": (8, 72, 130, 194),
    "bottom-right": (184, 248, 184, 248),
}
#: Variant -> (response spread, resampling drawn).
VARIANTS = {
    f"shipped (+-{speckle.RESPONSE_SPREAD * 100:.0f} %)": (speckle.RESPONSE_SPREAD, True),
    "+-10 %": (0.1, True),
    "moire only": (0.0, True),
    "before resampling": (0.0, False),
}
SEED = 103


def score(draws: int) -> pd.DataFrame:
    """Mean excess per detector over ``draws`` grain draws, per hole position and variant."""
    image = read_raster(REAL_TILE).db()
    find = speckle.find_resampling_waves
    shipped = speckle.RESPONSE_SPREAD
    rows = []
    try:
        for box, (r0, r1, c0, c1) in BOXES.items():
            hidden = np.zeros(image.shape[1:], bool)
            hidden[r0:r1, c0:c1] = True
            fill = classic_fill("gdal", image, hidden)
            for variant, (spread, resampled) in VARIANTS.items():
                speckle.RESPONSE_SPREAD = spread
                speckle.find_resampling_waves = find if resampled else (lambda *_: ())
                speckle.drawn_widths.cache_clear()
                for draw in range(draws):
                    out, _ = speckle.speckle_fill(image, fill, hidden, seed=SEED + draw)
                    rows.append(verdict(audit(image, out, hidden)).assign(box=box, variant=variant, draw=draw))
                print(f"scored {box} / {variant}", flush=True)
    finally:
        speckle.RESPONSE_SPREAD = shipped
        speckle.find_resampling_waves = find
        speckle.drawn_widths.cache_clear()
    table = pd.concat(rows)
    columns = [f"excess_{name}" for name in DETECTORS]
    means = table.groupby(["box", "variant"], sort=False)[columns].mean()
    means.insert(0, "worst", means.max(axis=1))
    means.insert(1, "by", means[columns].idxmax(axis=1).str.removeprefix("excess_"))
    return means.reset_index()


def markdown(means: pd.DataFrame, draws: int) -> str:
    """The table of :func:`score`, worst detector first."""
    names = " | ".join(DETECTORS)
    lines = ["# The real tile's grain at hole positions it was not tuned on", "",
             f"`gdal+speckle`, 64 px holes on the real SEN12MS tile, means over {draws} grain draws (seeds "
             f"{SEED}-{SEED + draws - 1}); excess = AUC over the untouched image's with the same hole (target "
             "<= 0.07). `before resampling` is the grain of the code before `sardip.resampling`.", "",
             f"| hole | grain | worst | by | {names} |", "|---" * (4 + len(DETECTORS)) + "|"]  # fmt: skip
    for row in means.itertuples(index=False):
        values = " | ".join(f"{getattr(row, f'excess_{name}'):.3f}" for name in DETECTORS)
        lines.append(f"| {row.box} | {row.variant} | {row.worst:.3f} | {row.by} | {values} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=6)
    args = parser.parse_args()
    means = score(args.draws)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "positions.md").write_text(markdown(means, args.draws))
    record = {"draws": args.draws, "boxes": BOXES, "rows": json.loads(means.to_json(orient="records"))}
    (RESULTS / "positions.json").write_text(json.dumps(record, indent=1))
    print(markdown(means, args.draws))


if __name__ == "__main__":
    main()
