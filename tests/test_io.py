"""Atomic outputs: permissions as open() gives them, nothing partial after a failure."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from sardip.io import atomic_path, write_table


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


def test_a_failed_block_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "x.tif") as tmp:
        tmp.write_text("partial")
        raise RuntimeError("writer failed")
    assert list(tmp_path.iterdir()) == []
