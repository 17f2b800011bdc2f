"""The verdict before publishing: a scene whose audit finds the edit is not written unless the provider
accepts it knowingly; every window's verdict is printed, recorded and reviewable (sardip.scene.gate)."""

from __future__ import annotations

import json
from pathlib import Path

import rasterio
from conftest import REAL_S1

from sardip.cli import main
from sardip.scene.gate import EXIT_DETECTABLE, judge, judge_window, summary_line, verdict_table

#: A 24 px box the constant fill leaves flat: every detector finds it.
MASK = "box:100,124,100,124"
FAST = ["--method", "constant"]


def _inpaint(tmp_path: Path, *extra: str, out: str = "out.tif") -> int:
    return main(["inpaint", str(REAL_S1), "--mask", MASK, "-o", str(tmp_path / out), *FAST, *extra])


def test_a_failing_window_leaves_no_file_and_exits_3_naming_window_band_detector_value(tmp_path, capsys):
    assert _inpaint(tmp_path) == EXIT_DETECTABLE == 3
    captured = capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # neither the raster nor its sidecar
    table = captured.out.splitlines()
    assert table[0].split()[:4] == ["window", "areas", "hidden", "px"]
    assert table[1].split()[:4] == ["r100c100", "box:100,124,100,124", "576", "fail"]
    assert "audit: 1 windows: 0 pass, 1 fail" in captured.out
    assert "nothing written at" in captured.err and "--accept-detectable" in captured.err
    for band in ("VV", "VH"):
        line = next(x for x in captured.err.splitlines() if x.startswith(f"window r100c100, band {band}: detector"))
        assert "finds the edit: AUC" in line and "against a limit of" in line and "excess" in line
        assert "the natural range of 64 untouched boxes of its shape nearby, false-alarm rate 5%" in line


def test_a_failing_run_keeps_an_earlier_publication_as_it_was(tmp_path):
    assert _inpaint(tmp_path, "--accept-detectable") == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert _inpaint(tmp_path, "--overwrite", "--seed", "1") == EXIT_DETECTABLE
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_accept_detectable_publishes_and_the_sidecar_says_so(tmp_path, capsys):
    assert _inpaint(tmp_path, "--accept-detectable") == 0
    out = capsys.readouterr().out
    assert "published 1 windows the audit finds, as --accept-detectable asked" in out
    sidecar = json.loads((tmp_path / "out.provenance.json").read_text())
    assert sidecar["gate"] == {"failing_windows": ["r100c100"], "accept_detectable": True}
    with rasterio.open(tmp_path / "out.tif") as src:
        assert "gate" not in json.dumps(src.tags())  # the published file says nothing of it


def test_review_writes_a_candidate_that_cannot_pass_for_the_output(tmp_path, capsys):
    review = tmp_path / "review"
    assert _inpaint(tmp_path, "--review", str(review)) == EXIT_DETECTABLE
    assert not (tmp_path / "out.tif").exists()
    names = sorted(p.name for p in review.iterdir())
    assert names == ["out.CANDIDATE-NOT-PUBLISHED.provenance.json", "out.CANDIDATE-NOT-PUBLISHED.tif",
                     "out.review.png"]  # fmt: skip
    sidecar = json.loads((review / names[0]).read_text())
    assert sidecar["review_of"] == str(tmp_path / "out.tif") and "gate" not in sidecar
    assert (review / "out.review.png").stat().st_size > 20_000
    assert "review: candidate" in capsys.readouterr().out


def test_windows_too_small_to_audit_are_published_and_said_so(tmp_path, capsys):
    out = tmp_path / "small.tif"
    assert main(["inpaint", str(REAL_S1), "--mask", "box:100,103,100,103", "-o", str(out), *FAST]) == 0
    printed = capsys.readouterr().out
    assert "not audited" in printed and "audit: 1 windows: 0 pass, 0 fail, 1 not audited" in printed
    assert json.loads(out.with_name("small.provenance.json").read_text())["gate"]["failing_windows"] == []


def _record(ok: bool, band: str = "VV") -> dict:
    return {"band": band, "detector": "cooc", "auc_result": 0.6, "auc_original": 0.58, "auc_limit": 0.62,
            "auc_excess": -0.02 if ok else 0.2, "natural_boxes": 40, "natural_false_alarm": 0.05,
            "enl_ratio_factor": 1.1, "epi_hole": 0.9 if ok else 0.2,
            "hole_correlation": 0.1, "ok_auc": ok, "ok_enl": True, "ok_epi": ok, "ok_correlation": True,
            "ok": ok}  # fmt: skip


def test_judge_reads_every_kind_of_window_record():
    figures = [
        {"window": "a", "areas": ["polygon 1"], "hidden_pixels": 100, "audit": [_record(True), _record(True, "VH")]},
        {"window": "b", "areas": ["polygon 2", "polygon 3"], "hidden_pixels": 50,
         "audit": [_record(True), _record(False, "VH")]},
        {"window": "c", "areas": ["polygon 4"], "hidden_pixels": 9, "audit": "not audited: the hidden area (9 px)"},
        {"window": "d", "areas": ["polygon 5"], "hidden_pixels": 0, "note": "every hidden pixel is nodata"},
    ]  # fmt: skip
    verdicts = judge(figures)
    assert [v.status for v in verdicts] == ["pass", "fail", "not audited", "no data"]
    assert verdicts[1].missed[0].startswith("window b, band VH: detector cooc finds the edit: AUC 0.600")
    assert any("EPI in the hole 0.200" in line for line in verdicts[1].missed)
    table = verdict_table(verdicts).splitlines()
    assert table[1].split()[0] == "b" and "VH FAIL cooc +0.200 [P]" in table[1]  # failing windows first
    assert "1 pass, 1 fail, 1 not audited, 1 no data" in summary_line(verdicts)
    assert verdict_table(verdicts, limit=2).splitlines()[-1] == "... 2 more windows (all in the sidecar)"
    assert judge_window(figures[0]).missed == ()


def test_a_large_area_is_judged_against_untouched_boxes_read_beyond_its_window(tmp_path):
    """A 60 px area's window (64 px margin) holds no untouched box of its shape: the audit reads further."""
    out = tmp_path / "large.tif"
    assert main(["inpaint", str(REAL_S1), "--mask", "box:80,140,80,140", "-o", str(out), *FAST,
                 "--accept-detectable"]) == 0  # fmt: skip
    window = json.loads(out.with_name("large.provenance.json").read_text())["windows"][0]
    assert window["rows"] == [16, 204] and all(band["natural_boxes"] >= 16 for band in window["audit"])
