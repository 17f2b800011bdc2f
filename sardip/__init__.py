"""sardip: Deep Image Prior anonymisation of amplitude SAR images, and the evidence that it is credible."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

#: Bumped with every CHANGELOG.md entry.
__version__ = "0.5.0"


@cache
def git_commit() -> str | None:
    """The commit of the checkout this package runs from, with ``+dirty`` if it has uncommitted changes;
    ``None`` for an installed copy (or without git), where the version alone says what ran."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")
