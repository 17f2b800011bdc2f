"""Atomic outputs: permissions as open() gives them, nothing partial after SIGTERM or SIGKILL."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from sardip.io import atomic_path, remove_stale_temporaries, write_table

#: A writer that stops half-way: it has written its temporary file and waits to be killed.
WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from sardip.io import atomic_path, exit_on_sigterm

    exit_on_sigterm()
    with atomic_path(Path(sys.argv[1])) as tmp:
        tmp.write_text("half of a file")
        print("ready", flush=True)
        time.sleep(120)
    """
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_get_the_umask_permissions(tmp_path: Path, umask: int, expected: int) -> None:
    old = os.umask(umask)
    try:
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.tsv")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "t.tsv") == expected


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "t.tsv"
    target.write_text("old")
    target.chmod(0o640)
    write_table(pd.DataFrame({"a": [1]}), target)
    assert _mode(target) == 0o640 and target.read_text().startswith("a")


def _start_writer(target: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


def test_sigterm_removes_the_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out.tif"
    proc = _start_writer(target)
    assert len(_temporaries(tmp_path)) == 1
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert _temporaries(tmp_path) == [] and not target.exists()


def test_the_next_writer_removes_what_a_sigkill_left(tmp_path: Path) -> None:
    target = tmp_path / "out.tsv"
    killed = _start_writer(target)
    killed.kill()
    killed.wait(timeout=30)
    left = _temporaries(tmp_path)
    assert len(left) == 1 and left[0].startswith(f".out.{killed.pid}.")
    running = _start_writer(target)  # a live writer's temporary file is not touched
    try:
        write_table(pd.DataFrame({"a": [1]}), target)
        assert _temporaries(tmp_path) == [n for n in _temporaries(tmp_path) if f".{running.pid}." in n] != []
    finally:
        running.kill()
        running.wait(timeout=30)
    assert remove_stale_temporaries(target) and _temporaries(tmp_path) == []
    assert target.read_text().startswith("a")


def test_a_failed_block_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "x.tif") as tmp:
        tmp.write_text("partial")
        raise RuntimeError("writer failed")
    assert list(tmp_path.iterdir()) == []
