"""The paper's findings as checks on a run's tables: each holds, fails or cannot be judged as stated."""

from __future__ import annotations

import pandas as pd

from sardip.classify.evaluate import accuracy_per_class
from sardip.paper import COLUMNS, findings

CLASSES = ("Forest", "Urban", "Water")


def per_class(
    nia: dict[str, float], fi: dict[str, float], image: str, epi: float = 0.7, enl: float = 0.01
) -> pd.DataFrame:
    """A summarise()-shaped table: per class and band, SSIM and MS-SSIM in NIA and FI, EPI, ENL change."""
    rows = []
    for land_cover in CLASSES:
        for band in ("VV", "VH"):
            values = {("ssim", "NIA"): nia[land_cover], ("ssim", "FI"): fi[land_cover],
                      ("ms_ssim", "NIA"): nia[land_cover], ("ms_ssim", "FI"): fi[land_cover],
                      ("epi", "OIA"): epi, ("epi", "FI"): epi, ("enl_rel_change", "FI"): enl}  # fmt: skip
            for (metric, scenario), mean in values.items():
                rows.append({"image": image, "land_cover": land_cover, "band": band, "scenario": scenario,
                             "metric": metric, "mean": mean, "std": 0.0, "n": 2})  # fmt: skip
    return pd.DataFrame(rows)


def accuracy(water_after: str) -> pd.DataFrame:
    """Accuracy tables of both images: the generated tiles lose Water to ``water_after``, the published keep all."""
    true = ["Forest", "Urban", "Water", "Water"]
    generated = accuracy_per_class(true, true, ["Forest", "Urban", water_after, water_after]).assign(image="generated")
    published = accuracy_per_class(true, true, true).assign(image="published")
    return pd.concat([generated, published], ignore_index=True)


def holds(table: pd.DataFrame, image: str, words: str) -> str:
    row = table[(table["image"] == image) & table["paper"].str.contains(words, regex=False)]
    assert len(row) == 1, (image, words)
    return row["holds"].iloc[0]


def test_the_paper_findings_hold_for_the_generated_image_and_nia_is_one_for_the_published() -> None:
    generated = per_class({"Forest": 0.95, "Urban": 0.93, "Water": 0.88}, {"Forest": 0.93, "Urban": 0.9, "Water": 0.86},
                          "generated")  # fmt: skip
    published = per_class({c: 1.0 for c in CLASSES}, {"Forest": 0.99, "Urban": 0.98, "Water": 0.97}, "published",
                          epi=0.97, enl=0.002)  # fmt: skip
    table = findings(pd.concat([generated, published]), {"ResNet50": accuracy("Grassland")})
    assert list(table.columns) == list(COLUMNS)
    for words in ("NIA SSIM below 1", "NIA > FI", "almost all classes", "Water lowest", "change of ENL",
                  "EPI about 0.7, OIA", "accuracy drops", "Water's accuracy falls most"):  # fmt: skip
        assert holds(table, "generated", words) == "yes", words
    assert holds(table, "published", "NIA SSIM below 1") == "no"
    assert holds(table, "published", "EPI about 0.7, FI") == "no"
    assert holds(table, "published", "accuracy drops") == "no"
    row = table[(table["image"] == "generated") & table["paper"].str.contains("Water's accuracy")].iloc[0]
    assert "Water 100.0 -> 0.0 %" in row["ours"]


def test_findings_without_tiles_are_not_judged() -> None:
    generated = per_class({"Forest": 0.9, "Urban": 0.95, "Water": 0.97}, {"Forest": 0.85, "Urban": 0.9, "Water": 0.99},
                          "generated")  # fmt: skip
    generated = generated[generated["land_cover"] != "Water"]
    table = findings(generated, {"ResNet50": accuracy("Water")})
    assert holds(table, "generated", "Water lowest") == "n/a"
    assert holds(table, "published", "NIA SSIM below 1") == "n/a"  # no published rows at all
    assert holds(table, "generated", "NIA > FI") == "yes"
    assert holds(table, "generated", "accuracy drops") == "no"  # nothing lost: Water stays Water
