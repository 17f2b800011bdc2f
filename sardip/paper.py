"""The paper's reported values (Section 4.3-4.4, Figs. 14-23) and whether a run of the workflow finds the same.

Figures draw the values beside ours; :func:`findings` states each finding as a check on the workflow's
tables, for each image of the DIP tiles (:mod:`sardip.tile_images`), so a run says which findings hold
on its data and which do not. A finding about classes is judged on the classes that have tiles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from sardip.tile_images import IMAGES

#: Fig. 14: "almost all classes above 0.85" (SSIM and MS-SSIM, NIA and FI).
SSIM_FLOOR = 0.85
#: Share of (class, band) values at or above :data:`SSIM_FLOOR` that "almost all" is read as here.
ALMOST_ALL = 0.8
#: Fig. 17: relative |delta ENL| in FI between 0.5 % and 2.5 %.
ENL_FI_BAND = (0.5, 2.5)
#: Fig. 18: EPI about 0.7 in every class; "about" is read as within this distance.
EPI = 0.7
EPI_TOLERANCE = 0.1
#: Figs. 22-23, ResNet50 confusion diagonal (%): class -> (originals, DIP-generated tiles).
RESNET50_DIAGONAL: dict[str, tuple[float, float]] = {
    "Forest": (95.5, 93.75),
    "Shrubland": (37.0, 26.0),
    "Grassland": (70.75, 66.75),
    "Croplands": (73.75, 68.25),
    "Urban": (98.25, 97.5),
    "Barren": (82.5, 71.5),
    "Water": (97.5, 5.0),
}
#: Columns of the :func:`findings` table.
COLUMNS: tuple[str, ...] = ("figure", "paper", "measure", "image", "ours", "holds")

#: A finding: (figure, the paper's words, how it is measured, check(per_class of one image) -> (ours, holds)).
Finding = tuple[str, str, str, Callable[[pd.DataFrame], tuple[str, bool | None]]]


def _values(per_class: pd.DataFrame, metric: str, scenario: str) -> pd.Series:
    """Class-mean ``metric`` in ``scenario``, indexed by (land_cover, band), classes with tiles only."""
    rows = per_class[(per_class["metric"] == metric) & (per_class["scenario"] == scenario) & (per_class["n"] > 0)]
    return rows.set_index(["land_cover", "band"])["mean"].astype(float).dropna()


def _nia_below_one(per_class: pd.DataFrame) -> tuple[str, bool | None]:
    nia = _values(per_class, "ssim", "NIA")
    return (f"highest class mean {nia.max():.4f}", bool(nia.max() < 1 - 1e-6)) if len(nia) else ("no tiles", None)


def _nia_above_fi(per_class: pd.DataFrame) -> tuple[str, bool | None]:
    nia, fi = _values(per_class, "ssim", "NIA"), _values(per_class, "ssim", "FI")
    both = nia.index.intersection(fi.index)
    if not len(both):
        return "no tiles", None
    above = int((nia[both] > fi[both]).sum())
    gap = float((nia[both] - fi[both]).mean())
    return f"{above} of {len(both)} class-bands, mean gap {gap:+.3f}", above == len(both)


def _above_floor(per_class: pd.DataFrame) -> tuple[str, bool | None]:
    values = pd.concat([_values(per_class, m, s) for m in ("ssim", "ms_ssim") for s in ("NIA", "FI")])
    if not len(values):
        return "no tiles", None
    share = float((values >= SSIM_FLOOR).mean())
    return f"{share:.0%} of class-band values >= {SSIM_FLOOR}", share >= ALMOST_ALL


def _water_lowest(per_class: pd.DataFrame) -> tuple[str, bool | None]:
    fi = _values(per_class, "ssim", "FI").groupby(level="land_cover").mean().sort_values()
    if len(fi) < 2 or "Water" not in fi.index:
        return "fewer than two classes, or no Water tile", None
    order = ", ".join(f"{c} {v:.3f}" for c, v in fi.head(3).items())
    return f"lowest: {order}", fi.index[0] == "Water"


def _enl_change(per_class: pd.DataFrame) -> tuple[str, bool | None]:
    change = 100 * _values(per_class, "enl_rel_change", "FI").abs()
    if not len(change):
        return "no tiles", None
    low, high = ENL_FI_BAND
    inside = int(change.between(low, high).sum())
    return (f"{inside} of {len(change)} class-bands in {low}-{high} %, median {change.median():.2f} %",
            inside == len(change))  # fmt: skip


def _epi(scenario: str) -> Callable[[pd.DataFrame], tuple[str, bool | None]]:
    def check(per_class: pd.DataFrame) -> tuple[str, bool | None]:
        epi = _values(per_class, "epi", scenario)
        if not len(epi):
            return "no tiles", None
        mean = float(epi.mean())
        return f"mean {mean:.3f} (class-bands {epi.min():.3f}-{epi.max():.3f})", abs(mean - EPI) <= EPI_TOLERANCE

    return check


#: The paper's findings about the metrics (Figs. 14-18).
METRIC_FINDINGS: tuple[Finding, ...] = (
    ("Fig. 14", "NIA SSIM below 1: the known pixels are approximated", "max class-mean NIA SSIM", _nia_below_one),
    ("Fig. 14", "NIA > FI, but close", "class-bands with NIA SSIM > FI SSIM", _nia_above_fi),
    ("Fig. 14", f"almost all classes above {SSIM_FLOOR}", "SSIM and MS-SSIM, NIA and FI", _above_floor),
    ("Fig. 14", "Water lowest", "class with the lowest FI SSIM (mean of VV, VH)", _water_lowest),
    ("Figs. 15-17", "FI relative change of ENL within 0.5-2.5 %", "class-mean abs(enl_rel_change), FI", _enl_change),
    ("Fig. 18", "EPI about 0.7, OIA", f"mean class-band EPI within {EPI} +- {EPI_TOLERANCE}", _epi("OIA")),
    ("Fig. 18", "EPI about 0.7, FI", f"mean class-band EPI within {EPI} +- {EPI_TOLERANCE}", _epi("FI")),
)  # fmt: skip


def _accuracy_findings(model: str, table: pd.DataFrame) -> list[tuple[str, str, str, str, bool | None]]:
    """(figure, paper, measure, ours, holds) of one model's accuracy table of one image."""
    rows = table[table["n_tiles"] > 0].set_index("class")
    if rows.empty:
        return [("Figs. 20-21", "accuracy drops on DIP tiles", model, "no tiles", None)]
    drop = rows["acc_original"] - rows["acc_result"]
    out = [("Figs. 20-21", "accuracy drops on DIP tiles", f"{model}: mean over classes of original - DIP",
            f"{drop.mean():+.1f} points ({len(rows)} classes)", bool(drop.mean() > 0))]  # fmt: skip
    if model == "ResNet50" and "Water" in rows.index and len(rows) > 1:
        largest = rows["abs_delta"].idxmax()
        water = rows.loc["Water"]
        ours = (f"{largest} ({rows.loc[largest, 'abs_delta']:.1f} points); "
                f"Water {water['acc_original']:.1f} -> {water['acc_result']:.1f} %")  # fmt: skip
        out.append(("Figs. 22-23", "ResNet50: Water's accuracy falls most (97.5 -> 5.0 %)",
                    "class with the largest absolute change", ours, largest == "Water"))  # fmt: skip
    return out


def findings(per_class: pd.DataFrame, accuracy: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Each finding of the paper, per image, as it holds (True), does not (False) or cannot be judged
    (no value) on a run's tables.

    ``per_class``: :func:`sardip.metrics.summarise` of a run (with its ``image`` column); ``accuracy``:
    model display name -> :func:`sardip.classify.evaluate.evaluate_from_tables` accuracy table.
    Columns :data:`COLUMNS`; ``ours`` says what was measured, in words and figures.
    """
    by_image = {image: per_class[per_class["image"] == image] for image in IMAGES}
    rows = []
    for figure, paper, measure, check in METRIC_FINDINGS:
        for image, table in by_image.items():
            rows.append((figure, paper, measure, image, *check(table)))
    for model, frame in accuracy.items():
        found = {image: _accuracy_findings(model, frame[frame["image"] == image]) for image in IMAGES}
        for k in range(max(len(f) for f in found.values())):
            rows.extend((*f[k][:3], image, *f[k][3:]) for image, f in found.items() if k < len(f))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["holds"] = frame["holds"].map({True: "yes", False: "no"}).fillna("n/a")
    return frame
