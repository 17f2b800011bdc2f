"""The prepared GPU benchmark runs its code paths on the CPU (a smoke run, not a measurement)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
