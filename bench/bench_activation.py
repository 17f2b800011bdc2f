"""Which network activation should ``credible`` use when no land-cover class is given?

The paper picks the activation per class (:data:`sardip.dip.presets.PAPER_ACTIVATION`); a class-free
default needs one. For each activation of :data:`sardip.dip.presets.ACTIVATIONS` this benchmark fits the
``credible`` preset with that activation (``get_preset("credible", cls).replace(activation=a)``: the paper
network, 500 iterations, speckle-consistent filling) on every tile of the data sets of
``bench/data_sets.py`` (``real``: the SEN12MS tile, 256 px, Forest; ``demo``: six 64 px tiles per paper
class; ``opera``: the two OPERA RTC-S1 crops, 100 px, Shrubland), with the seed of ``bench_credible.py``
(``tile_seed(tile_id, 0)``), pastes the network output into the hole with speckle
(:func:`sardip.fill.paste_db`, same seed), audits the result against the original with the same hole
(:func:`sardip.audit.audit`, :func:`sardip.audit.verdict`) and judges each (set, class, activation) group
on its means over tiles and bands (:func:`sardip.audit.stage.class_means`, the workflow's ``meets_targets``).

The chosen activation is the one whose groups meet every target most often, ties broken by the lower
mean auc excess over the groups. Writes ``bench/results/activation.json`` (every verdict row, the class
means, the seconds of every fit) and ``bench/results/activation.md``. Results produced by (one torch thread,
one fit at a time):

    python bench/bench_activation.py --iterations 500 --sets real,demo,opera

``--smoke`` is a quick check of the script (5 iterations, one demo tile per class, output under
``results/bench_activation_smoke/``, never ``bench/results``).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import pandas as pd
import torch
from common import RESULTS, SCRATCH, command_line, write_results
from data_sets import SETS

from sardip.audit import audit, verdict
from sardip.audit.stage import class_means
from sardip.dip.engine import fit
from sardip.dip.presets import ACTIVATIONS, PAPER_ACTIVATION, get_preset
from sardip.fill import paste_db
from sardip.seeds import tile_seed

SMOKE_OUT = SCRATCH / "bench_activation_smoke"
SMOKE_ITERATIONS = 5
FIGURES = ("auc_excess", "enl_ratio_factor", "epi_hole", "hole_correlation", "meets_targets")
KEYS = ["set", "class", "activation"]


def load_set(set_name: str, smoke: bool) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """(tile ids, classes, images, hidden) of one data set; in smoke mode only the first tile per class."""
    ids, classes, images, hidden = SETS[set_name]()
    if smoke:
        keep = [classes.index(c) for c in dict.fromkeys(classes)]
        ids, classes, images = [ids[i] for i in keep], [classes[i] for i in keep], images[keep]
    return ids, classes, images, hidden


def run_set(set_name: str, iterations: int, smoke: bool) -> tuple[pd.DataFrame, list[dict]]:
    """Verdict rows (tile, band, activation) and fit records of one data set."""
    ids, classes, images, hidden = load_set(set_name, smoke)
    rows, fits = [], []
    for activation in ACTIVATIONS:
        for tile_id, cls, image in zip(ids, classes, images, strict=True):
            seed = tile_seed(tile_id, 0)
            preset = get_preset("credible", cls).replace(activation=activation)
            result = fit(image[None], hidden, preset, [seed], iterations=iterations, report_every=250)
            pasted = paste_db(image, result.output_db[0], hidden, speckle=True, seed=seed)
            checks = verdict(audit(image, pasted.db, hidden))
            rows.append(checks.assign(**{"set": set_name, "class": cls, "activation": activation,
                                         "tile_id": tile_id, "seconds": result.seconds}))  # fmt: skip
            fits.append({"set": set_name, "class": cls, "activation": activation, "tile_id": tile_id,
                         "iterations": iterations, "seconds": result.seconds})  # fmt: skip
            print(f"{set_name} {activation} {cls} {tile_id}: {result.seconds:.1f} s, "
                  f"auc excess {checks['auc_excess'].max():.3f}", flush=True)  # fmt: skip
    return pd.concat(rows, ignore_index=True), fits


def summarise(groups: pd.DataFrame) -> pd.DataFrame:
    """Per activation over all (set, class) groups: groups meeting every target, mean and worst auc excess."""
    table = groups.groupby("activation", sort=False).agg(
        groups=("meets_targets", "size"), meeting=("meets_targets", "sum"),
        mean_auc_excess=("auc_excess", "mean"), worst_auc_excess=("auc_excess", "max"),
        mean_enl_ratio_factor=("enl_ratio_factor", lambda x: float(np.exp(np.log(x).mean()))),
        mean_epi_hole=("epi_hole", "mean"))  # fmt: skip
    table["meeting"] = table["meeting"].astype(int)
    return table.reset_index()


def choose(summary: pd.DataFrame) -> str:
    """Most groups meeting every target; ties broken by the lower mean auc excess."""
    ranked = summary.sort_values(["meeting", "mean_auc_excess"], ascending=[False, True])
    return str(ranked.iloc[0]["activation"])


def markdown(groups: pd.DataFrame, summary: pd.DataFrame, chosen: str, fits: pd.DataFrame, meta: dict) -> str:
    """The report: one table per data set (a row per class, a column group per activation) and the summary."""
    lines = ["# Class-free activation for `credible`", "",
             f"Machine: {meta['machine']}, {meta['threads']} torch thread(s), CPU "
             f"only; {meta['iterations']} iterations per fit; wall time {meta['wall_seconds'] / 60:.1f} min.", "",
             "Each tile: `get_preset(\"credible\", class).replace(activation=a)` fitted with seed "
             "`tile_seed(tile_id, 0)`, the network output pasted with speckle (same seed), audited against the "
             "original with the same hole. Figures are the class means over tiles and bands "
             "(`sardip.audit.stage.class_means`): auc excess = mean of each (tile, band)'s worst detector AUC "
             "excess over the untouched image (target <= 0.07), ENL factor = geometric mean of the hole/ring ENL "
             "ratio over the untouched ratio (target x1/1.5-1.5), EPI in the hole (target 0.7-1.4); `meets` = the "
             "means meet every target, hole correlation <= 0.5 included. `*` marks the paper's activation for the "
             "class.", ""]  # fmt: skip
    header = "| class | tiles | " + " | ".join(
        f"{a} auc excess | {a} ENL factor | {a} EPI | {a} meets" for a in ACTIVATIONS) + " |"  # fmt: skip
    for set_name, part in groups.groupby("set", sort=False):
        lines += [f"## {set_name}", "", header, "|---|---|" + "---|" * (4 * len(ACTIVATIONS))]
        for cls, rows in part.groupby("class", sort=False):
            by = rows.set_index("activation")
            cells = []
            for a in ACTIVATIONS:
                r = by.loc[a]
                mark = "*" if PAPER_ACTIVATION.get(cls) == a else ""
                cells.append(f"{r.auc_excess:.3f}{mark} | {r.enl_ratio_factor:.2f} | {r.epi_hole:.2f} | "
                             f"{'yes' if r.meets_targets else 'no'}")  # fmt: skip
            lines.append(f"| {cls} | {int(rows['n'].max())} | " + " | ".join(cells) + " |")
        lines.append("")
    seconds = fits.groupby(["set", "activation"], sort=False)["seconds"].mean().unstack("activation")
    lines += ["## Seconds per fit (mean per set)", "", "| set | " + " | ".join(ACTIVATIONS) + " |",
              "|---|" + "---|" * len(ACTIVATIONS)]  # fmt: skip
    for set_name, row in seconds.iterrows():
        lines.append(f"| {set_name} | " + " | ".join(f"{row[a]:.1f}" for a in ACTIVATIONS) + " |")
    lines += ["", "## Summary over all (set, class) groups", "",
              "| activation | groups meeting every target | mean auc excess | worst auc excess | ENL factor "
              "(geometric mean) | mean EPI |", "|---|---|---|---|---|---|"]  # fmt: skip
    for r in summary.itertuples():
        lines.append(f"| {r.activation} | {r.meeting}/{r.groups} | {r.mean_auc_excess:.4f} | "
                     f"{r.worst_auc_excess:.3f} | {r.mean_enl_ratio_factor:.2f} | {r.mean_epi_hole:.2f} |")  # fmt: skip
    best = summary.set_index("activation").loc[chosen]
    lines += ["", f"**Chosen: `{chosen}`** (most groups meeting every target, ties broken by the lower mean auc "
              f"excess): {int(best.meeting)}/{int(best.groups)} groups meet every target, mean auc excess "
              f"{best.mean_auc_excess:.4f}, worst {best.worst_auc_excess:.3f}.", ""]  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=None, help="iterations per fit (default 500; smoke 5)")
    parser.add_argument("--sets", default="real,demo,opera", help="comma-separated data sets of bench/data_sets.py")
    parser.add_argument("--smoke", action="store_true", help="quick check: 5 iterations, one tile per class, "
                        "output under results/bench_activation_smoke")  # fmt: skip
    args = parser.parse_args()
    torch.set_num_threads(1)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = sorted(set(sets) - set(SETS))
    if unknown:
        parser.error(f"unknown set(s) {unknown}; choose from {list(SETS)}")
    iterations = args.iterations if args.iterations is not None else SMOKE_ITERATIONS if args.smoke else 500
    out = SMOKE_OUT if args.smoke else RESULTS
    start = time.perf_counter()
    parts = [run_set(s, iterations, args.smoke) for s in sets]
    rows = pd.concat([p[0] for p in parts], ignore_index=True)
    fits = pd.DataFrame([f for p in parts for f in p[1]])
    groups = class_means(rows, KEYS).reset_index()
    summary = summarise(groups)
    chosen = choose(summary)
    meta = {"command": command_line(),
            "machine": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
            "iterations": iterations, "sets": sets, "smoke": args.smoke,
            "wall_seconds": time.perf_counter() - start}  # fmt: skip
    report = markdown(groups, summary, chosen, fits, meta)
    record = {**meta, "chosen": chosen, "summary": json.loads(summary.to_json(orient="records")),
              "classes": json.loads(groups[[*KEYS, "n", *FIGURES, "pass_share"]].to_json(orient="records")),
              "fits": json.loads(fits.to_json(orient="records")),
              "rows": json.loads(rows.to_json(orient="records"))}  # fmt: skip
    presets = ["credible", *(f"credible/{cls}" for cls in sorted(fits["class"].unique()))]
    write_results("activation", report, record, presets=presets, folder=out)
    print(report)


if __name__ == "__main__":
    main()
