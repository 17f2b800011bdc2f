"""Snakemake on tiny generated data, and the checks that keep the workflow tidy (lint, format)."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, run_snakemake

from sardip.audit import DETECTORS
from sardip.classes import PAPER_CLASSES
from sardip.demo import DEMO_SCENES

TINY = str(REPO / "tests" / "config" / "tiny.yaml")
pytestmark = pytest.mark.workflow


def test_selection_on_tiny_demo_data(tmp_path):
    run_snakemake(tmp_path, "results/selection/selected.tsv", "--cores", "2", "--configfile", TINY)
    selected = pd.read_csv(tmp_path / "results/selection/selected.tsv", sep="\t")
    assert sorted(selected["class"]) == sorted(PAPER_CLASSES)
    assert (selected["purity"] >= 0.9).all() and (selected["split"] == "train").all()
    inventory = pd.read_parquet(tmp_path / "results/selection/inventory.parquet")
    assert inventory["scene_id"].nunique() == len(DEMO_SCENES) and (inventory["status"] == "ok").all()
    assert (tmp_path / "logs/selection/select_tiles.log").read_text().count("selected 7 tiles") == 1
    assert list((tmp_path / "benchmarks/scene_histogram").rglob("*.tsv"))


def test_whole_dag_and_report_on_tiny_data(tmp_path):
    """Selection to report: every figure is written and `snakemake --report` builds one HTML page."""
    run_snakemake(tmp_path, "--cores", "2", "--configfile", TINY)
    figures = tmp_path / "results" / "figures"
    expected = ["fig04_progress", "fig12_examples"]
    per_image = ["fig14_ssim", "fig15_enl", "fig18_epi", "fig20_accuracy"]
    per_image += [f"fig22_confusion_{m}" for m in ("resnet50", "inception_v3", "efficientnet_b0")]
    expected += [f"{image}/{name}" for image in ("generated", "published") for name in per_image]
    for name in expected:
        assert (figures / f"{name}.png").stat().st_size > 10_000, name
    per_tile = pd.read_parquet(tmp_path / "results/metrics/per_tile.parquet")
    kept = pd.read_csv(tmp_path / "results/filter/kept.tsv", sep="\t")
    assert set(per_tile["tile_id"]) == set(kept["tile_id"])
    # both images measured, named in the table: the composite's NIA is 1, the network output's is not
    nia = per_tile[(per_tile["metric"] == "ssim") & (per_tile["scenario"] == "NIA")].groupby("image")["value"]
    assert nia.min()["published"] == pytest.approx(1.0) and nia.max()["generated"] < 1
    for version in ("original", "generated", "published"):
        confusion = pd.read_csv(tmp_path / f"results/classify/resnet50/confusion_{version}.csv", index_col=0)
        assert list(confusion.columns) == [*PAPER_CLASSES, "Other"]
    accuracy = pd.read_csv(tmp_path / "results/classify/resnet50/accuracy.tsv", sep="\t")
    assert list(accuracy["image"].unique()) == ["generated", "published"]
    findings = pd.read_csv(tmp_path / "results/paper/findings.tsv", sep="\t")
    assert set(findings["image"]) == {"generated", "published"} and set(findings["holds"]) <= {"yes", "no", "n/a"}
    windows = pd.read_csv(tmp_path / "results/anonymise/windows.tsv", sep="\t")
    assert set(windows["scene"]) == {"demo"} and len(windows) > 1
    assert (figures / "anonymise" / "demo.png").stat().st_size > 10_000
    comparison = pd.read_csv(tmp_path / "results/audit/comparison.tsv", sep="\t")
    for name in DETECTORS:
        assert {f"auc_{name}_result", f"auc_{name}_original"} <= set(comparison.columns), name
    heldout = pd.read_csv(tmp_path / "results/audit/learned/heldout.tsv", sep="\t")
    assert {"gdal", "constant", "untouched"} <= set(heldout["fill"])
    run_snakemake(tmp_path, "--configfile", TINY, "--report", "results/report.html")
    html = (tmp_path / "results/report.html").read_text(errors="ignore")
    assert len(html) > 100_000 and "fig14_ssim.png" in html and "dropped.tsv" in html and "findings.tsv" in html
    assert "Scene anonymisation" in html and "demo.png" in html


def test_dry_run_plans_the_dag(tmp_path):
    result = run_snakemake(tmp_path, "-n", "--configfile", TINY)
    assert "scene_histogram" in result.stdout and "select_tiles" in result.stdout


@pytest.mark.parametrize(
    ("override", "named"),
    [("not_a_key=1", "not_a_key"), ("selection={'purity': 'high'}", "selection.purity"),
     ("data={'tile_size': 8}", "data.tile_size"), ("selection={'classes': ['Jungle']}", "selection.classes.0")],
)  # fmt: skip
def test_config_errors_stop_before_any_job_naming_the_key(tmp_path, override, named):
    result = run_snakemake(tmp_path, "-n", "--config", override, check=False)
    assert result.returncode != 0
    assert named in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def data_config(path: Path, root: Path | str, tile_size: int = 256) -> str:
    path.write_text(yaml.safe_dump({"data": {"root": str(root), "demo": False, "tile_size": tile_size}}))
    return str(path)


def test_missing_data_root_is_named(tmp_path):
    config = data_config(tmp_path / "c.yaml", "no/such/root")
    result = run_snakemake(tmp_path, "-n", "--configfile", config, check=False)
    assert result.returncode != 0 and "no/such/root" in result.stdout + result.stderr


def test_empty_data_root_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    config = data_config(tmp_path / "c.yaml", "empty")
    result = run_snakemake(tmp_path, "-n", "--configfile", config, check=False)
    assert result.returncode != 0 and "holds no SEN12MS scene folder" in result.stdout + result.stderr


def test_real_sen12ms_root_is_read(real_tree, tmp_path):
    work = tmp_path / "work"
    config = data_config(tmp_path / "c.yaml", real_tree)
    run_snakemake(work, "results/selection/selected.tsv", "--cores", "1", "--configfile", config)
    inventory = pd.read_parquet(work / "results/selection/inventory.parquet")
    assert inventory["tile_id"].tolist() == ["ROIs1158_spring_1_p30"] and inventory["purity"].item() < 0.9
    assert pd.read_csv(work / "results/selection/selected.tsv", sep="\t").empty


def test_snakemake_lint_is_clean(tmp_path):
    result = run_snakemake(tmp_path, "--lint", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Lints for" not in result.stdout + result.stderr


def test_snakefmt_and_ruff_are_clean():
    bindir = Path(sys.executable).parent
    snakefiles = [str(REPO / "Snakefile"), str(REPO / "rules")]
    subprocess.run([str(bindir / "snakefmt"), "--check", *snakefiles], check=True, capture_output=True)
    ruff = subprocess.run([str(bindir / "ruff"), "check", str(REPO)], capture_output=True, text=True)
    assert ruff.returncode == 0, ruff.stdout
