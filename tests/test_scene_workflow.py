"""The workflow's anonymise target on the tiny demo scene: parts as separate jobs give what the CLI gives."""

import json
import subprocess
import sys

import pandas as pd
import pytest
import rasterio
from conftest import REPO, run_snakemake
from workflow_base import env

TINY = str(REPO / "tests" / "config" / "tiny.yaml")
pytestmark = pytest.mark.workflow


def test_anonymise_target_in_parts_equals_one_cli_run(tmp_path):
    run_snakemake(tmp_path, "anonymise", "--cores", "2", "--configfile", TINY)
    out = tmp_path / "results/anonymise/demo"
    plan = pd.read_csv(out / "plan.tsv", sep="\t")
    assert len(plan) == 6 and plan["part"].nunique() == 2  # 6 targets, 4 windows per job
    assert sorted(p.name for p in (out / "parts").iterdir()) == ["p0000.npz", "p0001.npz"]
    windows = pd.read_csv(tmp_path / "results/anonymise/windows.tsv", sep="\t")
    assert set(windows["window"]) == set(plan["window"]) and set(windows["band"]) == {"VV", "VH"}
    assert (tmp_path / "results/figures/anonymise/demo.png").stat().st_size > 20_000
    sidecar = json.loads((out / "anonymised.provenance.json").read_text())
    assert sidecar["iterations"] == 10 and sidecar["preset"] == "credible" and len(sidecar["windows"]) == 6

    scene = tmp_path / "results/demo/scene"
    cli = tmp_path / "cli.tif"
    cmd = [sys.executable, "-m", "sardip", "inpaint", str(scene / "scene.tif"), "--mask", str(scene / "targets.gpkg"),
           "-o", str(cli), "--iterations", "10", "--cog", "--device", "cpu", "--accept-detectable"]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, env=env())
    with rasterio.open(out / "anonymised.tif") as a, rasterio.open(cli) as b:
        assert a.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert a.read().tobytes() == b.read().tobytes()

    again = run_snakemake(tmp_path, "anonymise", "--cores", "2", "--configfile", TINY, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr
    windows = pd.read_csv(out / "windows.tsv", sep="\t")
    assert set(windows["verdict"]) <= {"pass", "fail", "not audited", "no data"}
    assert sidecar["gate"]["accept_detectable"] is True  # the demo row accepts knowingly
    assert windows["published_detectable"].eq(windows["verdict"].eq("fail")).all()

    # The same row without acceptance: only the publishing job runs again, and it refuses.
    sheet = tmp_path / "strict.tsv"
    sheet.write_text((REPO / "config/scenes.tsv").read_text().replace("credible\t\tyes", "credible\t\tno"))
    strict = ["--configfile", TINY, "--config", f"anonymise={{'sheet': '{sheet}'}}"]
    dry = run_snakemake(tmp_path, "anonymise", "-n", *strict)
    assert "fill_scene_part" not in dry.stdout and "plan_scene" not in dry.stdout and "anonymise_scene" in dry.stdout
    assert (windows["verdict"] == "fail").any()  # 10 iterations: the audit finds the fills
    refused = run_snakemake(tmp_path, "anonymise", "--cores", "1", *strict, check=False)
    assert refused.returncode != 0 and not (out / "anonymised.tif").exists()
    log = (tmp_path / "logs/anonymise/demo/anonymise.log").read_text()
    assert "nothing written at" in refused.stdout + refused.stderr + log


def test_a_bad_sheet_stops_before_any_job_naming_row_and_column(tmp_path):
    sheet = tmp_path / "scenes.tsv"
    sheet.write_text("name\tscene\tmask\tpreset\nmine\ta.tif\tb.gpkg\tcredibel\n")
    result = run_snakemake(tmp_path, "-n", "--config", f"anonymise={{'sheet': '{sheet}'}}", check=False)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert str(sheet) in message and "row 1 (mine), column preset" in message and "credibel" in message
    assert not (tmp_path / "results").exists()


def test_sheet_rows_take_the_schema_defaults(tmp_path):
    from sardip.scene.sheet import SheetError, read_sheet, row_settings, scene_files

    schema = REPO / "config" / "scenes.schema.yaml"
    sheet = tmp_path / "scenes.tsv"
    sheet.write_text("name\tscene\tmask\tland_cover\tgrow\n# a comment\nvv-vh\tvv.tif; vh.tif\tm.gpkg\t\t3\n")
    row = read_sheet(sheet, schema).loc["vv-vh"].to_dict()
    assert scene_files(row) == ["vv.tif", "vh.tif"]
    options = {"iterations": None, "seed": 1, "margin": 16, "max_side": 100, "attempts": 2, "batch": 2,
               "device": "cpu", "cog": True}  # fmt: skip
    settings = row_settings(row, options)
    assert (settings.preset, settings.land_cover, settings.units, settings.grow) == ("credible", None, "auto", 3)
    assert (settings.margin, settings.max_side, settings.seed, settings.overwrite) == (16, 100, 1, True)
    assert settings.attempts == 2
    sheet.write_text("name\tscene\tmask\nx\ta.tif\tm.gpkg\nx\tb.tif\tm.gpkg\n")
    with pytest.raises(SheetError, match=r"names \['x'\]"):
        read_sheet(sheet, schema)
    sheet.write_text("name\tscene\tmask\tgrow\nx\ta.tif\tm.gpkg\t-2\n")
    with pytest.raises(SheetError, match=r"row 1 \(x\), column grow"):
        read_sheet(sheet, schema)
    assert list(read_sheet(REPO / "config" / "scenes.tsv", schema).index) == ["demo"]
