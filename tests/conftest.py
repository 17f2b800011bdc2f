"""Shared fixtures: paths to the repository and its real test data, and a tiny demo tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
REAL_S1 = DATA / "sen12ms_real" / "ROIs1158_spring_s1_1_p30.tif"
REAL_LC = DATA / "sen12ms_real" / "ROIs1158_spring_lc_1_p30.tif"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def real_tree(tmp_path: Path) -> Path:
    """A SEN12MS root holding the real tile at its dataset path."""
    for src, sensor in ((REAL_S1, "s1"), (REAL_LC, "lc")):
        dst = tmp_path / "ROIs1158_spring" / f"{sensor}_1" / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dst)
    return tmp_path


def write_tif(path: Path, data: np.ndarray, crs: str = "EPSG:32633") -> Path:
    """Write a small GeoTIFF (C, H, W) at 10 m for tests."""
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = dict(driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                   dtype=data.dtype.name, crs=crs, transform=from_origin(500_000, 4_000_000, 10, 10))  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


def ensure_debian_packages(packages: list[str], ready: Callable[[], bool]) -> None:
    """Install Debian packages a real-component test needs when ``ready()`` says they are missing.

    CI runs on a fresh machine as root, so the integration tests bring their own servers; where apt
    is unavailable (not root, no apt-get) the test is skipped with the reason.
    """
    if ready():
        return
    if not shutil.which("apt-get") or os.geteuid() != 0:
        pytest.skip(f"{' '.join(packages)} missing and apt-get (as root) is unavailable to install them")
    subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0 or not ready():
        pytest.skip(f"apt-get install {' '.join(packages)} failed: {result.stderr[-500:]}")


def run_snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the repository's workflow in ``workdir`` with this interpreter's Snakemake."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result
