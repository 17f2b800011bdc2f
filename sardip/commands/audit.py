"""``sardip audit ORIGINAL RESULT --mask MASK [--check]``: can the edited area be told from its surroundings?

With ``--check`` the command is a gate for a data provider's release: it exits with status 1 when any
target is missed and names, on standard error, each band, detector or statistic and its value."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

from sardip.audit import DETECTORS, TARGETS, audit_files, missed_targets, verdict
from sardip.audit.localiser import DEFAULT_MODEL, load
from sardip.audit.natural import CALIBRATION
from sardip.commands import add_comparison_arguments


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("audit", help="forensic audit of an inpainted area against its ring", description=__doc__)
    add_comparison_arguments(parser, "edited area", "print JSON: band -> subject -> metric -> value")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed, naming it on stderr")
    parser.add_argument(
        "--detector-model",
        metavar="PATH",
        type=Path,
        default=DEFAULT_MODEL,
        help="weights of the learned detector (default: the model shipped with sardip; the workflow's "
        "train_detector writes results/audit/learned/model.pt)",
    )
    parser.set_defaults(func=run)


def _clean(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def as_json(table: pd.DataFrame, checks: pd.DataFrame) -> dict:
    """``{"audit": {band: {subject: {metric[@window]: value}}}, "verdict": [...], "targets": {...}}``."""
    nested: dict[str, dict[str, dict[str, float | None]]] = {}
    for row in table.itertuples(index=False):
        key = row.metric if pd.isna(row.window) else f"{row.metric}@{int(row.window)}"
        nested.setdefault(row.band, {}).setdefault(row.subject, {})[key] = _clean(row.value)
    records = [{k: (_clean(v) if isinstance(v, float) else v) for k, v in r.items()} for r in checks.to_dict("records")]
    detectors = {name: d.description for name, d in DETECTORS.items()}
    return {"audit": nested, "verdict": records, "targets": TARGETS, "calibration": CALIBRATION.as_dict(),
            "detectors": detectors}  # fmt: skip


def as_text(table: pd.DataFrame, checks: pd.DataFrame) -> str:
    """Metric x (band, subject) table, then the verdict per band."""
    frame = table.assign(window=table["window"].astype("string").fillna(""))
    wide = frame.pivot_table(index=["metric", "window"], columns=["band", "subject"], values="value", sort=False)
    return (
        wide.to_string(float_format=lambda v: f"{v:.4f}")
        + "\n\n"
        + checks.to_string(index=False, float_format=lambda v: f"{v:.3f}")
    )


def run(args: argparse.Namespace) -> int:
    load(args.detector_model.resolve())  # a bad weights file fails before the images are read
    table = audit_files(args.original, args.result, args.mask, invert_mask=args.invert_mask, model=args.detector_model)
    checks = verdict(table)
    if args.json:
        print(json.dumps(as_json(table, checks), indent=2))
    else:
        print(as_text(table, checks))
        print("\nsubject original = the untouched image with the same mask; subject natural = the detectors' range")
        print("over untouched boxes of the mask's shape elsewhere in the original (auc_<name>_median, _spread;")
        print("a detector's limit is median + natural_threshold x spread).")
        print("auc_*: two-sided ROC AUC of hidden vs ring pixels (seam: the boundary vs parallel contours;")
        print("learned: one-sided, its filled-or-real logit), 0.5 = undetectable.")
    if not args.check:
        return 0
    missed = missed_targets(checks)
    for line in missed:
        print(f"sardip audit: {args.result}: {line}", file=sys.stderr)
    return 1 if missed else 0
