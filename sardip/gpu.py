"""Pick a free GPU for one job when several run at once on one machine.

Snakemake's ``--resources gpu=6`` only caps how many ``gpu=1`` jobs run together; it assigns no
device, so without help every job would train on GPU 0. :func:`claim_device` gives each job its own
device through one lock file per GPU held with a non-blocking ``fcntl.flock``: the kernel drops the
lock when the process ends, even by SIGKILL, so a crashed job never leaves a slot taken.

A lock is named after the **physical** device, ``<lock_dir>/gpu-<id>.lock``, where ``id`` is the
device's entry in ``CUDA_VISIBLE_DEVICES`` when a scheduler or the user set it (an index, a UUID or
a MIG name) and its index otherwise. So the devices a job sees are always the ones it locks among:
with ``CUDA_VISIBLE_DEVICES=0,1,2,3`` (a user's choice, or SLURM's ``--gres=gpu:4`` for a job that
runs several) concurrent jobs land on distinct devices ``cuda:0``..``cuda:3``; a SLURM job given one
GPU (``CUDA_VISIBLE_DEVICES=5``) sees it as ``cuda:0`` and locks ``gpu-5``, which no job on another
GPU of that node contends for. An explicit ``cuda:N`` waits for that device's lock too.

The lock folder is per user (``/tmp/sardip-gpu-locks-<uid>``, or ``$SARDIP_GPU_LOCK_DIR``): a folder
created by one user is not writable by another, and jobs coordinate with the user's own jobs.

Setting ``SARDIP_SIMULATED_GPUS=N`` (or ``n_devices`` on a machine without CUDA) makes the allocator
believe N devices exist: it takes the lock slots as usual but runs on the CPU, so tests and dry
runs can check that concurrent jobs never share a slot.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

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
    """``$SARDIP_GPU_LOCK_DIR`` or ``/tmp/sardip-gpu-locks-<uid>``: shared by every job of this user."""
    return Path(os.environ.get(LOCK_DIR_ENV) or f"/tmp/sardip-gpu-locks-{os.getuid()}")


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


def visible_ids(count: int) -> list[str]:
    """The physical id of each of the ``count`` devices torch numbers 0..count-1: the entries of
    ``CUDA_VISIBLE_DEVICES`` when it is set, else the indices."""
    visible = [v.strip() for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if v.strip()]
    if len(visible) >= count:
        return visible[:count]
    return [str(i) for i in range(count)]


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


def _lock_slot(
    lock_dir: Path, ids: Sequence[str], slots: Sequence[int], timeout: float | None, poll: float
) -> tuple[int, Path, IO[str]]:
    """Lock the first free of ``slots`` (indices into ``ids``), polling every ``poll`` s up to ``timeout`` s."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    waiting = False
    while True:
        for slot in slots:
            path = lock_dir / f"gpu-{ids[slot]}.lock"
            handle = _try_lock(path)
            if handle is not None:
                return slot, path, handle
        what = f"GPU {ids[slots[0]]}" if len(slots) == 1 else f"all {len(slots)} GPU slots"
        if timeout is not None and time.monotonic() - start >= timeout:
            raise TimeoutError(f"{what} in {lock_dir} stayed busy for {timeout:g} s")
        if not waiting:
            log.info("%s in %s busy; waiting", what, lock_dir)
            waiting = True
        time.sleep(poll)


@dataclass(frozen=True)
class _Plan:
    """What a preference means here: lock one of ``slots`` among ``ids`` (``real``: CUDA devices)."""

    ids: list[str]
    slots: list[int]
    real: bool


def _explicit(preference: str) -> DeviceClaim | _Plan:
    if preference == "cpu":
        return DeviceClaim("cpu", None, "CPU requested")
    index_text = preference.removeprefix("cuda").removeprefix(":") or "0"
    if not preference.startswith("cuda") or not index_text.isdigit():
        raise DeviceError(f"device {preference!r}: expected 'auto', 'cpu', 'cuda' or 'cuda:N'")
    count = _cuda_count()
    if int(index_text) >= count:
        raise DeviceError(f"device {preference!r}: this machine has {count} CUDA device(s)")
    return _Plan(visible_ids(count), [int(index_text)], True)


def _auto(n_devices: int | None) -> DeviceClaim | _Plan:
    simulated = _simulated_count(n_devices)
    if simulated is not None:
        return _Plan([str(i) for i in range(simulated)], list(range(simulated)), False)
    cuda = _cuda_count()
    if cuda:
        if n_devices and n_devices > cuda:
            raise DeviceError(f"n_devices={n_devices}: this machine has {cuda} CUDA device(s)")
        count = n_devices or cuda
        return _Plan(visible_ids(cuda), list(range(count)), True)
    if n_devices:
        return _Plan([str(i) for i in range(n_devices)], list(range(n_devices)), False)
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

    ``preference``: ``"cpu"``; ``"cuda"``/``"cuda:N"`` (that device, waiting for its lock); or ``"auto"``,
    which tries in turn: ``SARDIP_SIMULATED_GPUS`` set (lock one of that many, or ``n_devices``,
    simulated slots and run on the CPU); CUDA present (lock the first free of ``n_devices`` or of all
    visible devices, named as in the module docstring); ``n_devices`` given without CUDA (simulated
    slots); otherwise the CPU. Waiting lasts up to ``timeout`` s (forever when ``None``), then
    :class:`TimeoutError`. The lock is released on exit, or by the kernel if the process dies.
    """
    plan = _explicit(preference) if preference != "auto" else _auto(n_devices)
    if isinstance(plan, DeviceClaim):
        log.info("using %s: %s", plan.device, plan.reason)
        yield plan
        return
    if not plan.slots:
        raise DeviceError("0 devices: need at least 1 to claim a slot")
    lock_dir = Path(lock_dir) if lock_dir is not None else default_lock_dir()
    slot, path, handle = _lock_slot(lock_dir, plan.ids, plan.slots, timeout, poll)
    try:
        seen = f"GPU slot {slot} of {len(plan.ids)}, device {plan.ids[slot]} (lock {path})"
        if plan.real:
            claim = DeviceClaim(f"cuda:{slot}", slot, seen)
        else:
            claim = DeviceClaim("cpu", slot, f"simulated {seen}: running on the CPU")
        log.info("claimed GPU slot %d (lock %s): %s", slot, path, claim.reason)
        yield claim
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
        # Logged so a job's log shows how long it held its slot (tests check that no two overlap).
        log.info("released GPU slot %d (lock %s)", slot, path)
