"""Scale-out on one machine: GPU slots for concurrent jobs, kill and resume, CPU fallback, profiles."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from workflow_base import (
    ITERATIONS,
    REPO,
    base_run,
    copy_run,
    env,
    pixels,
    snakemake,
    snakemake_cmd,
)

pytestmark = pytest.mark.workflow

CLAIM = re.compile(r"^(\S+ \S+) INFO sardip\.gpu: claimed GPU slot (\d+)", re.MULTILINE)
RELEASE = re.compile(r"^(\S+ \S+) INFO sardip\.gpu: released GPU slot (\d+)", re.MULTILINE)


def _time(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")


def slot_intervals(log_dir: Path) -> dict[str, tuple[int, datetime, datetime]]:
    """Per DIP job log: (slot, claimed at, released at), from sardip.gpu's claim and release lines."""
    held = {}
    for log in sorted(log_dir.glob("*.log")):
        text = log.read_text()
        claims, releases = CLAIM.findall(text), RELEASE.findall(text)
        assert len(claims) == 1 and len(releases) == 1, f"{log.name}: expected one claim and one release\n{text}"
        assert claims[0][1] == releases[0][1]
        held[log.stem] = (int(claims[0][1]), _time(claims[0][0]), _time(releases[0][0]))
    return held


def chunks_of(workdir: Path) -> dict[str, list[str]]:
    """Chunk -> member tiles of the run's DIP plan."""
    plan = pd.read_csv(workdir / "results/dip/plan.tsv", sep="\t")
    return plan.groupby("chunk")["tile_id"].apply(list).to_dict()


def test_concurrent_dip_jobs_each_hold_their_own_gpu_slot(tmp_path_factory):
    """--resources gpu=2 runs two DIP jobs at once; the allocator gives them different slots."""
    run = base_run(tmp_path_factory.getbasetemp())
    held = slot_intervals(run.workdir / "logs/dip/chunks")
    assert set(held) == set(chunks_of(run.workdir)) and len(held) >= 3
    assert {slot for slot, _, _ in held.values()} <= {0, 1}
    overlapping = 0
    names = sorted(held)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            (slot_a, start_a, end_a), (slot_b, start_b, end_b) = held[a], held[b]
            if start_a < end_b and start_b < end_a:
                overlapping += 1
                assert slot_a != slot_b, f"{a} and {b} held GPU slot {slot_a} at the same time"
    # Three jobs on two slots: at least one pair really ran at once, else the test proves nothing.
    assert overlapping >= 1, held
    for chunk in held:
        assert "simulated GPU slot" in (run.workdir / f"logs/dip/chunks/{chunk}.log").read_text()


def test_killed_run_resumes_from_checkpoint_with_identical_results(tmp_path_factory, tmp_path):
    """SIGKILL to the whole process group mid-fit of a chunk, then a plain rerun: the chunk resumes from its
    checkpoint and gives the same pixels as an uninterrupted run."""
    run = base_run(tmp_path_factory.getbasetemp())
    chunk, tiles = next(iter(chunks_of(run.workdir).items()))
    reference = {
        p.relative_to(run.workdir): pixels(p) for t in tiles for p in (run.workdir / f"results/dip/{t}").rglob("*.tif")
    }
    work = copy_run(run, tmp_path / "work")
    shutil.rmtree(work / f"results/dip/chunks/{chunk}")
    for tile in tiles:
        shutil.rmtree(work / f"results/dip/{tile}")
    (work / f"logs/dip/chunks/{chunk}.log").unlink()
    config = ["--configfile", str(run.config)]
    targets = [f"results/dip/{t}/inpainted.tif" for t in tiles]
    state = work / f"results/dip/state/{chunk}.pt"
    # No simulated GPUs: on a machine without CUDA the job must say it runs on the CPU (bad-input case 7).
    environ = env()
    proc = subprocess.Popen(
        snakemake_cmd(work, *targets, "--cores", "1", *config),
        cwd=REPO,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state.exists(), f"no checkpoint appeared:\n{proc.communicate()[0] if proc.poll() is not None else ''}"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    step = torch.load(state, weights_only=True)["step"]
    assert 0 < step < ITERATIONS
    # Nothing half-written: no output of the killed job exists, only the engine's checkpoint.
    chunk_dir = work / f"results/dip/chunks/{chunk}"
    leftovers = [p for p in chunk_dir.rglob("*") if p.is_file()] if chunk_dir.exists() else []
    assert leftovers == [] and not any((work / f"results/dip/{t}").exists() for t in tiles), leftovers

    # A SIGKILL leaves Snakemake's directory lock behind: --unlock, then the plain command (profiles/default
    # sets rerun-incomplete, so a job whose outputs were marked incomplete would be redone, not trusted).
    snakemake(work, "--unlock", *config, environ=environ)
    snakemake(work, *targets, "--cores", "1", *config, environ=environ)
    log = (work / f"logs/dip/chunks/{chunk}.log").read_text()
    done = [int(i) for i in re.findall(rf"iteration (\d+)/{ITERATIONS}", log)]
    # The resumed fit reports only the iterations after the checkpoint: it did not start again from 0.
    assert done and min(done) > step and max(done) == ITERATIONS, log
    if not torch.cuda.is_available():
        assert "no CUDA device: running on the CPU" in log
    assert not state.exists()
    for rel, expected in reference.items():
        got = pixels(work / rel)
        assert got.tobytes() == expected.tobytes(), f"{rel} differs from the uninterrupted run"


def test_default_profile_is_safe_for_local_runs():
    profile = yaml.safe_load((REPO / "profiles/default/config.yaml").read_text())
    assert profile["rerun-incomplete"] is True and profile["latency-wait"] >= 5


def test_slurm_profile_maps_gpus():
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert {"slurm_partition", "runtime", "mem_mb"} <= set(profile["default-resources"])
    assert profile["set-resources"]["inpaint_chunk"]["gpu"] == 1
    assert profile["set-resources"]["train_classifier"]["gpu"] == 1
