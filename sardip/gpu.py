"""Pick a free GPU for one job when several run at once on one machine.

Snakemake's ``--resources gpu=6`` only caps how many ``gpu=1`` jobs run together; it assigns no
device, so without help every job would train on GPU 0. :func:`claim_device` gives each job its own
device through one lock file per GPU (``<lock_dir>/gpu<i>.lock``) held with a non-blocking
``fcntl.flock``: the kernel drops the lock when the process ends, even by SIGKILL, so a crashed job
never leaves a slot taken. Under SLURM the scheduler already isolates the allocated GPU and sets
``CUDA_VISIBLE_DEVICES``; that choice is respected as given, without locks.

Setting ``SARDIP_SIMULATED_GPUS=N`` (or ``n_devices`` on a machine without CUDA) makes the allocator
believe N devices exist: it takes the lock slots as usual but runs on the CPU, so tests and dry
runs can check that concurrent jobs never share a slot.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

DEFAULT_LOCK_DIR = Path("/tmp/sardip-gpu-locks")
LOCK_DIR_ENV = "SARDIP_GPU_LOCK_DIR"
SIMULATED_ENV = "SARDIP_SIMULATED_GPUS"


class DeviceError(ValueError):
    """A device preference that cannot be met; the message names it."""


@dataclass(frozen=True)
class DeviceClaim:
    """The device a job runs on: a torch device string, the lock slot held (``None``: no lock) and why."""

    device: str
    slot: int | None
    reason: str


def default_lock_dir() -> Path:
    """``$SARDIP_GPU_LOCK_DIR`` or ``/tmp/sardip-gpu-locks``: shared by every job on the machine."""
    return Path(os.environ.get(LOCK_DIR_ENV) or DEFAULT_LOCK_DIR)


def _cuda_count() -> int:
    """Number of CUDA devices torch sees (0 without CUDA).

    torch is imported here, not at module level, so that claiming a CPU or simulated slot stays cheap.
    """
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _simulated_count(n_devices: int | None) -> int | None:
    value = os.environ.get(SIMULATED_ENV)
    if not value:
        return None
    try:
        count = int(value)
    except ValueError:
        raise DeviceError(f"{SIMULATED_ENV}={value!r}: expected a number of devices") from None
    return n_devices or count


def _try_lock(path: Path) -> IO[str] | None:
    """Open ``path`` and take an exclusive non-blocking flock; ``None`` when another process holds it."""
    handle = open(path, "a+")  # noqa: SIM115 - held open for the length of the claim
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _lock_slot(lock_dir: Path, n: int, timeout: float | None, poll: float) -> tuple[int, Path, IO[str]]:
    """Lock the first free slot among ``n``, waiting (polling every ``poll`` s) up to ``timeout`` s."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    waiting = False
    while True:
        for slot in range(n):
            path = lock_dir / f"gpu{slot}.lock"
            handle = _try_lock(path)
            if handle is not None:
                return slot, path, handle
        if timeout is not None and time.monotonic() - start >= timeout:
            raise TimeoutError(f"all {n} GPU slots in {lock_dir} stayed busy for {timeout:g} s")
        if not waiting:
            log.info("all %d GPU slots in %s are busy; waiting for one", n, lock_dir)
            waiting = True
        time.sleep(poll)


def _explicit(preference: str) -> DeviceClaim:
    if preference == "cpu":
        return DeviceClaim("cpu", None, "CPU requested")
    index_text = preference.removeprefix("cuda").removeprefix(":") or "0"
    if not preference.startswith("cuda") or not index_text.isdigit():
        raise DeviceError(f"device {preference!r}: expected 'auto', 'cpu', 'cuda' or 'cuda:N'")
    count = _cuda_count()
    if int(index_text) >= count:
        raise DeviceError(f"device {preference!r}: this machine has {count} CUDA device(s)")
    return DeviceClaim(f"cuda:{index_text}", None, f"{preference} requested")


def _auto(n_devices: int | None) -> DeviceClaim | tuple[int, bool]:
    """What ``"auto"`` means here: a claim needing no lock, or ``(slots, real)`` to lock among."""
    simulated = _simulated_count(n_devices)
    if simulated is not None:
        return simulated, False
    cuda = _cuda_count()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    if visible and cuda:
        return DeviceClaim("cuda:0", None, f"CUDA_VISIBLE_DEVICES={visible} set by the scheduler: cuda:0 as given")
    if cuda:
        if n_devices and n_devices > cuda:
            raise DeviceError(f"n_devices={n_devices}: this machine has {cuda} CUDA device(s)")
        return n_devices or cuda, True
    if n_devices:
        return n_devices, False
    return DeviceClaim("cpu", None, "no CUDA device: running on the CPU")


@contextmanager
def claim_device(
    preference: str = "auto",
    lock_dir: str | Path | None = None,
    n_devices: int | None = None,
    *,
    timeout: float | None = None,
    poll: float = 1.0,
) -> Iterator[DeviceClaim]:
    """Hold a device for the length of the ``with`` block.

    ``preference``: ``"cpu"``; ``"cuda"``/``"cuda:N"`` (that device, no lock); or ``"auto"``, which
    tries in turn: ``SARDIP_SIMULATED_GPUS`` set (lock one of that many, or ``n_devices``, simulated
    slots and run on the CPU);
    ``CUDA_VISIBLE_DEVICES`` set and CUDA present (the scheduler chose: ``cuda:0`` as given, no lock);
    CUDA present (lock the first free of ``n_devices`` or all devices, waiting up to ``timeout`` s,
    forever when ``None``, then :class:`TimeoutError`); ``n_devices`` given without CUDA (simulated
    slots); otherwise the CPU. The lock is released on exit, or by the kernel if the process dies.
    """
    plan = _explicit(preference) if preference != "auto" else _auto(n_devices)
    if isinstance(plan, DeviceClaim):
        log.info("using %s: %s", plan.device, plan.reason)
        yield plan
        return
    count, real = plan
    if count < 1:
        raise DeviceError(f"{count} devices: need at least 1 to claim a slot")
    lock_dir = Path(lock_dir) if lock_dir is not None else default_lock_dir()
    slot, path, handle = _lock_slot(lock_dir, count, timeout, poll)
    try:
        if real:
            claim = DeviceClaim(f"cuda:{slot}", slot, f"GPU slot {slot} of {count} (lock {path})")
        else:
            claim = DeviceClaim("cpu", slot, f"simulated GPU slot {slot} of {count} (lock {path}): running on the CPU")
        log.info("claimed GPU slot %d (lock %s): %s", slot, path, claim.reason)
        yield claim
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
        # Logged so a job's log shows how long it held its slot (tests check that no two overlap).
        log.info("released GPU slot %d (lock %s)", slot, path)
