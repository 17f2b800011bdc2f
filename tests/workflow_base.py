"""One finished tiny run of the workflow, shared by the scale-out, incremental and SLURM tests.

Running the DAG costs tens of seconds on two cores, so it runs once per session (:func:`base_run`);
each test that changes something works on a copy (:func:`copy_run`), which keeps every mtime and
the ``.snakemake`` metadata, so Snakemake sees the copy exactly as it saw the original.
The data root is a folder *inside* the working directory, given by a relative path, so a copy
reads its own data under the same input paths (a different path would count as changed input).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import yaml

from sardip.demo import write_demo

REPO = Path(__file__).resolve().parents[1]

#: Scenes of the base tree: two forest, one urban, one water (2 selected tiles per class found, one
#: DIP chunk of two tiles per class).
BASE_SCENES = [("ROIs1158_spring", 2), ("ROIs1868_summer", 5), ("ROIs1868_summer", 21), ("ROIs1970_fall", 31)]
#: Scenes added by the incremental test: a grassland scene (a class with no tile yet) and a forest one.
NEW_SCENES = [("ROIs2017_winter", 41), ("ROIs2017_winter", 8)]
CLASSES = ["Forest", "Grassland", "Urban", "Water"]
ITERATIONS = 40
#: Settings of every run: tiny tiles, few iterations, a checkpoint every 10 so a kill can resume.
BASE_CONFIG = {
    "data": {"root": "sen12ms", "demo": False, "tile_size": 32},
    "selection": {"classes": CLASSES, "max_per_class": 2},
    "inpaint": {
        "iterations": ITERATIONS,
        "snapshots": [0, ITERATIONS],
        "report_every": 10,
        "checkpoint_every": 10,
        "tiles_per_job": 2,
    },
    # 40 iterations reproduce a 32 px tile's known pixels poorly: every tile is kept, so later stages run.
    "convergence": {"min_ssim_known": -1},
    "classify": {"epochs": 1},
}
TARGET = "results/metrics/per_class.tsv"
#: One thread per process: the test machine has two cores shared with other work.
THREADS_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Run:
    """A finished run: its working directory, config file, full demo tree (for new scenes) and stdout."""

    workdir: Path
    config: Path
    source: Path
    stdout: str


def env(**extra: str) -> dict[str, str]:
    """This process's environment with one thread per process and ``extra`` set (empty values unset)."""
    out = {**os.environ, **THREADS_ENV}
    out.pop("SARDIP_SIMULATED_GPUS", None)
    for key, value in extra.items():
        if value:
            out[key] = value
        else:
            out.pop(key, None)
    return out


def snakemake_cmd(workdir: Path, *args: str) -> list[str]:
    """The command running the repository's workflow in ``workdir`` with this interpreter's Snakemake."""
    return [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args]


def snakemake(
    workdir: Path, *args: str, environ: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    """Run Snakemake; on failure raise with the end of its output (the part that names the problem)."""
    result = subprocess.run(
        snakemake_cmd(workdir, *args), capture_output=True, text=True, cwd=REPO, env=environ or env()
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake failed ({result.returncode}):\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
        )
    return result


def write_config(path: Path, **sections: dict) -> Path:
    """BASE_CONFIG with ``sections`` merged over it (one level deep), as a YAML file."""
    config = {key: dict(value) for key, value in BASE_CONFIG.items()}
    for key, value in sections.items():
        config.setdefault(key, {}).update(value)
    path.write_text(yaml.safe_dump(config))
    return path


def copy_scene(source: Path, root: Path, season: str, scene: int, *, keep_mtime: bool = True) -> None:
    """Copy one scene's s1 and lc folders; ``keep_mtime=False`` gives the files the current time (new data)."""
    for sensor in ("s1", "lc"):
        shutil.copytree(
            source / season / f"{sensor}_{scene}",
            root / season / f"{sensor}_{scene}",
            copy_function=shutil.copy2 if keep_mtime else shutil.copy,
        )


_BASE: dict[str, Run] = {}


def base_run(tmp_root: Path) -> Run:
    """The session's base run (made on the first call): the DAG up to the per-class metrics table.

    It runs with ``--cores 4 --resources gpu=2`` and two simulated GPUs, so the DIP jobs run two at a
    time and each claims a slot; the scale-out test reads those claims back from the job logs.
    """
    if "run" not in _BASE:
        source = tmp_root / "demo"
        write_demo(source, tile_size=32, patches_per_side=2)
        workdir = tmp_root / "base"
        for season, scene in BASE_SCENES:
            copy_scene(source, workdir / "sen12ms", season, scene)
        config = write_config(tmp_root / "base.yaml")
        environ = env(SARDIP_SIMULATED_GPUS="2", SARDIP_GPU_LOCK_DIR=str(tmp_root / "locks"))
        result = snakemake(
            workdir, TARGET, "--configfile", str(config), "--cores", "4", "--resources", "gpu=2", environ=environ
        )
        _BASE["run"] = Run(workdir, config, source, result.stdout + result.stderr)
    return _BASE["run"]


def copy_run(run: Run, dest: Path) -> Path:
    """A copy of ``run``'s working directory with every mtime kept (``.snakemake`` metadata included)."""
    shutil.copytree(run.workdir, dest, symlinks=True, ignore=shutil.ignore_patterns("locks", "incomplete"))
    return dest


def _selection_rows(workdir: Path) -> list[dict[str, str]]:
    lines = (workdir / "results/selection/selected.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]


def selected_tiles(workdir: Path) -> list[str]:
    """Tile ids of the selection table."""
    return [row["tile_id"] for row in _selection_rows(workdir)]


def selected_paths(workdir: Path) -> dict[str, str]:
    """Tile id -> S1 file (relative to the working directory) of the selection table."""
    return {row["tile_id"]: row["s1_path"] for row in _selection_rows(workdir)}


#: Job messages (the rules' ``message:``) naming the wildcard each job runs for.
JOB_PATTERNS = {
    "scene_histogram": re.compile(r"Class histograms of scene (\S+)"),
    "inpaint_chunk": re.compile(r"DIP inpainting of chunk (\S+) \(tiles "),
    "tile_metrics": re.compile(r"Metrics of (\S+), \w+ image$", re.MULTILINE),
}
#: The members of each DIP chunk job, as its message lists them.
CHUNK_MEMBERS = re.compile(r"DIP inpainting of chunk \S+ \(tiles ([^)]*)\)")


def planned(output: str) -> dict[str, set[str]]:
    """Which scenes/tiles/chunks each per-item rule runs for, read from Snakemake's job messages."""
    return {rule: set(pattern.findall(output)) for rule, pattern in JOB_PATTERNS.items()}


def fitted(output: str) -> list[str]:
    """Every tile a DIP job fits (or would fit, in a dry run), once per fit, from the chunk jobs' messages."""
    return [tile for members in CHUNK_MEMBERS.findall(output) for tile in members.split()]


def job_counts(output: str) -> dict[str, int]:
    """Snakemake's "Job stats" table: jobs per rule (the last table printed)."""
    tables = output.split("Job stats:")
    if len(tables) < 2:
        return {}
    counts: dict[str, int] = {}
    for line in tables[-1].splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        if parts[0] != "total":
            counts[parts[0]] = int(parts[1])
    return counts


def pixels(path: Path) -> np.ndarray:
    """All bands of a GeoTIFF."""
    with rasterio.open(path) as src:
        return src.read()
