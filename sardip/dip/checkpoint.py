"""Fit checkpoints: the whole optimisation state in one file, written atomically, read safely.

A checkpoint holds plain tensors, numbers, strings and lists only, so it loads with
``torch.load(weights_only=True)`` (no pickled code runs). It is written to a temporary file beside
the target and renamed onto it, so a process killed while saving leaves the previous checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import torch

from sardip.io import atomic_path

FORMAT = "sardip-dip-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not belong to the fit being resumed."""


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Write ``state`` (tensors moved to the CPU) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, **state}, tmp)


def load_checkpoint(path: str | Path, expect: dict) -> dict | None:
    """The state saved at ``path``, or ``None`` when there is no file.

    ``expect`` maps keys to the values this fit has (config hash, seeds, shape); any difference
    raises :class:`CheckpointError` naming the file and the key, so a stale checkpoint of another
    configuration is never resumed silently.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise CheckpointError(f"{path}: not a readable checkpoint ({err})") from err
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a {FORMAT} file")
    for key, value in expect.items():
        if state.get(key) != value:
            raise CheckpointError(f"{path}: belongs to another fit ({key} {state.get(key)!r} != {value!r})")
    return state
