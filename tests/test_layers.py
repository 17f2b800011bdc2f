"""Lower layers never import higher ones (docs/architecture.md): checked in a fresh interpreter per module;
and no two modules of the package import each other, directly or around a loop."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

#: Module -> packages it must not load, directly or through its imports.
FORBIDDEN = {
    "sardip.fill": ("sardip.audit", "sardip.inpaint"),
    "sardip.speckle": ("sardip.audit", "sardip.inpaint"),
    "sardip.resampling": ("torch", "sardip.audit", "sardip.dip", "sardip.inpaint"),
    "sardip.masks": ("sardip.audit", "sardip.dip", "torch"),
    "sardip.dip": ("sardip.audit", "sardip.figures", "sardip.cli", "sardip.sen12ms", "snakemake"),
    "sardip.metrics": ("sardip.dip", "sardip.audit", "sardip.inpaint"),
    "sardip.scene.windows": ("torch", "sardip.dip", "sardip.audit", "sardip.inpaint"),
    "sardip.scene.output": ("torch", "sardip.dip", "sardip.audit", "sardip.inpaint"),
    "sardip.scene.jobs": ("sardip.inpaint", "sardip.cli", "sardip.figures", "snakemake"),
    "sardip.scene.sheet": ("torch", "sardip.dip", "sardip.audit"),  # read by the Snakefile at start-up
    "sardip.audit.detectors": ("sardip.audit.learned", "sardip.fill", "sardip.inpaint"),  # judges, never fills
}
PACKAGE = Path(__file__).resolve().parents[1] / "sardip"


@pytest.mark.parametrize(("module", "forbidden"), FORBIDDEN.items())
def test_module_does_not_load_higher_layers(module: str, forbidden: tuple[str, ...]) -> None:
    code = f"import sys, {module}\nprint(sorted(m for m in sys.modules if m.startswith({forbidden!r})))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", f"{module} loads {loaded}"


def _imports() -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere in its code (lazy imports in functions too)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_no_import_cycle_in_the_package() -> None:
    graph = _imports()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(graph[module]):
            assert state.get(dep) != 1, f"import cycle: {' -> '.join([*path[path.index(dep) :], dep])}"
            if dep not in state:
                visit(dep, [*path, dep])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
