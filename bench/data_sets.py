"""The images the audit studies score, and the DIP fits ``bench_credible.py fit`` saved for them.

Three data sets, each ``(tile ids, classes, images (N, 2, H, W) dB, hidden (H, W))``, so that the
studies that choose a default (the ``credible`` preset, its class-free activation, the learned
detector's held-out score) judge it on the same pixels:

``real``
    The SEN12MS tile of ``tests/data`` (256 px) with the authors' release hole (rows 92-155,
    cols 179-242), class Forest for the paper activation.
``demo``
    Six 64 px tiles per paper class of the workflow's demo data (release hole scaled to 16 px).
``opera``
    The two OPERA RTC-S1 crops of ``tests/data`` (100 px at 30 m, another SAR processor; hole
    25 px): no constant of :mod:`sardip.speckle` was chosen on them.
"""

from __future__ import annotations

import numpy as np
from common import ROOT, SCRATCH

from sardip.classes import PAPER_CLASSES
from sardip.demo import DEMO_SCENES, patch_grid, render_scene
from sardip.geotiff import read_raster
from sardip.masks import release_box

REAL_TILE = ROOT / "tests" / "data" / "sen12ms_real" / "ROIs1158_spring_s1_1_p30.tif"
REAL_CLASS = "Forest"
#: Demo landscape drawn for each paper class, and the demo generator's defaults (config/config.yaml).
DEMO_LANDSCAPE = {c: c.lower() for c in PAPER_CLASSES}
DEMO_SIZE, DEMO_LOOKS, DEMO_CORR = 64, 4, 0.8
#: Two opposite corner patches of a 3 x 3 grid: no overlap between a scene's two tiles.
DEMO_PATCHES = (1, 9)
OPERA_DIR = ROOT / "tests" / "data" / "opera_rtc"
#: OPERA RTC-S1 carries no land cover; the crops' area (EPSG:32611, the dry western US) is mostly
#: shrubland, so the paper activation of that class is used.
OPERA_CLASS = "Shrubland"
#: Where ``bench_credible.py fit`` saves each set's DIP snapshots, ``<set>_<preset>.npz``.
FITS = SCRATCH / "bench_credible"
#: The network presets whose fits are saved (``credible`` is ``paper`` with speckle added afterwards).
FITTED_PRESETS = ("paper", "authors-release")


def real_set() -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """(tile ids, classes, images (1, 2, 256, 256) dB, hidden (256, 256)) of the real SEN12MS tile."""
    image = read_raster(REAL_TILE).db()
    return [REAL_TILE.stem], [REAL_CLASS], image[None], release_box(image.shape[1:])


def demo_set() -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Six 64 px tiles per paper class: patches 1 and 9 of each of the class's first three demo scenes.
    One tile per class is not enough: on a 16 px hole even a perfect fill's detector AUCs spread by
    several hundredths from tile to tile."""
    ids, classes, images = [], [], []
    grid = {p: (r, c) for p, r, c in patch_grid(3)}
    for cls in PAPER_CLASSES:
        scenes = [s for s in DEMO_SCENES if s.landscape == DEMO_LANDSCAPE[cls]][:3]
        for scene in scenes:
            _, db = render_scene(scene, 2 * DEMO_SIZE, 0, DEMO_LOOKS, DEMO_CORR)
            for patch in DEMO_PATCHES:
                r, c = (k * DEMO_SIZE // 2 for k in grid[patch])
                ids.append(f"{scene.season}_s1_{scene.scene}_p{patch}_demo")
                classes.append(cls)
                images.append(db[:, r : r + DEMO_SIZE, c : c + DEMO_SIZE])
    return ids, classes, np.stack(images), release_box((DEMO_SIZE, DEMO_SIZE))


def opera_set() -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """The two OPERA RTC-S1 crops (100 px, 30 m), VV and VH stacked in dB, with the release hole scaled to 25 px."""
    ids, images = [], []
    for date in sorted(p for p in OPERA_DIR.iterdir() if p.is_dir()):
        files = [next(date.glob(f"*_{pol}.tif")) for pol in ("VV", "VH")]
        ids.append(f"opera_{date.name}")
        images.append(read_raster(files).db())
    return ids, [OPERA_CLASS] * len(ids), np.stack(images), release_box(images[0].shape[1:])


SETS = {"real": real_set, "demo": demo_set, "opera": opera_set}


def saved_fits(set_name: str) -> dict[str, np.lib.npyio.NpzFile]:
    """Network preset -> the saved snapshots of ``set_name``, for the presets fitted so far."""
    paths = {p: FITS / f"{set_name}_{p}.npz" for p in FITTED_PRESETS}
    return {p: np.load(path) for p, path in paths.items() if path.exists()}
