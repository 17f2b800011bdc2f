"""A scene's anonymisation as workflow jobs: one plan, parts of its windows fitted as GPU jobs (as the
tiles' chunks are), one job that writes the published copy.

:func:`plan_parts` lists the windows of :func:`sardip.scene.anonymise.plan_scene` and deals them into
parts of ``windows_per_job`` (windows of one shape together, so that each part's batches are full);
:func:`fill_part` fits the windows of one part and saves their patches and figures
(:func:`save_part`); :func:`assemble` checks that the parts cover the plan and writes the published
copy and its sidecar with :func:`sardip.scene.anonymise.publish`. A window's fill depends only on the
window, its seed and the settings, never on which part or batch it is in, so the workflow's output
equals the CLI's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from sardip.io import atomic_path
from sardip.scene.anonymise import (
    SceneSettings,
    SceneSummary,
    check_outputs,
    fill_windows,
    open_scene,
    plan_scene,
    publish,
    scene_provenance,
)
from sardip.scene.gate import judge_window
from sardip.scene.output import Patch
from sardip.scene.source import SceneError

#: Columns of the plan table: one row per window.
PLAN_COLUMNS = ("window", "part", "r0", "r1", "c0", "c1", "areas")


def part_name(index: int) -> str:
    return f"p{index:04d}"


def plan_parts(inputs: Sequence[str | Path], mask: str, settings: SceneSettings, windows_per_job: int) -> pd.DataFrame:
    """The scene's windows (:data:`PLAN_COLUMNS`), each with the part (``p0000``...) that fits it."""
    if windows_per_job < 1:
        raise SceneError(f"windows_per_job={windows_per_job} must be >= 1")
    with open_scene(inputs, settings) as scene:
        plan = plan_scene(scene, mask, settings)
    ordered = [w for batch in plan.batches(max(len(plan.windows), 1)) for w in batch]
    rows = [
        {"window": w.name, "part": part_name(i // windows_per_job), "r0": w.box.r0, "r1": w.box.r1,
         "c0": w.box.c0, "c1": w.box.c1, "areas": "; ".join(a.label for a in w.areas)}
        for i, w in enumerate(ordered)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=list(PLAN_COLUMNS))


def fill_part(
    inputs: Sequence[str | Path], mask: str, settings: SceneSettings, windows: Collection[str], out: str | Path
) -> None:
    """Fit the ``windows`` of the scene and save their patches and figures to ``out`` (:func:`save_part`)."""
    with open_scene(inputs, settings) as scene:
        plan = plan_scene(scene, mask, settings)
        unknown = set(windows) - {w.name for w in plan.windows}
        if unknown:
            raise SceneError(
                f"{scene.paths[0]}: windows {sorted(unknown)} are not in the scene's plan (a changed mask?)"
            )
        patches, figures, device = fill_windows(scene, plan, plan.batches(settings.batch, set(windows)), settings)
    save_part(out, patches, figures, device)


def save_part(path: str | Path, patches: Sequence[Patch], figures: Sequence[dict], device: str) -> None:
    """One part's patches (rows, columns and stored values, concatenated) and figures, as ``.npz``."""
    sizes = np.array([len(p.rows) for p in patches], np.int64)
    empty = np.zeros(0, np.int32)
    with atomic_path(Path(path)) as tmp, open(tmp, "wb") as f:
        np.savez(
            f,
            rows=np.concatenate([p.rows for p in patches]) if patches else empty,
            cols=np.concatenate([p.cols for p in patches]) if patches else empty,
            values=np.concatenate([p.values for p in patches], axis=1) if patches else np.zeros((0, 0)),
            sizes=sizes,
            figures=np.array(json.dumps(list(figures), default=str)),
            device=np.array(device),
        )


def load_part(path: str | Path) -> tuple[list[Patch], list[dict], str]:
    """The patches, figures and device of a :func:`save_part` file."""
    with np.load(path) as part:
        bounds = np.cumsum([0, *part["sizes"]])
        rows, cols, values = part["rows"], part["cols"], part["values"]
        patches = [Patch(rows[a:b], cols[a:b], values[:, a:b]) for a, b in pairwise(bounds)]
        return patches, json.loads(str(part["figures"])), str(part["device"])


def assemble(
    inputs: Sequence[str | Path], mask: str, settings: SceneSettings, parts: Sequence[str | Path], out: str | Path
) -> SceneSummary:
    """Write the published copy and its sidecar from the saved parts; refuse parts that do not cover
    the scene's plan exactly (a part from another mask or margin)."""
    start = time.perf_counter()
    out = Path(out)
    patches, figures, devices = [], [], set()
    for part in parts:
        p, f, d = load_part(part)
        patches += p
        figures += f
        devices.add(d)
    with open_scene(inputs, settings) as scene:
        check_outputs(out, scene, mask, settings)
        plan = plan_scene(scene, mask, settings)
        order = {w.name: i for i, w in enumerate(plan.windows)}
        filled = [f["window"] for f in figures]
        if sorted(filled) != sorted(order):
            raise SceneError(f"{scene.paths[0]}: the parts hold windows {sorted(filled)}, the plan {sorted(order)}")
        figures.sort(key=lambda f: order[f["window"]])
        device = ", ".join(sorted(devices)) or "cpu"
        provenance = scene_provenance(scene, mask, settings, plan, figures, device)
        fitting = sum(f.get("seconds", 0.0) for f in figures)
        verdicts = publish(scene, out, patches, provenance, settings, fitting + time.perf_counter() - start)
    return SceneSummary(out, scene.units, figures, time.perf_counter() - start, device, verdicts)


def window_table(provenance: dict, scene: str) -> pd.DataFrame:
    """One row per window and band of a sidecar: where the window is, what it hides, the window's verdict
    (:func:`sardip.scene.gate.judge_window`) and whether a failing one was published knowingly, how long
    it took, the fit's SSIM on the known pixels and its audit figures and checks (or why it was not
    audited)."""
    rows = []
    accepted = provenance.get("gate", {}).get("failing_windows", [])
    for figure in provenance["windows"]:
        base = {
            "scene": scene, "window": figure["window"], "areas": "; ".join(figure["areas"]),
            "hidden_pixels": figure["hidden_pixels"], "verdict": judge_window(figure).status,
            "published_detectable": figure["window"] in accepted,
            "seconds": figure.get("seconds"), "ssim_known": figure.get("ssim_known"),
        }  # fmt: skip
        audit = figure.get("audit")
        if isinstance(audit, list):
            rows += [{**base, **checks, "note": ""} for checks in audit]
        else:
            rows.append({**base, "note": figure.get("note") or audit or ""})
    return pd.DataFrame(rows)
