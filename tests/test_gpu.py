"""Device slots: concurrent processes never share one, a killed process frees its slot, schedulers win."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from sardip import gpu
from sardip.gpu import DeviceClaim, DeviceError, claim_device, default_lock_dir

#: A child process: claim a slot, print "slot start end" once done; hold until ``release`` exists, if given.
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from sardip.gpu import claim_device

    lock_dir, hold, release = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    with claim_device(lock_dir=lock_dir, poll=0.02) as claim:
        start = time.monotonic()
        print("claimed", claim.slot, claim.device, flush=True)
        while release and not Path(release).exists():
            time.sleep(0.02)
        time.sleep(hold)
        end = time.monotonic()
    print("done", claim.slot, start, end, flush=True)
    """
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (gpu.SIMULATED_ENV, gpu.LOCK_DIR_ENV, "CUDA_VISIBLE_DEVICES"):
        monkeypatch.delenv(name, raising=False)


def spawn(lock_dir: Path, hold: float, release: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, gpu.SIMULATED_ENV: "2"}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(lock_dir), str(hold), str(release or "")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_two_processes_get_distinct_slots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = tmp_path / "release"
    children = [spawn(tmp_path / "locks", 0.0, release) for _ in range(2)]
    claimed = [child.stdout.readline().split() for child in children]
    assert sorted(int(line[1]) for line in claimed) == [0, 1]
    assert {line[2] for line in claimed} == {"cpu"}
    monkeypatch.setenv(gpu.SIMULATED_ENV, "2")
    with pytest.raises(TimeoutError, match="all 2 GPU slots"), claim_device(lock_dir=tmp_path / "locks", timeout=0):
        pass
    release.touch()
    assert [child.wait(timeout=20) for child in children] == [0, 0]


def test_four_jobs_on_two_slots_never_overlap(tmp_path: Path) -> None:
    children = [spawn(tmp_path / "locks", 0.3) for _ in range(4)]
    outputs = [child.communicate(timeout=30)[0].splitlines()[-1].split() for child in children]
    runs = [(int(slot), float(start), float(end)) for _, slot, start, end in outputs]
    assert {slot for slot, _, _ in runs} == {0, 1}
    for i, (slot, start, end) in enumerate(runs):
        for other_slot, other_start, other_end in runs[i + 1 :]:
            if slot == other_slot:
                assert end <= other_start or other_end <= start


def test_killed_process_frees_its_slot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    child = spawn(tmp_path / "locks", 60.0)
    assert child.stdout.readline().split()[:2] == ["claimed", "0"]
    with pytest.raises(TimeoutError), claim_device(lock_dir=tmp_path / "locks", n_devices=1, timeout=0):
        pass
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with claim_device(lock_dir=tmp_path / "locks", n_devices=1, timeout=5, poll=0.02) as claim:
        assert claim == DeviceClaim("cpu", 0, claim.reason)
        assert "simulated GPU slot 0 of 1" in claim.reason


def test_scheduler_choice_is_used_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A SLURM job given GPU 3 sees it as cuda:0 and locks it by its physical id, not as "GPU 0"."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    monkeypatch.setattr(gpu, "_cuda_count", lambda: 1)
    with claim_device(lock_dir=tmp_path / "locks") as claim:
        assert (claim.device, claim.slot) == ("cuda:0", 0)
        assert "device 3" in claim.reason and (tmp_path / "locks" / "gpu-3.lock").exists()
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5")  # another job on the same node, given GPU 5
        with claim_device(lock_dir=tmp_path / "locks", timeout=0) as other:
            assert other.device == "cuda:0" and "device 5" in other.reason


def test_several_visible_devices_go_to_distinct_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CUDA_VISIBLE_DEVICES=2,5,7 (a user's or a multi-GPU SLURM job's): concurrent claims take cuda:0, 1, 2."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,5,7")
    monkeypatch.setattr(gpu, "_cuda_count", lambda: 3)
    locks = tmp_path / "locks"
    with claim_device(lock_dir=locks) as a, claim_device(lock_dir=locks) as b, claim_device(lock_dir=locks) as c:
        assert [a.device, b.device, c.device] == ["cuda:0", "cuda:1", "cuda:2"]
        assert sorted(p.name for p in locks.iterdir()) == ["gpu-2.lock", "gpu-5.lock", "gpu-7.lock"]
        with pytest.raises(TimeoutError), claim_device(lock_dir=locks, timeout=0):
            pass
        with pytest.raises(TimeoutError, match="GPU 5"), claim_device("cuda:1", lock_dir=locks, timeout=0):
            pass  # an explicit device waits for its lock too


def test_the_default_lock_folder_is_per_user() -> None:
    assert default_lock_dir().name == f"sardip-gpu-locks-{os.getuid()}"


def test_no_cuda_runs_on_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    with claim_device(lock_dir=tmp_path / "locks") as claim:
        assert claim == DeviceClaim("cpu", None, "no CUDA device: running on the CPU")
    with claim_device("cpu") as claim:
        assert (claim.device, claim.slot) == ("cpu", None)


def test_real_devices_are_locked_in_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(gpu, "_cuda_count", lambda: 2)
    monkeypatch.setenv(gpu.LOCK_DIR_ENV, str(tmp_path / "env-locks"))
    caplog.set_level(logging.INFO, logger="sardip.gpu")
    with claim_device() as first, claim_device() as second:
        assert (first.device, first.slot, second.device, second.slot) == ("cuda:0", 0, "cuda:1", 1)
        with pytest.raises(TimeoutError), claim_device(timeout=0):
            pass
    assert f"claimed GPU slot 1 (lock {tmp_path / 'env-locks' / 'gpu-1.lock'})" in caplog.text
    with claim_device(n_devices=1) as again:
        assert again.device == "cuda:0"
    with pytest.raises(DeviceError, match="n_devices=3"), claim_device(n_devices=3):
        pass


@pytest.mark.parametrize(
    ("preference", "count", "outcome"),
    [("cuda:1", 2, "cuda:1"), ("cuda", 1, "cuda:0"), ("cuda:2", 2, "2 CUDA device"), ("gpu", 2, "expected 'auto'")],
)
def test_explicit_preferences(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preference: str, count: int, outcome: str
) -> None:
    monkeypatch.setattr(gpu, "_cuda_count", lambda: count)
    monkeypatch.setenv(gpu.LOCK_DIR_ENV, str(tmp_path / "locks"))
    if outcome.startswith("cuda:"):
        with claim_device(preference) as claim:
            assert (claim.device, claim.slot) == (outcome, int(outcome[-1]))
    else:
        with pytest.raises(DeviceError, match=outcome), claim_device(preference):
            pass


def test_bad_simulation_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(gpu.SIMULATED_ENV, "two")
    with pytest.raises(DeviceError, match="SARDIP_SIMULATED_GPUS='two'"), claim_device():
        pass
