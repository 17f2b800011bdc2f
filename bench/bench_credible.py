"""Time-to-quality of speckle-consistent DIP filling (``credible``) against ``paper``, ``authors-release``
and the classic baselines, scored by :mod:`sardip.audit` and :func:`sardip.metrics.tile_metrics`.

Two stages, so the slow DIP fits run once and the scoring can be repeated:

``fit``
    One DIP fit per (data set, network preset), with snapshots of the network output ``f(Z)`` along
    the iterations, saved to ``results/bench_credible/<set>_<preset>.npz``. ``credible`` shares the
    ``paper`` network and seed (speckle is applied after the fit), so its curve is the ``paper``
    snapshots with speckle added; no separate fit is needed. Data sets (``real``, ``demo``, ``opera``):
    ``bench/data_sets.py``.
``score``
    Audits every snapshot with and without speckle and every baseline, writes
    ``bench/results/credible.json``, ``credible.md`` and the time-to-quality curve ``credible_curve.png``.
    Entries with speckle are scored for ``--draws`` grain draws (seeds ``tile_seed(tile, d)``): one
    draw of the grain moves the learned detector's excess by up to 0.06 (OPERA crops), as much as
    the differences between fills. The table gives the mean over draws and the range of the
    worst-class excess over draws.

    python bench/bench_credible.py fit --set real --preset paper --iterations 3000
    python bench/bench_credible.py fit --set demo --preset paper --iterations 1500
    python bench/bench_credible.py fit --set opera --preset paper --iterations 1500
    python bench/bench_credible.py fit --set real --preset authors-release --iterations 1000
    python bench/bench_credible.py score [--draws 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from common import RESULTS, write_results
from data_sets import FITS, FITTED_PRESETS, SETS, saved_fits
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from sardip.audit import DETECTORS, audit, verdict
from sardip.audit.stage import class_means
from sardip.dip.engine import fit
from sardip.dip.presets import get_preset
from sardip.fill import classic_fill, parse_variant, paste_db
from sardip.grain import CLASSIC_GRAIN
from sardip.metrics import tile_metrics
from sardip.seeds import tile_seed

SNAPSHOTS = {
    "real": (250, 500, 1000, 1500, 2000, 3000, 4000, 6000),
    "demo": (150, 300, 500, 750, 1500),
    "opera": (150, 300, 500, 750, 1500),
}


def run_fit(set_name: str, preset_name: str, iterations: int) -> Path:
    """Fit ``preset_name`` on every tile of ``set_name`` (one batch) and save the snapshots."""
    torch.set_num_threads(1)
    ids, classes, images, hidden = SETS[set_name]()
    snaps = [i for i in SNAPSHOTS[set_name] if i <= iterations]
    outputs, seconds = [], []
    for tile_id, cls, image in zip(ids, classes, images, strict=True):
        preset = get_preset(preset_name, cls)
        result = fit(image[None], hidden, preset, [tile_seed(tile_id, 0)], iterations=iterations,
                     snapshot_iters=snaps, report_every=250)  # fmt: skip
        outputs.append(np.stack([result.snapshots[i][0] for i in snaps]))
        seconds.append(result.seconds)
        print(f"{set_name} {preset_name} {tile_id}: {result.seconds:.0f} s", flush=True)
    FITS.mkdir(parents=True, exist_ok=True)
    path = FITS / f"{set_name}_{preset_name}.npz"
    np.savez_compressed(path, snapshots=np.asarray(snaps), outputs=np.stack(outputs), seconds=np.asarray(seconds),
                        ids=np.asarray(ids), classes=np.asarray(classes), images=images, hidden=hidden)  # fmt: skip
    return path


BASELINES = ("gdal", "gdal+speckle", "biharmonic", "telea", "navier-stokes", "constant")


def _entries(set_name: str) -> dict[str, tuple[str, int | None]]:
    """Label -> (kind, iterations) of what is scored for one data set."""
    entries: dict[str, tuple[str, int | None]] = {}
    for preset in FITTED_PRESETS:
        path = FITS / f"{set_name}_{preset}.npz"
        if path.exists():
            for it in np.load(path)["snapshots"]:
                entries[f"{preset}@{it}"] = (preset, int(it))
                if preset == "paper":
                    entries[f"credible@{it}"] = ("credible", int(it))
    for name in BASELINES:
        entries[name] = (name, None)
    return entries


def _speckled(kind: str) -> bool:
    """Whether an entry draws grain (so its scores vary with the seed)."""
    if kind in ("paper", "authors-release"):
        return False
    return kind == "credible" or parse_variant(kind)[1]


def _result(kind: str, it: int | None, index: int, image: np.ndarray, hidden: np.ndarray, tile_id: str,
            fits: dict[str, np.lib.npyio.NpzFile], draw: int) -> np.ndarray:  # fmt: skip
    """One entry's result (C, H, W) dB for tile ``index`` (grain seeded by ``draw``)."""
    seed = tile_seed(tile_id, draw)
    if kind in ("paper", "authors-release", "credible"):
        data = fits["paper" if kind == "credible" else kind]
        network = data["outputs"][index][list(data["snapshots"]).index(it)]
        return paste_db(image, network, hidden, speckle=kind == "credible", seed=seed).db
    method, speckle = parse_variant(kind)
    fill = classic_fill(method.name, image, hidden)
    return paste_db(image, fill, hidden, speckle=speckle, seed=seed, grain=CLASSIC_GRAIN).db


