"""Land-cover class schemes: IGBP as stored in SEN12MS, and the simplified DFC2020 scheme the paper uses.

SEN12MS stores the MODIS IGBP class (1..17) in the first band of each ``lc`` tile. The paper and the
DFC2020 contest fold those 17 classes into 10; the paper keeps 7 of them (Savanna, Wetlands and
Snow/Ice are left out because too few pure tiles exist).
"""

from __future__ import annotations

import numpy as np

#: IGBP value (index 0..17) -> DFC2020 class (1..10); index 0 is not an IGBP class and maps to 0.
IGBP_TO_DFC2020 = np.array([0, 1, 1, 1, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 6, 8, 9, 10], dtype=np.uint8)

#: DFC2020 class number -> name.
DFC2020_NAMES: dict[int, str] = {
    1: "Forest",
    2: "Shrubland",
    3: "Savanna",
    4: "Grassland",
    5: "Wetlands",
    6: "Croplands",
    7: "Urban",
    8: "SnowIce",
    9: "Barren",
    10: "Water",
}
DFC2020_CODES: dict[str, int] = {name: code for code, name in DFC2020_NAMES.items()}

#: Class names in DFC2020 code order (1..10): the order of per-class pixel counts.
CLASS_ORDER: tuple[str, ...] = tuple(DFC2020_NAMES.values())
#: Inventory column holding a tile's pixel count of each class, in :data:`CLASS_ORDER`.
COUNT_COLUMNS: tuple[str, ...] = tuple(f"n_{name}" for name in CLASS_ORDER)

#: The seven classes of the paper, in the order its figures use.
PAPER_CLASSES: tuple[str, ...] = ("Barren", "Croplands", "Forest", "Grassland", "Shrubland", "Urban", "Water")


def igbp_to_dfc2020(igbp: np.ndarray) -> np.ndarray:
    """Map an IGBP raster (values 1..17) to DFC2020 codes (1..10).

    Raises ``ValueError`` naming the offending values when any pixel lies outside 1..17: SEN12MS
    has no nodata value in its IGBP band, so such a value means a corrupt or foreign file.
    """
    igbp = np.asarray(igbp)
    bad = (igbp < 1) | (igbp > 17)
    if bad.any():
        values = sorted({int(v) for v in np.unique(igbp[bad])})
        raise ValueError(f"IGBP values outside 1..17: {values[:10]}")
    return IGBP_TO_DFC2020[igbp.astype(np.intp)]


def class_code(name: str) -> int:
    """DFC2020 code of a class name, with an error that lists the valid names."""
    try:
        return DFC2020_CODES[name]
    except KeyError:
        raise ValueError(f"unknown land-cover class {name!r}; choose from {sorted(DFC2020_CODES)}") from None


def majority_classes(counts: np.ndarray) -> list[str]:
    """The majority class of each row of ``counts`` (N, 10): pixels per DFC2020 class in code order.

    The paper labels a tile with the mode of its land-cover map (Section 4.4); this is the one place
    the rule is written. A tie goes to the lowest DFC2020 code (Forest 1 < Shrubland 2 < ... < Water
    10), which is what ``argmax`` gives (it returns the first maximum). An empty ``counts`` gives ``[]``.
    """
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[1] != len(CLASS_ORDER):
        raise ValueError(f"counts must be (N, {len(CLASS_ORDER)}) per-class pixel counts, got shape {counts.shape}")
    return [CLASS_ORDER[i] for i in counts.argmax(axis=1)] if len(counts) else []
