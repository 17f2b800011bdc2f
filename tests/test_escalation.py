"""A window that fails gets other grain draws; the one kept is chosen without the held-out detector, and
the gate judges it on everything (sardip.scene.escalation)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import REAL_S1

from sardip.audit import DETECTORS
from sardip.cli import main
from sardip.scene.escalation import CHOOSING, HELD_OUT, choice_score, chosen, escalate


def _checks(choosing: float, held_out: float, ok_epi: bool = True) -> pd.DataFrame:
    """A one-band verdict whose choosing detectors reach ``choosing`` and the held-out one ``held_out``."""
    excess = {f"excess_{d}": choosing if d in CHOOSING else held_out for d in DETECTORS}
    worst = max(choosing, held_out)
    row = {"band": "VV", "auc_excess": worst, **excess, "ok_auc": worst <= 0, "ok_enl": True, "ok_epi": ok_epi,
           "ok_correlation": True}  # fmt: skip
    row["ok"] = row["ok_auc"] and ok_epi
    return pd.DataFrame([row])


def test_the_learned_detector_judges_but_does_not_choose() -> None:
    assert HELD_OUT == ("learned",) and "learned" not in CHOOSING and set(CHOOSING) | set(HELD_OUT) == set(DETECTORS)
    assert chosen(_checks(-0.01, 0.3)) and not chosen(_checks(0.01, -0.3))
    assert choice_score(_checks(-0.05, 0.2, ok_epi=False)) == (1, pytest.approx(-0.05))


def test_a_passing_first_draw_is_kept_without_trying_others() -> None:
    calls = []

    def attempt(k: int):
        calls.append(k)
        return k, _checks(-0.1, -0.1)

    assert escalate(attempt, 3)[2:] == (0, 1) and calls == [0]


def test_draws_stop_at_the_first_the_choosing_detectors_pass_and_the_best_is_kept() -> None:
    verdicts = [_checks(0.10, -0.2), _checks(0.05, 0.4), _checks(-0.02, 0.3), _checks(-0.3, -0.3)]
    candidate, checks, kept, made = escalate(lambda k: (k, verdicts[k]), 4)
    assert (candidate, kept, made) == (2, 2, 3)  # the fourth is never drawn
    assert not checks["ok"].all()  # the held-out detector still finds it: the gate will say so


def test_without_a_passing_draw_the_smallest_choosing_excess_is_kept() -> None:
    verdicts = [_checks(0.10, -0.2), _checks(0.03, 0.5), _checks(0.08, -0.5)]
    assert escalate(lambda k: (k, verdicts[k]), 3)[2:] == (1, 3)


def test_the_sidecar_says_which_detectors_chose_and_which_judged(tmp_path) -> None:
    out = tmp_path / "out.tif"
    assert main(["inpaint", str(REAL_S1), "--mask", "box:180,220,30,70", "-o", str(out), "--method", "gdal",
                 "--speckle", "--accept-detectable", "--attempts", "2"]) == 0  # fmt: skip
    sidecar = json.loads(out.with_name("out.provenance.json").read_text())
    assert sidecar["audit"]["chosen_by"] == list(CHOOSING) and sidecar["audit"]["attempts"] == 2
    assert set(sidecar["audit"]["judged_by"]) == set(DETECTORS) and sidecar["audit"]["calibration"]["false_alarm"]
    assert sidecar["grain_model"]["hash"] and sidecar["grain_model"]["max_response_spread"] == 0.4
