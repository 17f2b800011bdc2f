"""How much the audit's verdict on a fill hangs on the learned detector's training seed.

``bench/bench_learned.py --seed S --model M --results R`` trains the detector again on the same fills
with another seed. This script audits fills (by default ``credible@500``, from the ``paper`` fits of
``results/bench_credible``: run ``bench_credible.py fit`` first, and ``gdal+speckle``) on the three
held-out sets of ``bench/bench_credible.py`` under each model given, over ``--draws`` grain draws
(the fills are drawn once and audited under every model), and writes per model, set, class and
entry the learned detector's class-mean AUC excess and the verdict over every detector
(:func:`sardip.audit.stage.class_means`) to ``bench/results/detector_seeds.{md,json}``.

    python bench/bench_learned.py --seed 15 --model /tmp/s15/learned.pt --results /tmp/s15
    python bench/bench_detector_seeds.py --models shipped=sardip/audit/learned.pt seed15=/tmp/s15/learned.pt
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_credible import RESULTS, SETS, _entries, _result, _speckled, saved_fits

from sardip.audit import audit, learned, verdict
from sardip.audit.stage import class_means

KEYS = ["model", "set", "land_cover", "entry"]


def _models(specs: list[str]) -> dict[str, Path]:
    """``name=path`` pairs, each path checked to hold the localiser's weights."""
    models = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name:
            raise SystemExit(f"--models: {spec!r} is not NAME=PATH")
        learned.use_model(path)
        models[name] = Path(path)
    return models


def fills(entries: list[str], draws: int) -> list[tuple[dict, np.ndarray, np.ndarray, np.ndarray]]:
    """(row keys, image, result, hidden) per set, tile, entry and grain draw."""
    out = []
    for set_name, make in SETS.items():
        available = _entries(set_name)
        missing = [e for e in entries if e not in available]
        if missing:
            raise SystemExit(f"{set_name}: no entry {missing} (run bench_credible.py fit for the DIP snapshots)")
        data = saved_fits(set_name)
        ids, classes, images, hidden = make()
        for entry in entries:
            kind, it = available[entry]
            for draw in range(draws if _speckled(kind) else 1):
                for index, (tile_id, cls, image) in enumerate(zip(ids, classes, images, strict=True)):
                    result = _result(kind, it, index, image, hidden, tile_id, data, draw)
                    keys = {"set": set_name, "land_cover": cls, "entry": entry, "tile_id": tile_id, "draw": draw}
                    out.append((keys, image, result, hidden))
    return out


def audit_under(models: dict[str, Path], drawn: list[tuple[dict, np.ndarray, np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """Every drawn fill's verdict rows under each model."""
    rows = []
    for name, path in models.items():
        learned.use_model(path)
        for keys, image, result, hidden in drawn:
            rows += [{"model": name, **keys, **row} for row in verdict(audit(image, result, hidden)).to_dict("records")]
        print(f"audited under {name}", flush=True)
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame, models: dict[str, Path], draws: int) -> str:
    """Per entry, one row per set and class, one column per model: learned excess (worst excess, verdict)."""
    shas = ", ".join(f"`{n}` (sha256 {hashlib.sha256(p.read_bytes()).hexdigest()[:12]})" for n, p in models.items())
    lines = ["# The audit's verdict under learned detectors of other training seeds", "", f"Models: {shas}. "
             f"Fills with grain: means over {draws} grain draw(s). Cell: the learned detector's class-mean AUC "
             "excess over the untouched image, then the largest class-mean excess of every detector and whether "
             "the class meets every target (`python bench/bench_detector_seeds.py`).", ""]  # fmt: skip
    for entry, part in table.groupby("entry", sort=False):
        lines += [f"## {entry}", "", "| set: class | " + " | ".join(models) + " |", "|---" * (1 + len(models)) + "|"]
        for (set_name, cls), rows in part.groupby(["set", "land_cover"], sort=False):
            cells = rows.set_index("model").reindex(list(models))
            lines.append(f"| {set_name}: {cls} | " + " | ".join(
                f"{r.excess_learned:.3f} ({r.auc_excess:.3f}, {'yes' if r.meets_targets else 'no'})"
                for r in cells.itertuples()) + " |")  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", required=True, help="NAME=PATH of each learned model")
    parser.add_argument("--entries", nargs="+", default=["credible@500", "gdal+speckle"])
    parser.add_argument("--draws", type=int, default=3)
    args = parser.parse_args()
    models = _models(args.models)
    start = time.perf_counter()
    rows = audit_under(models, fills(args.entries, args.draws))
    table = class_means(rows, KEYS).reset_index()
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {"models": {n: str(p) for n, p in models.items()}, "draws": args.draws,
              "seconds": time.perf_counter() - start, "classes": table.to_dict("records")}  # fmt: skip
    (RESULTS / "detector_seeds.json").write_text(json.dumps(record, indent=1, default=str))
    text = markdown(table, models, args.draws)
    (RESULTS / "detector_seeds.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
