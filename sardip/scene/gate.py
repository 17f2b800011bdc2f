"""The verdict before publishing: every window's audit decides whether a scene may go out.

Each window of a scene is audited against the original (:func:`sardip.audit.detectors.verdict`, per
band: each detector's AUC against its natural range in the scene, :mod:`sardip.audit.natural`; the
ENL ratio, the hole's EPI and its correlation with the original). :func:`judge` reads those figures
from the windows' records and says, per window, ``pass`` (every band meets every target), ``fail`` (a
band misses one), ``not audited`` (too small for the audit: no 5 x 5 px square, or too little ring)
or ``no data`` (nothing it hides holds data). A scene with a failing window is not published
(:class:`DetectableEditError`, exit code :data:`EXIT_DETECTABLE` of ``sardip inpaint``) unless the
provider accepts it knowingly (``--accept-detectable``), which the sidecar records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sardip.audit.detectors import TARGETS, missed_targets
from sardip.audit.natural import CALIBRATION

#: Exit code of ``sardip inpaint`` when the audit finds an edit and nothing was published.
EXIT_DETECTABLE = 3
#: Window statuses, in the order the summary counts them.
STATUSES: tuple[str, ...] = ("pass", "fail", "not audited", "no data")


@dataclass(frozen=True)
class WindowVerdict:
    """One window's verdict: its id, the areas it hides, its hidden pixels, its status, the audit's
    figures per band (``bands``: band, detector, excess, ENL factor, EPI, correlation and the ``ok``
    flags) and, for a failing window, one line per missed target."""

    window: str
    areas: tuple[str, ...]
    hidden_pixels: int
    status: str
    bands: tuple[dict, ...] = ()
    missed: tuple[str, ...] = ()
    note: str = ""


def judge_window(figure: dict) -> WindowVerdict:
    """The verdict of one window record (an element of the sidecar's ``windows``)."""
    common = {"window": figure["window"], "areas": tuple(figure.get("areas", ())),
              "hidden_pixels": int(figure["hidden_pixels"])}  # fmt: skip
    audit = figure.get("audit")
    if audit is None:
        return WindowVerdict(**common, status="no data", note=figure.get("note", ""))
    if isinstance(audit, str):
        return WindowVerdict(**common, status="not audited", note=audit)
    checks = pd.DataFrame(audit)
    missed = tuple(f"window {figure['window']}, {line}" for line in missed_targets(checks))
    return WindowVerdict(**common, status="fail" if missed else "pass", bands=tuple(audit), missed=missed)


def judge(figures: Sequence[dict]) -> list[WindowVerdict]:
    """The verdict of every window record, in their order."""
    return [judge_window(figure) for figure in figures]


def failing(verdicts: Sequence[WindowVerdict]) -> list[WindowVerdict]:
    return [v for v in verdicts if v.status == "fail"]


def _band_cell(band: dict) -> str:
    flags = "".join(name for name, key in (("E", "ok_enl"), ("P", "ok_epi"), ("C", "ok_correlation")) if not band[key])
    verdict = "pass" if band["ok"] else "FAIL"
    return (f"{band['band']} {verdict} {band['detector']} {band['auc_excess']:+.3f}"
            + (f" [{flags}]" if flags else ""))  # fmt: skip


def verdict_table(verdicts: Sequence[WindowVerdict], limit: int | None = None) -> str:
    """The per-window table ``sardip inpaint`` prints: window, areas, hidden pixels, status and per band
    its verdict, worst detector and its AUC excess over the detector's limit (at most 0), with the ENL,
    EPI and correlation flags it misses ([E], [P], [C]). Failing windows first; ``limit`` rows at most
    (the rest counted)."""
    order = sorted(verdicts, key=lambda v: STATUSES.index(v.status) if v.status != "fail" else -1)
    shown = order if limit is None else order[:limit]
    rows = [("window", "areas", "hidden px", "verdict", "per band: verdict, worst detector, AUC excess [missed]")]
    for v in shown:
        areas = ", ".join(v.areas) if len(v.areas) <= 3 else f"{', '.join(v.areas[:3])} +{len(v.areas) - 3}"
        detail = "; ".join(_band_cell(b) for b in v.bands) if v.bands else v.note.split(":")[0]
        rows.append((v.window, areas, f"{v.hidden_pixels:,}", v.status, detail))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r[:4], widths, strict=True)) + "  " + r[4] for r in rows]
    if len(shown) < len(order):
        lines.append(f"... {len(order) - len(shown)} more windows (all in the sidecar)")
    return "\n".join(lines)


def summary_line(verdicts: Sequence[WindowVerdict]) -> str:
    """One line: how many windows pass, fail, were not audited or hide no data, against which targets."""
    counts = {s: sum(v.status == s for v in verdicts) for s in STATUSES}
    parts = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s] or s in ("pass", "fail"))
    return (
        f"audit: {len(verdicts)} windows: {parts} (targets: every detector within its natural range in the scene, "
        f"false-alarm rate {CALIBRATION.false_alarm:.0%}; ENL factor within x{TARGETS['enl_ratio_factor']}, "
        f"EPI {TARGETS['epi_min']}-{TARGETS['epi_max']}, hole correlation <= {TARGETS['max_hole_correlation']})"
    )


class DetectableEditError(ValueError):
    """The audit finds the edit in at least one window: nothing is published."""

    def __init__(self, out: str, verdicts: Sequence[WindowVerdict]) -> None:
        self.verdicts = list(verdicts)
        self.candidate: Path | None = None  # the --review candidate, when one was written
        bad = failing(self.verdicts)
        lines = [line for v in bad for line in v.missed]
        super().__init__(
            f"nothing written at {out}: the audit finds the edit in {len(bad)} of {len(self.verdicts)} windows "
            "(add --accept-detectable to publish it knowingly):\n" + "\n".join(lines)
        )
