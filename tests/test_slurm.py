"""The SLURM profile against a real one-node SLURM (slurmctld + slurmd + munged started here).

The daemons run in the foreground as children of this test, so they are stopped by PID afterwards,
even when the test fails. This machine has no GPU, so the test sets the GPU rules' ``gpu`` to 0 (the
plugin then asks SLURM for none); everything else comes from ``profiles/slurm``.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import ensure_debian_packages
from workflow_base import BASE_CONFIG, REPO, base_run, copy_run, env, pixels, selected_tiles, snakemake

pytestmark = pytest.mark.integration

PARTITION = "sardiptest"
#: Overrides for this one-node, GPU-less cluster without accounting (see the module docstring).
CLUSTER_ARGS = (
    "--profile", str(REPO / "profiles/slurm"),
    "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2", "--slurm-no-account",
    "--set-resources", "inpaint_chunk:gpu=0", "train_classifier:gpu=0",
    "--latency-wait", "5", "--keep-going",
)  # fmt: skip


def _run(*cmd: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def ensure_slurm_installed() -> None:
    """Install slurm-wlm and munge with apt when missing; skip when that is impossible here."""
    ensure_debian_packages(
        ["slurm-wlm", "munge"], lambda: all(shutil.which(b) for b in ("slurmctld", "slurmd", "sbatch", "munged"))
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def _mem_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024 * 9 // 10
    raise RuntimeError("no MemTotal in /proc/meminfo")


def write_slurm_conf(folder: Path, host: str) -> Path:
    """A slurm.conf for this host alone: its real CPUs and memory, no accounting, one partition."""
    for sub in ("state", "spool"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    conf = folder / "slurm.conf"
    conf.write_text(
        f"""ClusterName=sardip
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=600
ReturnToService=2
MpiDefault=none
NodeName={host} CPUs={os.cpu_count()} RealMemory={_mem_mb()} State=UNKNOWN
PartitionName={PARTITION} Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""
    )
    return conf


def munge_works() -> bool:
    encoded = subprocess.run(["munge", "-n"], capture_output=True)
    return (
        encoded.returncode == 0
        and subprocess.run(["unmunge"], input=encoded.stdout, capture_output=True).returncode == 0
    )


