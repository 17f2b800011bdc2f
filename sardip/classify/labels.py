"""Tile labels for the classifiers: the most frequent DFC2020 class of a tile's land-cover map.

The paper labels a tile with the mode of its IGBP map folded into the DFC2020 scheme (Section 4.4):
:func:`sardip.classes.majority_classes`, the rule the tile selection applies too, on per-class pixel
counts (ties go to the lowest DFC2020 code). The inventory counts only *valid* pixels (both S1 bands
finite); :func:`tile_label` takes the same mask, so a label computed from the rasters and the
inventory's ``majority_class`` always agree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sardip.classes import CLASS_ORDER, COUNT_COLUMNS, igbp_to_dfc2020, majority_classes
from sardip.sen12ms import read_lc_igbp, read_s1


def tile_label(igbp: np.ndarray, valid: np.ndarray | None = None) -> str:
    """DFC2020 class name of the mode of an IGBP map ``(H, W)``, over the ``valid`` pixels when given.

    Ties go to the lowest DFC2020 code (see the module docstring). ``ValueError`` when no pixel is
    valid, or when a value lies outside IGBP 1..17.
    """
    dfc = igbp_to_dfc2020(igbp)
    if valid is not None:
        if valid.shape != dfc.shape:
            raise ValueError(f"valid mask has shape {valid.shape}, the IGBP map {dfc.shape}")
        dfc = dfc[valid]
    if dfc.size == 0:
        raise ValueError("tile_label: no valid pixel to take the mode of")
    counts = np.bincount(dfc.ravel(), minlength=len(CLASS_ORDER) + 1)[1:]
    return majority_classes(counts[None])[0]


def label_from_files(lc_path: str | Path, s1_path: str | Path | None = None) -> str:
    """Label of a tile from its LC file; with its S1 file, over the pixels where both bands are finite.

    Pass ``s1_path`` to reproduce the inventory's ``majority_class`` exactly.
    """
    valid = None
    shape = None
    if s1_path is not None:
        s1 = read_s1(s1_path)
        valid = np.isfinite(s1).all(axis=0)
        shape = valid.shape
    igbp = read_lc_igbp(lc_path, shape)
    try:
        return tile_label(igbp, valid)
    except ValueError as err:
        raise ValueError(f"{lc_path}: {err}") from None


def labels_from_inventory(inventory: pd.DataFrame) -> pd.Series:
    """Label of every inventory row (indexed like it): argmax of the ``n_<Class>`` counts, lowest code on ties.

    Recomputed from the counts with :func:`sardip.classes.majority_classes`, the rule that gave the
    inventory's ``majority_class``, so both agree by construction.
    """
    missing = [c for c in COUNT_COLUMNS if c not in inventory.columns]
    if missing:
        raise ValueError(f"inventory lacks count columns {missing}")
    labels = majority_classes(inventory[list(COUNT_COLUMNS)].to_numpy())
    return pd.Series(labels, index=inventory.index, name="label", dtype=object)
