"""Fill methods by name: the one registry that ``sardip inpaint --method``, the workflow's
``audit.methods`` list and the tests share.

``dip`` is the Deep Image Prior (:mod:`sardip.dip`, configured by a preset and run by
:func:`sardip.inpaint.inpaint_file`); the others are classic fills (:mod:`sardip.fill.classic`) that run
in well under a second per tile. Any method can be followed by speckle-consistent filling
(:mod:`sardip.speckle`); a workflow method name ending in ``+speckle`` asks for that. :func:`paste_db`
and :func:`paste` are the one way a fill enters the hole, with or without speckle.

No exemplar (patch-based) method is registered: no maintained Python library qualifies here.
OpenCV's shift-map and FSR inpainting live in ``cv2.xphoto``, which only the *contrib* wheels
ship (they install the same ``cv2`` module as ``opencv-python-headless`` and cannot sit beside it);
``pyinpaint`` and ``inpaint`` on PyPI are small unmaintained projects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sardip.fill import classic
from sardip.geotiff import Raster, from_db
from sardip.grain import GRAIN, GrainModel
from sardip.masks import ring_mask
from sardip.speckle import SpeckleParams, params_tag, speckle_fill

#: Suffix of a method name asking for speckle-consistent filling after the fill.
SPECKLE_SUFFIX = "+speckle"


class FillError(ValueError):
    """An unknown method name, or input a fill cannot use."""


@dataclass(frozen=True)
class FillMethod:
    """A named fill. ``band_fill(db, unknown, ring)`` fills one dB band (None for ``dip``, which
    :func:`sardip.inpaint.inpaint_file` runs through the engine)."""

    name: str
    description: str
    band_fill: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None

    @property
    def is_dip(self) -> bool:
        return self.band_fill is None


def _ignore_ring(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable:
    return lambda db, unknown, ring: fn(db, unknown)


#: Name -> method, in the order tables list them.
METHODS: dict[str, FillMethod] = {
    m.name: m
    for m in (
        FillMethod("dip", "Deep Image Prior (preset-driven)", None),
        FillMethod("gdal", "GDAL FillNodata, inverse-distance weighting", _ignore_ring(classic.fill_gdal)),
        FillMethod("biharmonic", "biharmonic inpainting (scikit-image)", _ignore_ring(classic.fill_biharmonic)),
        FillMethod("telea", "OpenCV Telea fast marching", _ignore_ring(classic.fill_telea)),
        FillMethod("navier-stokes", "OpenCV Navier-Stokes", _ignore_ring(classic.fill_navier_stokes)),
        FillMethod("constant", "ring mean (obvious-fail reference)", classic.fill_constant),
    )
}


def get_method(name: str) -> FillMethod:
    """The method called ``name``; :class:`FillError` naming the choices otherwise."""
    try:
        return METHODS[name]
    except KeyError:
        raise FillError(f"unknown fill method {name!r}; choose from {list(METHODS)}") from None


def parse_variant(name: str) -> tuple[FillMethod, bool]:
    """``"gdal"`` -> (gdal, False); ``"gdal+speckle"`` -> (gdal, True)."""
    speckle = name.endswith(SPECKLE_SUFFIX)
    return get_method(name.removesuffix(SPECKLE_SUFFIX)), speckle


def classic_fill(name: str, image_db: np.ndarray, hidden: np.ndarray, *, everywhere: bool = False) -> np.ndarray:
    """Fill ``hidden`` (H, W) bool in ``image_db`` (C, H, W) dB with classic method ``name``.

    NaN pixels are treated as unknown while filling and, unless ``everywhere``, stay NaN in the output
    (a tile's nodata); with ``everywhere`` every hidden pixel gets a value (a scene replaces every
    hidden pixel that holds data, one without a dB value too, such as negative sigma0). Outside
    ``hidden`` the output is ``image_db`` (float32). The ring for ``constant`` is
    :func:`sardip.masks.ring_mask`.
    """
    method = get_method(name)
    if method.band_fill is None:
        raise FillError(f"{name!r} is not a classic fill; run it with sardip.inpaint.inpaint_file")
    image_db = np.asarray(image_db, dtype=np.float32)
    hidden = np.asarray(hidden, dtype=bool)
    if image_db.ndim != 3 or hidden.shape != image_db.shape[1:]:
        raise FillError(f"image {image_db.shape} and hidden {hidden.shape} do not match")
    out = image_db.copy()
    for band, db in enumerate(image_db):
        valid = np.isfinite(db)
        if not (valid & ~hidden).any():
            raise FillError(f"band {band} has no known pixel to fill from")
        filled = method.band_fill(db, hidden | ~valid, ring_mask(hidden, valid))
        out[band] = np.where(hidden & (valid | everywhere), filled, db)
    return out


def with_placeholders(image_db: np.ndarray, hidden: np.ndarray, present: np.ndarray) -> np.ndarray:
    """``image_db`` (C, H, W) with 0 dB at the ``hidden`` (H, W) pixels that hold data (``present``,
    C, H, W) but have no dB value (0 or below in linear units). The engine keeps NaN where its input is
    NaN, and a hidden pixel's value never enters the fit: a finite value there asks for the network's
    output at a pixel that must be replaced."""
    image_db = np.asarray(image_db, dtype=np.float32)
    return np.where(np.asarray(hidden, bool)[None] & present & np.isnan(image_db), np.float32(0.0), image_db)


@dataclass
class Pasted:
    """A fill in the hole: ``db`` (C, H, W) float32 dB, the image outside ``hidden`` and the fill inside
    it; ``speckle`` the speckle parameters per band (empty when no speckle was added)."""

    db: np.ndarray
    speckle: list[SpeckleParams] = field(default_factory=list)
    grain: GrainModel = GRAIN

    def speckle_tag(self, bands: tuple[str, ...]) -> str:
        """The speckle parameters and the grain model's hash as the ``speckle_params`` tag (empty
        without speckle)."""
        return params_tag(self.speckle, bands, self.grain) if self.speckle else ""


def paste_db(
    image_db: np.ndarray, fill_db: np.ndarray, hidden: np.ndarray, *, speckle: bool, seed: int,
    grain: GrainModel = GRAIN,
) -> Pasted:  # fmt: skip
    """``image_db`` (C, H, W) dB with the hidden area (H, W) taken from ``fill_db`` (C, H, W) dB.

    With ``speckle``, the fill becomes the hole's background and gets new grain seeded by ``seed``
    under the grain model ``grain`` (:func:`sardip.speckle.speckle_fill`). Outside the hole the values
    are ``image_db``'s.
    """
    image_db = np.asarray(image_db, dtype=np.float32)
    if speckle:
        db, params = speckle_fill(image_db, fill_db, hidden, seed, grain=grain)
        return Pasted(db, params, grain)
    return Pasted(np.where(np.asarray(hidden, dtype=bool), np.asarray(fill_db, dtype=np.float32), image_db))


def paste(
    raster: Raster, fill_db: np.ndarray, hidden: np.ndarray, *, speckle: bool, seed: int, grain: GrainModel = GRAIN
) -> tuple[np.ndarray, Pasted]:
    """:func:`paste_db` on a raster: returns the result in the raster's own units (linear power stays
    linear) with every pixel outside the hole the raster's value bit for bit, every hidden pixel that
    holds data (a non-positive one too) the fill's, a hidden nodata pixel nodata, and the dB paste."""
    pasted = paste_db(raster.db(), fill_db, hidden, speckle=speckle, seed=seed, grain=grain)
    inside = from_db(pasted.db, raster.units).astype(np.float32)
    replace = np.asarray(hidden, dtype=bool)[None] & raster.present()
    return np.where(replace, inside, raster.data), pasted
