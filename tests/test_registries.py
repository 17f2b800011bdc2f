"""The config schema hand-copies names that registries own: every enum and name pattern must match its registry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sardip.classes import DFC2020_CODES, PAPER_CLASSES
from sardip.classify.train import NORMALISATIONS
from sardip.dip.presets import PRESETS
from sardip.fill import METHODS, SPECKLE_SUFFIX
from sardip.geotiff import UNITS
from sardip.tile_images import IMAGES

CONFIG = Path(__file__).resolve().parents[1] / "config"
SCHEMA = yaml.safe_load((CONFIG / "schema.yaml").read_text())
SHEET_SCHEMA = yaml.safe_load((CONFIG / "scenes.schema.yaml").read_text())


def constrained(node: dict, path: str = "") -> Iterator[tuple[str, dict]]:
    """Every (dotted key, sub-schema) holding an ``enum`` or a ``pattern``."""
    if "enum" in node or "pattern" in node:
        yield path, node
    for key, child in node.get("properties", {}).items():
        yield from constrained(child, f"{path}.{key}".lstrip("."))
    if isinstance(node.get("items"), dict):
        yield from constrained(node["items"], f"{path}[]")


#: Dotted key -> the names its registry holds (a subset where the key allows only some of them).
REGISTRY: dict[str, tuple[set[str], bool]] = {
    "selection.classes[]": (set(DFC2020_CODES), False),
    "report.progress_class": (set(DFC2020_CODES), False),
    "experiments.epi.classes[]": (set(DFC2020_CODES), False),
    "inpaint.preset": (set(PRESETS), False),
    # The experiments score the network output itself; credible only post-processes that output.
    "experiments.preset": ({p for p in PRESETS if p != "credible"}, False),
    "classify.normalisation": (set(NORMALISATIONS), False),
    "audit.methods[]": (set(METHODS), True),
    "report.images[]": (set(IMAGES), False),
}
#: Patterns that constrain a form rather than name a registry entry.
FORMS = {
    "inpaint.device",
    "classify.device",
    "experiments.device",
    "experiments.search.study_prefix",
    "anonymise.device",
}


def test_every_constrained_key_is_known() -> None:
    keys = {key for key, _ in constrained(SCHEMA)}
    assert keys == set(REGISTRY) | FORMS


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_schema_names_are_the_registrys(key: str) -> None:
    node = dict(constrained(SCHEMA))[key]
    names, with_speckle = REGISTRY[key]
    if "enum" in node:
        assert set(node["enum"]) == names
        return
    pattern = re.compile(node["pattern"])
    for name in names:
        assert pattern.fullmatch(name), name
        assert bool(pattern.fullmatch(name + SPECKLE_SUFFIX)) == with_speckle, name
    alternatives = re.match(r"\^\(([^)]*)\)", node["pattern"]).group(1).split("|")
    assert set(alternatives) == names


def test_the_scene_sheets_names_are_the_registries() -> None:
    columns = SHEET_SCHEMA["properties"]
    assert set(columns["preset"]["enum"]) == set(PRESETS)
    assert set(columns["land_cover"]["enum"]) == {"", *PAPER_CLASSES}  # empty: the class-free default
    assert set(columns["units"]["enum"]) == {"auto", *UNITS}
    assert set(columns["accept_detectable"]["enum"]) == {"no", "yes"}  # read as == "yes" (sardip.scene.sheet)
    expected = {"preset", "land_cover", "units", "name", "accept_detectable"}
    assert {key for key, _ in constrained(SHEET_SCHEMA)} == expected
