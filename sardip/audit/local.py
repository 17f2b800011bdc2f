"""Local statistics over sliding windows, shared by the audit's detectors."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def local_mean(a: np.ndarray, w: int) -> np.ndarray:
    """Mean over the ``w`` x ``w`` window centred at each pixel (edges reflected)."""
    return ndimage.uniform_filter(a, w, mode="reflect")


def windows_in(region: np.ndarray, w: int) -> np.ndarray:
    """(H, W) bool: the ``w`` x ``w`` window centred at each pixel lies inside ``region`` (and the tile)."""
    frac = ndimage.uniform_filter(region.astype(np.float64), w, mode="constant", cval=0.0)
    return frac > 1 - 0.5 / (w * w)


def local_lag1(db: np.ndarray, w: int) -> np.ndarray:
    """Local lag-1 autocorrelation of a map (dB values: grain coarse = high), mean of the row and
    column directions."""
    a = db.astype(np.float64)
    maps = []
    for axis in (0, 1):
        x = np.moveaxis(a, axis, 0)
        u, v = x[:-1], x[1:]
        mu, mv = local_mean(u, w), local_mean(v, w)
        cov = local_mean(u * v, w) - mu * mv
        vu = np.maximum(local_mean(u * u, w) - mu**2, 0.0)
        vv = np.maximum(local_mean(v * v, w) - mv**2, 0.0)
        corr = cov / np.maximum(np.sqrt(vu * vv), 1e-12)
        corr = np.concatenate([corr, corr[-1:]], axis=0)
        maps.append(np.moveaxis(corr, 0, axis))
    return (maps[0] + maps[1]) / 2
