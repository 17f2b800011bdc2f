"""Atomic file output: a failed or killed writer never leaves a partial file under the final name.

A file is written to a temporary name beside its target, ``.<stem>.<pid>.<random>.tmp<suffix>``, and
renamed onto the target only when the writer succeeded. The final file gets the permissions a plain
``open()`` would give it (``0666`` less the umask for a new file, the old file's mode when it replaces
one), not the ``0600`` of a temporary file. A writer stopped by an exception, Ctrl-C or SIGTERM (see
:func:`exit_on_sigterm`) removes its temporary file; one killed outright (SIGKILL, power loss) cannot,
so the next writer of the same target removes the temporaries whose process is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd


def json_hash(value: object) -> str:
    """First 16 hex digits of the SHA-256 of ``value`` as sorted-key, compact JSON (values JSON cannot
    write as their ``str``): the config hashes of presets, grain models and a chunk's fit settings."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the temporary files of ``path`` left by writers that no longer run; returns them."""
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.stem)}\.(\d+)\.[^.]+\.tmp{re.escape(path.suffix)}$")
    removed = []
    if path.parent.is_dir():
        for candidate in path.parent.iterdir():
            match = pattern.match(candidate.name)
            if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
                candidate.unlink(missing_ok=True)
                removed.append(candidate)
    return removed


@contextmanager
def scratch_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (named as :func:`atomic_path` names its temporaries, so a
    later writer cleans it up after a SIGKILL) and remove it when the block ends, whatever happens."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.{os.getpid()}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
    finally:
        tmp_path.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    The temporary file sits in the same folder, so the final ``os.replace`` is atomic on POSIX, and
    keeps the suffix so libraries that pick a format from it (GDAL, pandas) still do.
    """
    path = Path(path)
    with scratch_path(path) as tmp_path:
        yield tmp_path
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, path)


def exit_on_sigterm() -> None:
    """Turn SIGTERM (``kill``, a scheduler's cancel) into ``SystemExit(143)`` in the main thread, so that
    ``finally`` blocks run: :func:`atomic_path` then removes its temporary files, and the process ends
    with the status a SIGTERM gives."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    with contextlib.suppress(ValueError):  # not the main thread: leave the default
        signal.signal(signal.SIGTERM, handler)


def sha256_file(path: str | Path) -> str:
    """The sha256 of a file's bytes, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for piece in iter(lambda: handle.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a table atomically; the format follows the suffix (.parquet, .tsv or .csv)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        elif path.suffix == ".tsv":
            frame.to_csv(tmp, sep="\t", index=False)
        elif path.suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            raise ValueError(f"{path}: unknown table format (use .parquet, .tsv or .csv)")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`write_table`."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",", keep_default_na=False, na_values=[""])
