"""The package declares what it imports: installed by itself (``pip install sardip``), its commands start.

Every module of ``sardip/`` is parsed (imports inside functions too, which run later) and each
third-party name is mapped to the distributions that provide it in this environment; one of them must be
a declared dependency of ``pyproject.toml``. A missing one (as ``opencv-python-headless`` was, which
``sardip inpaint`` imports at start) would give an installed package whose command fails at once.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import sardip

REPO = Path(__file__).resolve().parents[1]


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + [s for extra in project.get("optional-dependencies", {}).values() for s in extra]
    return {_normalised(re.split(r"[ ;<>=!~\[]", spec, maxsplit=1)[0]) for spec in specs}


def _imported() -> dict[str, set[str]]:
    """Top-level module name -> the package files that import it (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for path in (REPO / "sardip").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(REPO)))
    return found


def test_every_third_party_import_is_a_declared_dependency() -> None:
    providers = importlib.metadata.packages_distributions()
    declared = _declared()
    missing = {}
    for module, files in sorted(_imported().items()):
        if module in sys.stdlib_module_names or module == "sardip":
            continue
        dists = {_normalised(d) for d in providers.get(module, [module])}
        if not dists & declared:
            missing[module] = sorted(files)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_the_installed_version_is_the_package_version() -> None:
    assert importlib.metadata.version("sardip") == sardip.__version__
