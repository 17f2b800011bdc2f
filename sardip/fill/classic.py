"""Classic (non-learnt) fills of a hidden area, per band, on dB values.

Every function takes one band ``db`` (H, W) float dB with NaN = nodata and ``unknown`` (H, W) bool
(True = to fill: the hidden area and every NaN pixel) and returns a finite (H, W) float32 dB band whose
known pixels equal the input. Filling in dB keeps the meaning of the values (speckle is additive
there) and matches what the DIP fits.
"""

from __future__ import annotations

import cv2
import numpy as np
from rasterio.fill import fillnodata
from skimage.restoration import inpaint_biharmonic

#: Neighbourhood radius (px) of OpenCV's inpainting (its documented default is 3).
CV2_RADIUS = 3


def _seeded(db: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """float32 copy with unknown pixels set to the known median (algorithms that read them need a value)."""
    known = ~unknown
    return np.where(known, db, np.median(db[known])).astype(np.float32)


def fill_gdal(db: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """GDAL ``FillNodata`` (``rasterio.fill.fillnodata``): inverse-distance weighting of the known
    pixels found by searching in all directions up to the tile size, no smoothing passes."""
    search = float(max(db.shape))
    return fillnodata(_seeded(db, unknown), mask=(~unknown).astype(np.uint8), max_search_distance=search,
                      smoothing_iterations=0).astype(np.float32)  # fmt: skip


def fill_biharmonic(db: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """Biharmonic inpainting (``skimage.restoration.inpaint_biharmonic``): the smooth surface with
    ``laplacian^2 u = 0`` in the hole that meets the known pixels."""
    return inpaint_biharmonic(_seeded(db, unknown).astype(np.float64), unknown).astype(np.float32)


def _cv2(db: np.ndarray, unknown: np.ndarray, flag: int) -> np.ndarray:
    # cv2.inpaint accepts 32-bit float 1-channel images: dB values are filled as they are, unquantised.
    return cv2.inpaint(_seeded(db, unknown), unknown.astype(np.uint8), CV2_RADIUS, flag)


def fill_telea(db: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """OpenCV ``INPAINT_TELEA``: fast marching from the border, each pixel a weighted mean of its known
    neighbourhood (radius ``CV2_RADIUS``), on float32 dB."""
    return _cv2(db, unknown, cv2.INPAINT_TELEA)


def fill_navier_stokes(db: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """OpenCV ``INPAINT_NS``: isophotes continued into the hole (Navier-Stokes analogy), on float32 dB."""
    return _cv2(db, unknown, cv2.INPAINT_NS)


def fill_constant(db: np.ndarray, unknown: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """The mean dB of the ``ring`` pixels everywhere unknown: the obvious-fail reference."""
    return np.where(unknown, np.mean(db[ring]), db).astype(np.float32)