def start_munged(started: list[subprocess.Popen]) -> None:
    """Start munged as user munge (foreground, so its PID is ours) unless one already answers."""
    if munge_works():
        return
    key = Path("/etc/munge/munge.key")
    if not key.exists():
        subprocess.run(["mungekey", "--create", "--keyfile", str(key)], check=True)
    shutil.chown(key, "munge", "munge")
    key.chmod(0o400)
    run_dir = Path("/run/munge")
    run_dir.mkdir(exist_ok=True)
    shutil.chown(run_dir, "munge", "munge")
    started.append(subprocess.Popen(["runuser", "-u", "munge", "--", "munged", "--foreground"]))
    for _ in range(50):
        if munge_works():
            return
        time.sleep(0.2)
    raise RuntimeError("munged did not come up")


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A running one-node cluster; yields the environment (SLURM_CONF) that reaches it."""
    ensure_slurm_installed()
    folder = tmp_path_factory.mktemp("slurm")
    conf = write_slurm_conf(folder, socket.gethostname())
    environ = {**os.environ, "SLURM_CONF": str(conf)}
    started: list[subprocess.Popen] = []
    # srun inside a batch job reads the default config path, not SLURM_CONF: link it there for the test.
    default_conf = Path("/etc/slurm/slurm.conf")
    linked = not default_conf.exists()
    if linked:
        default_conf.parent.mkdir(parents=True, exist_ok=True)
        default_conf.symlink_to(conf)
    try:
        start_munged(started)
        for daemon in ("slurmctld", "slurmd"):
            started.append(subprocess.Popen([daemon, "-D", "-f", str(conf)], env=environ))
        for _ in range(100):
            state = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=environ)
            if state.stdout.strip() == "idle":
                break
            time.sleep(0.3)
        else:
            logs = "".join(p.read_text()[-2000:] for p in folder.glob("*.log"))
            raise RuntimeError(f"the SLURM node did not become idle:\n{logs}")
        yield {"SLURM_CONF": str(conf), "log_dir": str(folder)}
    finally:
        if linked:
            default_conf.unlink()
        for proc in reversed(started):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def test_dip_jobs_run_through_slurm_with_local_results(slurm, tmp_path_factory, tmp_path):
    """Through profiles/slurm: n tiles go to SLURM as ceil(n / K) DIP jobs (one per chunk of K tiles of a
    class), and give the local run's pixels; the chunk planning, the per-tile links and the convergence
    filter (local rules) run on the submitting host."""
    run = base_run(tmp_path_factory.getbasetemp())
    work = copy_run(run, tmp_path / "work")
    tiles = selected_tiles(work)
    per_class = pd.read_csv(work / "results/selection/selected.tsv", sep="\t").groupby("class").size()
    expected_jobs = int(sum(math.ceil(n / BASE_CONFIG["inpaint"]["tiles_per_job"]) for n in per_class))
    assert expected_jobs < len(tiles)
    shutil.rmtree(work / "results/dip")
    shutil.rmtree(work / "logs/dip")
    environ = env(SLURM_CONF=slurm["SLURM_CONF"])
    targets = [f"results/dip/{tile}/inpainted.tif" for tile in tiles] + ["results/filter/kept.tsv"]
    (work / "results/filter/kept.tsv").unlink()
    partition = ("--default-resources", f"slurm_partition={PARTITION}", "runtime=10", "mem_mb=1000")
    result = snakemake(work, *targets, "--configfile", str(run.config), *CLUSTER_ARGS, *partition, environ=environ)
    output = result.stdout + result.stderr
    assert "SLURM run ID" in output or "SLURM jobid" in output or "Job" in output
    submitted = [line for line in output.splitlines() if "submitted" in line.lower() and "slurm" in line.lower()]
    assert len(submitted) == expected_jobs, output[-3000:]
    controller = (Path(slurm["log_dir"]) / "slurmctld.log").read_text()
    assert controller.count("_slurm_rpc_submit_batch_job") == expected_jobs
    assert (work / "results/filter/kept.tsv").read_bytes() == (run.workdir / "results/filter/kept.tsv").read_bytes()
    for tile in tiles:
        for rel in (f"results/dip/{tile}/inpainted.tif", f"results/dip/{tile}/raw.tif"):
            assert pixels(work / rel).tobytes() == pixels(run.workdir / rel).tobytes(), rel


def _refused(slurm: dict[str, str], tmp_path_factory, tmp_path, *args: str) -> tuple[str, Path]:
    """Ask SLURM to fit one tile's chunk with ``args`` on top of the profile; (output, the tile's folder)."""
    run = base_run(tmp_path_factory.getbasetemp())
    work = copy_run(run, tmp_path / "work")
    tile = selected_tiles(work)[0]
    shutil.rmtree(work / "results/dip/chunks")
    shutil.rmtree(work / f"results/dip/{tile}")
    environ = env(SLURM_CONF=slurm["SLURM_CONF"])
    target = f"results/dip/{tile}/inpainted.tif"
    result = snakemake(work, target, "--configfile", str(run.config), *args, environ=environ, check=False)
    assert result.returncode != 0
    return result.stdout + result.stderr, work / f"results/dip/{tile}"


def test_a_missing_partition_fails_with_slurms_reason_and_the_setting_to_change(slurm, tmp_path_factory, tmp_path):
    partition = ("--default-resources", "slurm_partition=nosuchpart", "runtime=10", "mem_mb=1000")
    output, folder = _refused(slurm, tmp_path_factory, tmp_path, *CLUSTER_ARGS, *partition)
    assert "invalid partition specified: nosuchpart" in output, output[-3000:]
    assert "SLURM has no partition 'nosuchpart'. Set slurm_partition under default-resources" in output
    assert not folder.exists()


def test_a_gpu_request_on_a_cluster_without_gpus_names_the_cpu_only_command_line(slurm, tmp_path_factory, tmp_path):
    """The profile as shipped asks for gpu=1; this cluster has no GPU gres, so sbatch refuses every DIP job."""
    with_gpus = tuple(
        a for a in CLUSTER_ARGS if a not in ("--set-resources", "inpaint_chunk:gpu=0", "train_classifier:gpu=0")
    )
    partition = ("--default-resources", f"slurm_partition={PARTITION}", "runtime=10", "mem_mb=1000")
    output, folder = _refused(slurm, tmp_path_factory, tmp_path, *with_gpus, *partition)
    assert "Invalid generic resource (gres) specification" in output, output[-3000:]
    assert "SLURM refused the GPU request (gres)" in output and "--set-resources inpaint_chunk:gpu=0" in output
    assert not folder.exists()
