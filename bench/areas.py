"""Hidden areas for the scene benchmarks: squares of given pixel positions written as a GeoPackage,
the form a user hands ``sardip anonymise``."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_boxes(path: Path, boxes: list[tuple[int, int, int]], transform, crs: str) -> Path:
    """Square polygons (row, col, side in px of the raster ``transform``) in a GeoPackage, in ``crs``."""
    import pyogrio.raw
    import shapely

    polygons = []
    for r, c, side in boxes:
        corners = [transform * (c + dx, r + dy) for dx, dy in ((0, 0), (side, 0), (side, side), (0, side))]
        polygons.append(shapely.Polygon(corners))
    names = np.array([f"area {k + 1}" for k in range(len(boxes))], dtype=object)
    path.unlink(missing_ok=True)
    pyogrio.raw.write(path, geometry=shapely.to_wkb(polygons), field_data=[names], fields=["name"],
                      geometry_type="Polygon", crs=crs, layer="areas", driver="GPKG")  # fmt: skip
    return path
