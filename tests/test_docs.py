"""The documentation site builds with ``mkdocs build --strict``, and its generated parts are there.

Strict mode turns every warning into a failure: a link to a missing page or anchor, a page left out of
the navigation, a marker of ``docs/hooks.py`` naming a missing file. The site is built once per module
into a temporary folder, never into ``results/site``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    # The theme prints a banner about MkDocs 2.0 on every build unless told not to.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", "mkdocs.yml", "--site-dir", str(out)]
    build = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{build.stdout}\n{build.stderr}"
    return out


def test_docs_build_strictly(site: Path) -> None:
    assert (site / "index.html").is_file()


def test_config_table_is_generated_from_the_schema(site: Path) -> None:
    html = (site / "workflow" / "index.html").read_text()
    assert "<!-- config-table -->" not in html
    assert "<code>inpaint.preset</code>" in html
    assert "<code>name</code>" in html  # the scene sheet's first column


def test_benchmarks_page_has_a_heading_per_results_file(site: Path) -> None:
    html = (site / "benchmarks" / "index.html").read_text()
    results = sorted((REPO / "bench" / "results").glob("*.md"))
    assert results
    for path in results:
        anchor = "bench-" + path.stem.replace("_", "-")
        assert re.search(rf'<h2 id="{anchor}"', html), f"no heading for bench/results/{path.name}"
