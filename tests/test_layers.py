"""Lower layers never import higher ones (ARCHITECTURE.md): checked in a fresh interpreter per module."""

import subprocess
import sys

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
}


@pytest.mark.parametrize(("module", "forbidden"), FORBIDDEN.items())
def test_module_does_not_load_higher_layers(module: str, forbidden: tuple[str, ...]) -> None:
    code = f"import sys, {module}\nprint(sorted(m for m in sys.modules if m.startswith({forbidden!r})))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", f"{module} loads {loaded}"