def score(set_name: str, draws: int) -> pd.DataFrame:
    """One row per tile, entry, grain draw and band: the audit verdict figures plus SSIM (NIA, FI)."""
    fits = saved_fits(set_name)
    ids, classes, images, hidden = SETS[set_name]()
    rows = []
    for label, (kind, it) in _entries(set_name).items():
        for draw in range(draws if _speckled(kind) else 1):
            for index, (tile_id, cls, image) in enumerate(zip(ids, classes, images, strict=True)):
                result = _result(kind, it, index, image, hidden, tile_id, fits, draw)
                checks = verdict(audit(image, result, hidden))
                metrics = tile_metrics(image, result, hidden)
                ssim = metrics[metrics["metric"] == "ssim"].set_index(["band", "scenario"])["value"]
                for row in checks.to_dict("records"):
                    rows.append({"set": set_name, "tile_id": tile_id, "land_cover": cls, "entry": label,
                                 "kind": kind, "iterations": it, "draw": draw, **row,
                                 "ssim_NIA": ssim[row["band"], "NIA"], "ssim_FI": ssim[row["band"], "FI"]})  # fmt: skip
        print(f"scored {set_name} {label}", flush=True)
    return pd.DataFrame(rows)


def per_class(rows: pd.DataFrame) -> pd.DataFrame:
    """Per set, class and entry: :func:`sardip.audit.stage.class_means` of the tile-band rows over every
    grain draw (the workflow's per-class judgement), with the mean SSIM on known pixels and on the full
    image, and the lowest and highest worst-class ``auc_excess`` of a single draw (``draw_lo``, ``draw_hi``)."""
    keys = ["set", "land_cover", "entry", "kind", "iterations"]
    rows = rows.assign(iterations=rows["iterations"].fillna(-1))
    table = class_means(rows, keys)
    ssim = rows.groupby(keys, sort=False)[["ssim_NIA", "ssim_FI"]].mean()
    per_draw = class_means(rows, [*keys, "draw"]).groupby(["set", "entry", "draw"])["auc_excess"].max()
    spread = per_draw.groupby(["set", "entry"]).agg(draw_lo="min", draw_hi="max")
    out = table.join(ssim).reset_index().join(spread, on=["set", "entry"])
    return out.assign(iterations=out["iterations"].where(out["iterations"] >= 0))


def markdown(classes: pd.DataFrame, draws: int) -> str:
    """The benchmark report: per data set, one line per entry over its classes."""
    lines = ["# Credible anonymisation: time-to-quality and baselines", "",
             f"Machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch thread(s), "
             "CPU only.", "",
             "Targets, judged on each class's means over its tiles and bands (as the workflow's "
             "`meets_targets`): detector AUC at most 0.07 above the untouched image's (auc excess: the largest "
             "of the detectors' class-mean excesses, `by` the detector; then each detector's excess, worst "
             "class), hole/ring ENL ratio within x1.5 of the untouched ratio (ENL factor, geometric mean), EPI "
             "in the hole 0.7-1.4, hole correlation with the original <= 0.5. Columns give the worst class (auc "
             "excess, corr) or the range over classes; `classes` = classes meeting every target; `tile-bands` = "
             "share of single (tile, band) pairs meeting every target (a perfect fill scores about 0.6 on the "
             "demo's 16 px holes). SSIM (NIA = known pixels, FI = full image) on the [-25, 0] dB map. Entries "
             f"with speckle: means over {draws} grain draws, `draws` = the worst-class auc excess of the best and "
             "the worst single draw.", ""]  # fmt: skip
    for set_name, part in classes.groupby("set", sort=False):
        names = " | ".join(DETECTORS)
        lines += [f"## {set_name} ({part['land_cover'].nunique()} classes, {int(part['n'].max())} tiles per class)",
                  "", f"| entry | auc excess | by | {names} | ENL factor | EPI | corr | SSIM NIA | SSIM FI | classes "
                  "| tile-bands | draws |", "|---" * (11 + len(DETECTORS)) + "|"]  # fmt: skip
        for entry, rows in part.groupby("entry", sort=False):
            worst = rows.loc[rows.auc_excess.idxmax()]
            per_detector = " | ".join(f"{rows[f'excess_{d}'].max():.3f}" for d in DETECTORS)
            lines.append(
                f"| {entry} | {rows.auc_excess.max():.3f} | {worst.detector} | {per_detector}"
                f" | {rows.enl_ratio_factor.min():.2f}-{rows.enl_ratio_factor.max():.2f}"
                f" | {rows.epi_hole.min():.2f}-{rows.epi_hole.max():.2f} | {rows.hole_correlation.max():.2f}"
                f" | {rows.ssim_NIA.mean():.4f} | {rows.ssim_FI.mean():.4f}"
                f" | {int(rows.meets_targets.sum())}/{len(rows)} | {rows.pass_share.mean():.2f}"
                f" | {_draw_range(worst)} |"
            )
        lines.append("")
    return "\n".join(lines)


