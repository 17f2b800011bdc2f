"""``sardip metrics ORIGINAL RESULT --mask MASK``: SSIM, MS-SSIM, ENL and EPI of one inpainted tile."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pandas as pd

from sardip.commands import add_comparison_arguments
from sardip.metrics import DEFINITIONS, METRICS, SCENARIOS, tile_metrics_files


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("metrics", help="credibility metrics of a result against its original", description=__doc__)
    add_comparison_arguments(parser, "hidden area S", "print JSON: scenario -> band -> metric -> value")
    parser.set_defaults(func=run)


def as_json(frame: pd.DataFrame, original: str, result: str, mask: str) -> dict:
    """Nested ``{"metrics": {scenario: {band: {metric: value}}}}`` plus inputs and method choices."""
    nested: dict[str, dict[str, dict[str, float | None]]] = {}
    for row in frame.itertuples(index=False):
        value = float(row.value)
        nested.setdefault(row.scenario, {}).setdefault(row.band, {})[row.metric] = None if math.isnan(value) else value
    ms = frame[frame["metric"] == "ms_ssim"]
    return {
        "original": original,
        "result": result,
        "mask": mask,
        "metrics": nested,
        "ms_ssim_scales": {f"{r.scenario}/{r.band}": int(r.ms_ssim_scales) for r in ms.itertuples(index=False)},
        "methods": DEFINITIONS,
        "notes": {f"{r.scenario}/{r.band}/{r.metric}": r.note for r in frame.itertuples(index=False) if r.note},
    }


def as_text(frame: pd.DataFrame) -> str:
    """A table: one row per metric and scenario, one column per band."""
    table = frame.pivot(index=["metric", "scenario"], columns="band", values="value")
    order = pd.MultiIndex.from_product([METRICS, SCENARIOS], names=["metric", "scenario"])
    table = table.reindex(order)[list(dict.fromkeys(frame["band"]))]
    return table.to_string(float_format=lambda v: f"{v:.4f}")


def run(args: argparse.Namespace) -> int:
    frame = tile_metrics_files(
        args.original, args.result, args.mask, Path(args.result).stem, "", invert_mask=args.invert_mask
    )
    if args.json:
        print(json.dumps(as_json(frame, args.original, args.result, args.mask), indent=2))
        return 0
    print(as_text(frame))
    notes = frame[frame["note"] != ""].drop_duplicates(["scenario", "metric"])
    for row in notes.itertuples(index=False):
        print(f"{row.metric} {row.scenario}: {row.note}")
    print("\nNIA = outside the hidden area, FI = full image, OIA = hidden area only.")
    for metric in METRICS:
        print(f"{metric}: {DEFINITIONS[metric]}")
    return 0
