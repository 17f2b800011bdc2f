"""Workflow scripts run by hand (sardip.mock) against a finished run give what the rule gave."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from workflow_base import REPO, base_run, copy_run, env, selected_tiles

from sardip.mock import MockError, mock_snakemake

pytestmark = pytest.mark.workflow


def test_a_script_run_by_hand_rebuilds_its_rules_output(tmp_path_factory, tmp_path):
    run = base_run(tmp_path_factory.getbasetemp())
    work = copy_run(run, tmp_path / "work")
    tile = selected_tiles(work)[0]
    target = work / f"results/metrics/tiles/{tile}/generated.parquet"
    target.unlink()
    cmd = [sys.executable, str(REPO / "scripts/tile_metrics.py"), f"tile={tile}", "image=generated", "--directory",
           str(work), "--configfile", str(run.config)]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env())
    assert result.returncode == 0, result.stderr[-3000:]
    expected = pd.read_parquet(run.workdir / f"results/metrics/tiles/{tile}/generated.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(target), expected)
    assert f"{tile}, generated image" in (work / f"logs/metrics/tiles/{tile}/generated.log").read_text()


def test_wrong_wildcards_and_foreign_scripts_are_named(tmp_path_factory, tmp_path):
    run = base_run(tmp_path_factory.getbasetemp())
    argv = ["--directory", str(run.workdir), "--configfile", str(run.config)]
    with pytest.raises(MockError, match=r"missing \['image', 'tile'\]"):
        mock_snakemake(REPO / "scripts/tile_metrics.py", argv)
    with pytest.raises(MockError, match="no rule"):
        mock_snakemake(tmp_path / "other.py", argv)
