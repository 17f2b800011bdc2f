"""Where scene anonymisation stops being credible: the audit against the hidden area's side, and the
context margin a window needs.

The 2,048 px demo scene (``sardip.demo.write_demo_scene``) is anonymised with ``credible`` (its
class-free activation, ``--iterations`` iterations, CPU) through :func:`sardip.scene.anonymise_scene`,
with one square area of side S at the centre of three of its 512 px landscapes (forest, croplands,
urban), for S in ``--sides`` at the default margin, and for S = 64 at each of ``--margins``. Each
window is audited as the sidecar records it (the audit's ring lies inside the window); the figures
are the workflow's class means over landscapes and bands (``sardip.audit.stage.class_means``) and
whether they meet the audit's targets. Writes ``bench/results/scene_limits.json`` and ``.md``.

    python bench/bench_scene_limits.py --iterations 200
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import pandas as pd
from areas import write_boxes
from common import RESULTS, SCRATCH, write_results

WORK = SCRATCH / "bench_scene_limits"
#: Centres (row, col) of the demo scene's forest, croplands and urban patches at 2,048 px, away from
#: its bright targets.
CENTRES = {"forest": (256, 256), "croplands": (768, 768), "urban": (1792, 768)}


def run(scene: Path, side: int, margin: int, iterations: int) -> list[dict]:
    """Anonymise one square of ``side`` px per landscape; their audit verdicts, one row per band."""
    import rasterio

    from sardip.scene.anonymise import SceneSettings, anonymise_scene

    with rasterio.open(scene) as src:
        transform, crs = src.transform, src.crs.to_string()
    boxes = [(r - side // 2, c - side // 2, side) for r, c in CENTRES.values()]
    mask = write_boxes(WORK / f"areas_{side}_{margin}.gpkg", boxes, transform, crs)
    out = WORK / f"out_{side}_{margin}.tif"
    settings = SceneSettings(iterations=iterations, margin=margin, max_side=1024, device="cpu", overwrite=True,
                             accept_detectable=True)  # fmt: skip
    t0 = time.perf_counter()
    summary = anonymise_scene([scene], str(mask), out, settings)
    seconds = time.perf_counter() - t0
    rows = []
    for figure in summary.windows:
        (landscape,) = [name for name, (r, c) in CENTRES.items() if figure["rows"][0] <= r < figure["rows"][1]
                        and figure["cols"][0] <= c < figure["cols"][1]]  # fmt: skip
        window_px = figure["rows"][1] - figure["rows"][0]
        base = {"side": side, "margin": margin, "tile_id": landscape, "window_px": window_px, "seconds": seconds}
        if isinstance(figure["audit"], list):
            rows += [{**base, **checks} for checks in figure["audit"]]
        else:
            rows.append({**base, "note": figure["audit"]})
    return rows


def markdown(report: dict, means: pd.DataFrame) -> str:
    lines = [
        "# Scene anonymisation: largest credible area and context margin (`bench/bench_scene_limits.py`)", "",
        f"{report['machine']}; `credible` (class-free activation) with {report['iterations']} iterations on "
        "the CPU; one square area per landscape (forest, croplands, urban) of the 2,048 px demo scene; the "
        "audit of each window as the sidecar records it, averaged over landscapes and bands as the "
        "workflow judges a class (targets: AUC excess <= 0.07, ENL factor within x1.5, EPI 0.7-1.4, "
        "hole correlation <= 0.5).", "",
        "| side (px) | margin (px) | window (px) | audited | auc excess | ENL factor | EPI | corr | "
        "pass share | meets targets | seconds |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]  # fmt: skip
    for (side, margin), row in means.iterrows():
        lines.append(f"| {side} | {margin} | {row['window_px']:.0f} | {row['n']:.0f}/3 | {row['auc_excess']:.3f} | "
                     f"{row['enl_ratio_factor']:.2f} | {row['epi_hole']:.2f} | {row['hole_correlation']:.2f} | "
                     f"{row['pass_share']:.2f} | {'yes' if row['meets_targets'] else 'no'} | "
                     f"{row['seconds']:.0f} |")  # fmt: skip
    notes = report.get("notes") or []
    if notes:
        lines += ["", "Not audited:", ""] + [f"- side {n['side']}, margin {n['margin']}, {n['tile_id']}: {n['note']}"
                                             for n in notes]  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--sides", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--margins", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--cases", nargs="+", default=["32:64", "128:64", "256:128"],
                        help="more SIDE:MARGIN cases (context in proportion to the area)")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the rows of an earlier scene_limits.json")
    args = parser.parse_args()
    import torch

    from sardip.audit.stage import class_means
    from sardip.demo import write_demo_scene
    from sardip.scene.windows import MARGIN

    torch.set_num_threads(int(os.environ.get("SARDIP_THREADS", "1")))
    WORK.mkdir(parents=True, exist_ok=True)
    scene, _ = write_demo_scene(WORK / "demo", size=2048)
    cases = [(side, MARGIN) for side in args.sides] + [(64, m) for m in args.margins if m != MARGIN]
    cases += [tuple(int(v) for v in case.split(":")) for case in args.cases]
    saved = RESULTS / "scene_limits.json"
    earlier = json.loads(saved.read_text()) if args.keep and saved.exists() else {}
    kept = earlier.get("rows", [])
    rows = list(kept)
    done = {(r["side"], r["margin"]) for r in rows}
    for side, margin in sorted(set(cases) - done):
        rows += run(scene, side, margin, args.iterations)
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    audited = table[table["note"].isna()] if "note" in table else table
    means = class_means(audited, ["side", "margin"])
    extra = audited.groupby(["side", "margin"])[["window_px", "seconds"]].first()
    means = means.join(extra)
    notes = table[table["note"].notna()].to_dict("records") if "note" in table else []
    report = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "iterations": args.iterations, "rows": table.to_dict("records"),
              "means": means.reset_index().to_dict("records"), "notes": notes}  # fmt: skip
    kept_from = earlier.get("stamp") if kept else None
    write_results("scene_limits", markdown(report, means), report, presets=["credible"], kept_from=kept_from)
    print(markdown(report, means))


if __name__ == "__main__":
    main()
