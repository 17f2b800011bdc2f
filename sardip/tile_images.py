"""The two images of a DIP tile that the paper's measurements compare with the original.

The paper evaluates "the DIP generated samples against their pristine counterpart" (Section 4.3): the
network output ``f(Z)`` over the whole tile. That is why its NIA SSIM is below 1 (the network only
approximates the known pixels) and why a classifier can lose Water entirely (the whole tile is
regenerated). A data provider ships something else: the composite, the original with only the hidden
area S replaced, whose NIA is 1 by construction. Metrics and classifiers measure both, and every table
and figure says which one it shows.
"""

from __future__ import annotations

import pandas as pd

#: Image name -> its file in ``results/dip/<tile>/`` (written by :func:`sardip.inpaint.inpaint_file`).
TILE_FILES: dict[str, str] = {"generated": "raw.tif", "published": "inpainted.tif"}
#: The image names, the paper's first.
IMAGES: tuple[str, ...] = tuple(TILE_FILES)
#: Image name -> how figures and tables name it.
LABELS: dict[str, str] = {
    "generated": "DIP-generated tile f(Z) (the paper's measure)",
    "published": "published composite (original outside S)",
}


def check_image(image: str) -> str:
    """``image`` when it is one of :data:`IMAGES`, else ``ValueError`` naming the choices."""
    if image not in TILE_FILES:
        raise ValueError(f"image {image!r}: expected one of {', '.join(IMAGES)}")
    return image


def other_images(table: pd.DataFrame, image: str) -> list[str]:
    """The images other than ``image`` (checked with :func:`check_image`) that ``table`` holds rows of, by
    its ``image`` column (none without one): what a figure of one image must not be given."""
    check_image(image)
    return sorted(set(table["image"]) - {image}) if "image" in table.columns else []