def _draw_range(row: pd.Series) -> str:
    """``lo-hi`` of the single draws' worst-class excess, empty for an entry without grain."""
    return "" if row.draw_lo == row.draw_hi else f"{row.draw_lo:.3f}-{row.draw_hi:.3f}"


def curve_figure(classes: pd.DataFrame, out: Path) -> None:
    """Time-to-quality: worst-class auc excess and the class range of the ENL ratio factor and EPI
    against iterations, per set and preset."""
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    axes = fig.subplots(1, 3)
    iterative = classes[classes["kind"].isin(["paper", "credible", "authors-release"])]
    for (set_name, kind), rows in iterative.groupby(["set", "kind"], sort=False):
        per_it = rows.groupby("iterations").agg(
            auc=("auc_excess", "max"), lo=("enl_ratio_factor", "min"), hi=("enl_ratio_factor", "max"),
            epi_lo=("epi_hole", "min"), epi_hi=("epi_hole", "max"))  # fmt: skip
        style = {"real": "-o", "demo": "--s", "opera": ":^"}[set_name]
        label = f"{kind} ({set_name})"
        axes[0].plot(per_it.index, per_it["auc"], style, label=label)
        for ax, lo, hi in ((axes[1], "lo", "hi"), (axes[2], "epi_lo", "epi_hi")):
            colour = ax.fill_between(per_it.index, per_it[lo], per_it[hi], alpha=0.3).get_facecolor()[0][:3]
            ax.plot(per_it.index, per_it[lo], style, color=colour, ms=3, lw=0.8, label=label)
            ax.plot(per_it.index, per_it[hi], style, color=colour, ms=3, lw=0.8)
    axes[0].axhline(0.07, color="k", ls="--", lw=1)
    for level in (1 / 1.5, 1.5):
        axes[1].axhline(level, color="k", ls="--", lw=1)
    for level in (0.7, 1.4):
        axes[2].axhline(level, color="k", ls="--", lw=1)
    axes[1].set_yscale("log")
    titles = ("detector AUC excess (worst class mean)", "ENL ratio factor (class means)",
              "EPI in the hole (class means)")  # fmt: skip
    for ax, title in zip(axes, titles, strict=True):
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("iterations")
        ax.set_title(title, fontsize=9)
    axes[0].legend(fontsize=7)
    fig.savefig(out, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="stage", required=True)
    fit_p = sub.add_parser("fit")
    fit_p.add_argument("--set", choices=list(SETS), required=True)
    fit_p.add_argument("--preset", choices=("paper", "authors-release"), required=True)
    fit_p.add_argument("--iterations", type=int, required=True)
    score_p = sub.add_parser("score")
    score_p.add_argument("--draws", type=int, default=3, help="grain draws per entry with speckle")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.stage == "fit":
        run_fit(args.set, args.preset, args.iterations)
        return
    start = time.perf_counter()
    rows = pd.concat([score(s, args.draws) for s in SETS if (FITS / f"{s}_paper.npz").exists()], ignore_index=True)
    classes = per_class(rows)
    fit_seconds = {p.stem: np.load(p)["seconds"].tolist() for p in sorted(FITS.glob("*.npz"))}
    record = {"draws": args.draws, "fit_seconds": fit_seconds, "score_seconds": time.perf_counter() - start,
              "rows": json.loads(rows.to_json(orient="records"))}  # fmt: skip
    text = markdown(classes, args.draws) + "\n![time to quality](credible_curve.png)\n"
    write_results("credible", text, record, presets=[*FITTED_PRESETS, "credible"])
    curve_figure(classes, RESULTS / "credible_curve.png")
    print(text)


if __name__ == "__main__":
    main()
