"""Time-to-quality of speckle-consistent DIP filling (``credible``) against ``paper``, ``authors-release``
and the classic baselines, scored by :mod:`sardip.audit` and :func:`sardip.metrics.tile_metrics`.

Two stages, so the slow DIP fits run once and the scoring can be repeated:

``fit``
    One DIP fit per (data set, network preset), with snapshots of the network output ``f(Z)`` along
    the iterations, saved to ``results/bench_credible/<set>_<preset>.npz``. ``credible`` shares the
    ``paper`` network and seed (speckle is applied after the fit), so its curve is the ``paper``
    snapshots with speckle added; no separate fit is needed.
    Data sets: ``real``, the SEN12MS tile of ``tests/data`` (256 px, release hole rows 92-155,
    cols 179-242, class Forest for the paper activation); ``demo``, one 64 px demo tile per paper class
    (the workflow's demo data, release hole scaled to 16 px), fitted as one batch.
``score``
    Audits every snapshot with and without speckle and every baseline, writes
    ``bench/results/credible.json``, ``credible.md`` and the time-to-quality curve ``credible_curve.png``.

    python bench/bench_credible.py fit --set real --preset paper --iterations 3000
    python bench/bench_credible.py score
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
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from sardip.audit import audit, verdict
from sardip.classes import PAPER_CLASSES
from sardip.demo import DEMO_SCENES, render_scene
from sardip.dip.engine import fit, tile_seed
from sardip.dip.presets import get_preset
from sardip.fill import classic_fill, parse_variant
from sardip.geotiff import read_raster
from sardip.masks import release_box
from sardip.metrics import tile_metrics
from sardip.speckle import speckle_fill

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "results" / "bench_credible"
RESULTS = ROOT / "bench" / "results"
REAL_TILE = ROOT / "tests" / "data" / "sen12ms_real" / "ROIs1158_spring_s1_1_p30.tif"
REAL_CLASS = "Forest"
#: Demo landscape drawn for each paper class, and the demo generator's defaults (config/config.yaml).
DEMO_LANDSCAPE = {c: c.lower() for c in PAPER_CLASSES}
DEMO_SIZE, DEMO_LOOKS, DEMO_CORR = 64, 4, 0.8
SNAPSHOTS = {
    "real": (250, 500, 1000, 1500, 2000, 3000, 4000, 6000),
    "demo": (150, 300, 750, 1500),
}


def real_set() -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """(tile ids, classes, images (1, 2, 256, 256) dB, hidden (256, 256)) of the real SEN12MS tile."""
    image = read_raster(REAL_TILE).db()
    return [REAL_TILE.stem], [REAL_CLASS], image[None], release_box(image.shape[1:])


def demo_set() -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """One 64 px tile per paper class: the top-left tile of the class's first demo scene."""
    ids, classes, images = [], [], []
    for cls in PAPER_CLASSES:
        scene = next(s for s in DEMO_SCENES if s.landscape == DEMO_LANDSCAPE[cls])
        _, db = render_scene(scene, DEMO_SIZE, 0, DEMO_LOOKS, DEMO_CORR)
        ids.append(f"{scene.season}_s1_{scene.scene}_demo")
        classes.append(cls)
        images.append(db[:, :DEMO_SIZE, :DEMO_SIZE])
    return ids, classes, np.stack(images), release_box((DEMO_SIZE, DEMO_SIZE))


SETS = {"real": real_set, "demo": demo_set}


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
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"{set_name}_{preset_name}.npz"
    np.savez_compressed(path, snapshots=np.asarray(snaps), outputs=np.stack(outputs), seconds=np.asarray(seconds),
                        ids=np.asarray(ids), classes=np.asarray(classes), images=images, hidden=hidden)  # fmt: skip
    return path


BASELINES = ("gdal", "gdal+speckle", "biharmonic", "telea", "navier-stokes", "constant")


def _entries(set_name: str) -> dict[str, tuple[str, int | None]]:
    """Label -> (kind, iterations) of what is scored for one data set."""
    entries: dict[str, tuple[str, int | None]] = {}
    for preset in ("paper", "authors-release"):
        path = WORK / f"{set_name}_{preset}.npz"
        if path.exists():
            for it in np.load(path)["snapshots"]:
                entries[f"{preset}@{it}"] = (preset, int(it))
                if preset == "paper":
                    entries[f"credible@{it}"] = ("credible", int(it))
    for name in BASELINES:
        entries[name] = (name, None)
    return entries


def _result(kind: str, it: int | None, index: int, image: np.ndarray, hidden: np.ndarray, tile_id: str,
            fits: dict[str, np.lib.npyio.NpzFile]) -> np.ndarray:  # fmt: skip
    """One entry's result (C, H, W) dB for tile ``index``."""
    seed = tile_seed(tile_id, 0)
    if kind in ("paper", "authors-release", "credible"):
        data = fits["paper" if kind == "credible" else kind]
        network = data["outputs"][index][list(data["snapshots"]).index(it)]
        if kind == "credible":
            return speckle_fill(image, network, hidden, seed)[0]
        return np.where(hidden, network, image)
    method, speckle = parse_variant(kind)
    filled = classic_fill(method.name, image, hidden)
    return speckle_fill(image, filled, hidden, seed)[0] if speckle else filled


