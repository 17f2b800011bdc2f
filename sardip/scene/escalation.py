"""When a window's fill fails the audit, try other grain draws and keep the best, chosen without the
judge's held-out detectors.

A fill with speckle-consistent grain draws its grain from a seed; another draw is another candidate,
as credible a priori and nearly free beside the fit (one paste and the result's side of one audit, the
original's being shared: :func:`sardip.audit.baseline`). :func:`escalate` tries
up to ``attempts`` draws, stops at the first that passes every target on the **choosing** detectors
(:data:`CHOOSING`: every detector but :data:`HELD_OUT`) and otherwise keeps the candidate with the
fewest other targets missed and the smallest excess of a choosing detector. The gate then judges the
kept candidate on the whole audit, held-out detectors included: a choice made on the judge alone
would pass the draws the judge happens to miss, which an analyst with another detector would still
find. The sidecar records which detectors chose and which judged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd

from sardip.audit.detectors import DETECTORS

#: Detectors that take no part in choosing a candidate, only in judging it: the learned localiser, a
#: family of its own (a CNN trained on the audit's fills) beside the hand-made statistics.
HELD_OUT: tuple[str, ...] = ("learned",)
#: Detectors a candidate is chosen on.
CHOOSING: tuple[str, ...] = tuple(d for d in DETECTORS if d not in HELD_OUT)
Candidate = TypeVar("Candidate")


def choice_score(checks: pd.DataFrame) -> tuple[int, float]:
    """(targets missed other than a detector's, over bands; the largest excess of a choosing detector over
    its limit): lower is better. ``checks`` is a :func:`sardip.audit.verdict` table."""
    missed = int((~checks[["ok_enl", "ok_epi", "ok_correlation"]]).to_numpy().sum())
    excess = checks[[f"excess_{d}" for d in CHOOSING]].to_numpy(dtype=float)
    return missed, float(np.nanmax(excess)) if np.isfinite(excess).any() else float("inf")


def chosen(checks: pd.DataFrame) -> bool:
    """Whether a candidate passes every target on the choosing detectors."""
    missed, excess = choice_score(checks)
    return missed == 0 and excess <= 0


def escalate(
    attempt: Callable[[int], tuple[Candidate, pd.DataFrame | None]], attempts: int
) -> tuple[Candidate, pd.DataFrame | None, int, int]:
    """(the kept candidate, its verdict, its attempt number, the attempts made). ``attempt(k)`` makes
    candidate ``k`` and its verdict (``None``: not audited, kept as it is); the first is kept when it
    passes the whole audit."""
    first, checks = attempt(0)
    if checks is None or bool(checks["ok"].all()) or attempts <= 1:
        return first, checks, 0, 1
    tried = [(choice_score(checks), 0, first, checks)]
    for k in range(1, attempts):
        candidate, checks = attempt(k)
        tried.append((choice_score(checks), k, candidate, checks))
        if chosen(checks):
            break
    _, k, candidate, checks = min(tried, key=lambda t: (t[0], t[1]))
    return candidate, checks, k, len(tried)
