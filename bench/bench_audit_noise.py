"""How noisy is the audit on the demo's small holes? The verdict of a perfect fill, per class.

On every demo tile of the seven paper classes (5 scenes x 9 patches, 64 px, release hole scaled to
16 px), the hole is refilled with the generator's own truth: the scene's noise-free reflectivity
times a fresh draw of its correlated multilook speckle. Perfect inside the hole, but the fresh draw
does not continue the real speckle across the hole's edge, which the ``seam`` detector finds; the
table gives every detector's class-mean excess, so the others can be read as the audit's noise floor,
with the share of single tiles that meet every target and the class means the workflow judges
(:func:`sardip.audit.stage.class_means`). Writes ``bench/results/audit_noise.{md,json}``.

Run it again whenever a detector or a target changes: that a perfect fill fails on single tiles but
passes on class means is why the workflow judges a class on its means (``sardip.audit.stage``), and
the other detectors' excess here is the floor below which a fill's excess says nothing.

    python bench/bench_audit_noise.py
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
from common import write_results

from sardip.audit import DETECTORS, audit, verdict
from sardip.audit.stage import class_means
from sardip.demo import DEMO_SCENES, correlated_speckle, patch_grid, render_scene, scene_layers
from sardip.masks import release_box

#: The demo generator's defaults (config/config.yaml): 64 px tiles, 3 x 3 patches per scene.
TILE, PATCHES, LOOKS, CORR = 64, 3, 4, 0.8
CLASS_OF = {"barren": "Barren", "croplands": "Croplands", "forest": "Forest", "grassland": "Grassland",
            "shrubland": "Shrubland", "urban": "Urban", "water": "Water"}  # fmt: skip


def perfect_fill_verdicts() -> pd.DataFrame:
    """One verdict row per tile and band of the perfect fill."""
    hidden = release_box((TILE, TILE))
    stride, size = TILE // 2, TILE // 2 * (PATCHES + 1)
    rows = []
    for scene in DEMO_SCENES:
        if scene.landscape not in CLASS_OF:
            continue
        _, reflectivity, _ = scene_layers(scene, size, 0, LOOKS, CORR)
        _, image = render_scene(scene, size, 0, LOOKS, CORR)  # the demo data itself, as written
        fresh = np.random.default_rng(scene.scene)
        for patch, r, c in patch_grid(PATCHES):
            window = np.s_[:, r * stride : r * stride + TILE, c * stride : c * stride + TILE]
            original, truth = image[window], reflectivity[window]
            refill = truth + 10 * np.log10(correlated_speckle(fresh, truth.shape, LOOKS, CORR))
            result = np.where(hidden, refill, original)
            tile = f"{scene.season}_{scene.scene}_p{patch}"
            rows.append(
                verdict(audit(original, result, hidden)).assign(tile_id=tile, land_cover=CLASS_OF[scene.landscape])
            )
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    checks = perfect_fill_verdicts()
    table = class_means(checks, ["land_cover"]).reset_index()
    per_target = checks.groupby("land_cover")[["ok_auc", "ok_enl", "ok_epi", "ok_correlation"]].mean()
    table = table.join(per_target, on="land_cover")
    lines = ["# Audit noise floor: a perfect fill on the demo tiles", "",
             "Hole refilled with the generator's noise-free reflectivity times fresh speckle of its own law "
             "(`python bench/bench_audit_noise.py`). `pass_share`: single (tile, band) pairs meeting every target; "
             "`ok_*`: the same per target; the other columns are class means (what the workflow judges).", "",
             "A fresh draw does not continue the real speckle across the hole's edge: `seam` finds that "
             "(its column); the other detectors' excesses are the audit's noise floor.", "",
             f"| class | tiles | auc excess | {' | '.join(DETECTORS)} | ENL factor | EPI | corr | pass_share | ok_auc "
             "| ok_enl | meets_targets |", "|---" * (10 + len(DETECTORS)) + "|"]  # fmt: skip
    for row in table.itertuples():
        excess = " | ".join(f"{getattr(row, f'excess_{name}'):.3f}" for name in DETECTORS)
        lines.append(
            f"| {row.land_cover} | {row.n} | {row.auc_excess:.3f} | {excess} | {row.enl_ratio_factor:.2f}"
            f" | {row.epi_hole:.2f} | {row.hole_correlation:.2f} | {row.pass_share:.2f} | {row.ok_auc:.2f}"
            f" | {row.ok_enl:.2f} | {row.meets_targets} |"
        )
    write_results("audit_noise", "\n".join(lines) + "\n", {"rows": json.loads(table.to_json(orient="records"))})
    print("\n".join(lines))


if __name__ == "__main__":
    main()