def score(set_name: str) -> pd.DataFrame:
    """One row per tile, entry and band: the audit verdict figures plus SSIM (NIA, FI)."""
    fits = {p: np.load(WORK / f"{set_name}_{p}.npz") for p in ("paper", "authors-release")
            if (WORK / f"{set_name}_{p}.npz").exists()}  # fmt: skip
    ids, classes, images, hidden = SETS[set_name]()
    rows = []
    for label, (kind, it) in _entries(set_name).items():
        for index, (tile_id, cls, image) in enumerate(zip(ids, classes, images, strict=True)):
            result = _result(kind, it, index, image, hidden, tile_id, fits)
            checks = verdict(audit(image, result, hidden))
            metrics = tile_metrics(image, result, hidden)
            ssim = metrics[metrics["metric"] == "ssim"].set_index(["band", "scenario"])["value"]
            for row in checks.to_dict("records"):
                rows.append({"set": set_name, "tile_id": tile_id, "land_cover": cls, "entry": label, "kind": kind,
                             "iterations": it, **row, "ssim_NIA": ssim[row["band"], "NIA"],
                             "ssim_FI": ssim[row["band"], "FI"]})  # fmt: skip
        print(f"scored {set_name} {label}", flush=True)
    return pd.DataFrame(rows)


def _worst(rows: pd.DataFrame) -> pd.DataFrame:
    """Per set, class and entry: the worst band of each figure, and whether all bands pass."""
    keys = ["set", "land_cover", "entry", "kind", "iterations"]
    return (
        rows.groupby(keys, sort=False, dropna=False)
        .agg(
            auc_excess=("auc_excess", "max"),
            enl_factor_min=("enl_ratio_factor", "min"),
            enl_factor_max=("enl_ratio_factor", "max"),
            epi_min=("epi_hole", "min"),
            epi_max=("epi_hole", "max"),
            corr_max=("hole_correlation", "max"),
            ssim_NIA=("ssim_NIA", "mean"),
            ssim_FI=("ssim_FI", "mean"),
            ok=("ok", "all"),
        )
        .reset_index()
    )


def markdown(worst: pd.DataFrame) -> str:
    """The benchmark report: per data set, one line per entry (worst class and band)."""
    lines = ["# Credible anonymisation: time-to-quality and baselines", "",
             f"Machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch thread(s), "
             "CPU only, shared with other jobs.", "",
             "Targets: every detector's AUC at most 0.07 above the untouched image's (auc_excess), hole/ring ENL "
             "ratio within x1.5 of the untouched ratio (enl factor), EPI in the hole 0.7-1.4, hole correlation "
             "with the original <= 0.5. Worst band (and, for the demo, worst class); `pass` = every band "
             "(and class) meets every target. SSIM (NIA = known pixels, FI = full image) on the "
             "[-25, 0] dB map.", ""]  # fmt: skip
    for set_name, part in worst.groupby("set", sort=False):
        lines += [f"## {set_name}", "", "| entry | auc_excess | enl factor | EPI | corr | SSIM NIA | SSIM FI | pass |",
                  "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for entry, rows in part.groupby("entry", sort=False):
            lines.append(
                f"| {entry} | {rows.auc_excess.max():.3f}"
                f" | {rows.enl_factor_min.min():.2f}-{rows.enl_factor_max.max():.2f}"
                f" | {rows.epi_min.min():.2f}-{rows.epi_max.max():.2f} | {rows.corr_max.max():.2f}"
                f" | {rows.ssim_NIA.mean():.4f} | {rows.ssim_FI.mean():.4f}"
                f" | {'yes' if rows.ok.all() else f'no ({int((~rows.ok).sum())}/{len(rows)} classes fail)'} |"
            )
        lines.append("")
    return "\n".join(lines)


def curve_figure(worst: pd.DataFrame, out: Path) -> None:
    """Time-to-quality: worst-class auc_excess, ENL ratio factor and EPI against iterations, per set and preset."""
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    axes = fig.subplots(1, 3)
    iterative = worst[worst["kind"].isin(["paper", "credible", "authors-release"])]
    for (set_name, kind), rows in iterative.groupby(["set", "kind"], sort=False):
        per_it = rows.groupby("iterations").agg(
            auc=("auc_excess", "max"), lo=("enl_factor_min", "min"), hi=("enl_factor_max", "max"),
            epi_lo=("epi_min", "min"), epi_hi=("epi_max", "max"))  # fmt: skip
        style = {"real": "-o", "demo": "--s"}[set_name]
        label = f"{kind} ({set_name})"
        axes[0].plot(per_it.index, per_it["auc"], style, label=label)
        axes[1].fill_between(per_it.index, per_it["lo"], per_it["hi"], alpha=0.3, label=label)
        axes[2].fill_between(per_it.index, per_it["epi_lo"], per_it["epi_hi"], alpha=0.3, label=label)
    axes[0].axhline(0.07, color="k", ls="--", lw=1)
    for level in (1 / 1.5, 1.5):
        axes[1].axhline(level, color="k", ls="--", lw=1)
    for level in (0.7, 1.4):
        axes[2].axhline(level, color="k", ls="--", lw=1)
    axes[1].set_yscale("log")
    titles = ("max detector AUC excess (worst band/class)", "ENL ratio factor (range)", "EPI in the hole (range)")
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
    sub.add_parser("score")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.stage == "fit":
        run_fit(args.set, args.preset, args.iterations)
        return
    start = time.perf_counter()
    rows = pd.concat([score(s) for s in SETS if (WORK / f"{s}_paper.npz").exists()], ignore_index=True)
    worst = _worst(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    fit_seconds = {p.stem: np.load(p)["seconds"].tolist() for p in sorted(WORK.glob("*.npz"))}
    (RESULTS / "credible.json").write_text(json.dumps(
        {"fit_seconds": fit_seconds, "score_seconds": time.perf_counter() - start,
         "rows": json.loads(rows.to_json(orient="records"))}, indent=1))  # fmt: skip
    (RESULTS / "credible.md").write_text(markdown(worst) + "\n![time to quality](credible_curve.png)\n")
    curve_figure(worst, RESULTS / "credible_curve.png")
    print(markdown(worst))


if __name__ == "__main__":
    main()
