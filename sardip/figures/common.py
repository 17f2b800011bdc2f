"""Shared figure helpers: saving and dB colour scales."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from sardip.io import atomic_path

DPI = 150


def save(fig: Figure, out: str | Path) -> Path:
    """Write ``fig`` as PNG to ``out`` atomically and return the path."""
    out = Path(out)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    return out


def db_limits(*images: np.ndarray, percentiles: tuple[float, float] = (2, 98)) -> tuple[float, float]:
    """Colour-scale limits in dB: the given percentiles of the finite pixels of all ``images``."""
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in images])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return -25.0, 0.0
    low, high = np.percentile(values, percentiles)
    return float(low), float(max(high, low + 1e-3))
