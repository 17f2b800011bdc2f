"""The benchmarks' shared code: the prepared GPU benchmark runs its code paths on the CPU (a smoke run,
not a measurement), and every results file is stamped with what produced it."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sardip
from sardip.dip.presets import get_preset

REPO = Path(__file__).resolve().parents[1]


def test_gpu_benchmark_code_paths_run_on_the_cpu(tmp_path: Path) -> None:
    cmd = [sys.executable, str(REPO / "bench/bench_dip_gpu.py"), "--device", "cpu", "--size", "32",
           "--batch-sizes", "1,2", "--iterations", "2", "--warmup", "1", "--numerics-iterations", "2",
           "--switch-batch", "2", "--switches", "fp32,batched_jitter,conv=split,conv=vmap,bf16",
           "--out", str(tmp_path)]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, env={"OMP_NUM_THREADS": "1", "PATH": ""})
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "dip_gpu_smoke_cpu.json").read_text())
    assert [row["B"] for row in report["by_batch"]] == [1, 2]
    assert set(report["switches"]) == {"fp32", "batched_jitter", "conv=split", "conv=vmap"}
    assert "bf16 (needs CUDA)" in report["skipped"] and report["flop_per_tile_iteration"] > 1e8
    assert "paper campaign" in (tmp_path / "dip_gpu_smoke_cpu.md").read_text()


def _bench_common():
    """``bench/common.py``, loaded from its file (``bench/`` is no package)."""
    spec = importlib.util.spec_from_file_location("bench_common", REPO / "bench" / "common.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="the stamp's commit needs a git checkout")
def test_results_are_stamped_with_commit_version_and_preset_hashes(tmp_path: Path) -> None:
    common = _bench_common()
    stamp = common.write_results("probe", "# Probe\n\nA figure.\n", {"figure": 1.5}, presets=["credible"],
                                 folder=tmp_path)  # fmt: skip
    record = json.loads((tmp_path / "probe.json").read_text())
    assert record == {"stamp": stamp, "figure": 1.5}
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", stamp["commit"])
    assert stamp["sardip_version"] == sardip.__version__
    assert stamp["presets"] == {"credible": get_preset("credible").config_hash()}
    lines = (tmp_path / "probe.md").read_text().splitlines()
    assert lines[:2] == ["# Probe", ""] and lines[2].startswith(f"Run at commit `{stamp['commit'][:7]}")
    assert lines[3:] == ["", "A figure."]
