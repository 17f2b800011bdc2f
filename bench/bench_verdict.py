"""How often does the calibrated verdict call an area edited, per data set: untouched areas and perfect
fills (its false-alarm rate) beside today's fills.

Every case is one hidden box in one real or known image, audited as ``sardip inpaint`` audits a window
(:func:`sardip.audit.audit`, :func:`sardip.audit.verdict`: each detector against its natural range
in the image, :mod:`sardip.audit.natural`). Three subjects per case:

``untouched``
    the original itself (the result equals it): whatever the verdict finds is a false alarm.
``truth``
    a perfect fill where one is known. On the demo landscapes, the generator's noise-free reflectivity
    under a fresh draw of its own speckle; on the OPERA series, the same burst at another date,
    shifted to the ring's level (real grain of the same place, with whatever changed between the
    dates). Not available on SEN12MS and pyroSAR.
``gdal+speckle``
    the classic fill with speckle-consistent grain (``sardip inpaint --method gdal --speckle``), its
    first grain draw.
``escalated``
    the same after the escalation ``sardip inpaint`` runs on a failing window: up to
    :data:`sardip.scene.settings.ATTEMPTS` grain draws, the kept one chosen without the learned
    detector (:mod:`sardip.scene.escalation`); ``attempts`` is the mean number of draws audited.

``detect`` is the share of cases whose every band passes the detectors and the ENL factor (what an
analyst could find); ``full`` also needs EPI and hole correlation (the target hidden), which the
untouched image cannot meet by definition. ``s/baseline`` is the original's side of the audit, computed
once per case (:func:`sardip.audit.baseline`); ``s/audit`` each subject's side.

Data sets: the OPERA RTC-S1 series (``bench/data/opera_rtc_series``: 8 bursts x 5 dates, 100 px, 30 m,
hole sides 8-24 px at random places), the pyroSAR scene (``bench/data/pyrosar_scene``: holes at
random places and over its brightest objects), the real SEN12MS tile at nine positions (40 px) and the
demo landscapes (128 px, 16-24 px holes; town windows on their own line). Writes
``bench/results/verdict.{md,json}``.

    python bench/bench_verdict.py            # about 15 min on 2 cores
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from common import ROOT, SCRATCH, write_results
from scipy import ndimage

from sardip.audit import Baseline, baseline, verdict
from sardip.audit.natural import CALIBRATION
from sardip.demo import DEMO_SCENES, correlated_speckle, scene_layers
from sardip.fill import paste_db
from sardip.fill.batch import fill_batch
from sardip.fill.spec import FillSpec
from sardip.geotiff import read_raster
from sardip.scene.escalation import escalate
from sardip.scene.settings import ATTEMPTS

DATA = ROOT / "bench" / "data"
OPERA = DATA / "opera_rtc_series"
PYROSAR = DATA / "pyrosar_scene" / "S1A__IW___A_20150309T173017_VV_grd_mli_geo_norm_db.tif"
SEN12MS = ROOT / "tests" / "data" / "sen12ms_real" / "ROIs1158_spring_s1_1_p30.tif"
#: The fill measured beside the references.
FILL = FillSpec(method="gdal", speckle=True)
#: The demo generator's defaults (config/config.yaml).
LOOKS, CORR = 4, 0.8


@dataclass
class Case:
    """One hidden box in one image: (C, H, W) dB, the box (H, W) bool and a perfect fill where known."""

    data_set: str
    group: str
    name: str
    image: np.ndarray
    hidden: np.ndarray
    truth: np.ndarray | None = None
    bands: tuple[str, ...] = ("VV", "VH")


def _box(shape: tuple[int, int], r: int, c: int, side: int) -> np.ndarray:
    hidden = np.zeros(shape, bool)
    hidden[r : r + side, c : c + side] = True
    return hidden


def _random_box(rng: np.random.Generator, shape: tuple[int, int], side: int) -> np.ndarray:
    margin = side // 2 + 2
    r, c = (int(rng.integers(margin, n - side - margin)) for n in shape)
    return _box(shape, r, c, side)


def opera_cases(rng: np.random.Generator, holes: int) -> Iterator[Case]:
    """Per burst and date, ``holes`` boxes of 8-24 px; the truth is the next date, at the ring's level."""
    dates = sorted(p for p in OPERA.iterdir() if p.is_dir())
    bursts = sorted({f.name.split("_")[3] for f in dates[0].glob("*_VV.tif")})
    for burst in bursts:
        images = [read_raster([next(d.glob(f"*{burst}*_{p}.tif")) for p in ("VV", "VH")]).db() for d in dates]
        for i, date in enumerate(dates):
            other = images[(i + 1) % len(images)]
            for k in range(holes):
                hidden = _random_box(rng, images[i].shape[1:], int(rng.choice([8, 12, 16, 24])))
                ring = ndimage.binary_dilation(hidden, iterations=4) & ~hidden
                level = np.nanmean(images[i][:, ring], axis=1) - np.nanmean(other[:, ring], axis=1)
                yield Case("opera", burst, f"{burst}_{date.name}_{k}", images[i], hidden, other + level[:, None, None])


def pyrosar_cases(rng: np.random.Generator, holes: int) -> Iterator[Case]:
    """``holes`` boxes of 8-40 px at random places, and boxes over the scene's brightest objects."""
    image = read_raster(PYROSAR).db()
    for k in range(holes):
        hidden = _random_box(rng, image.shape[1:], int(rng.integers(8, 41)))
        yield Case("pyrosar", "random", f"random_{k}", image, hidden, bands=("VV",))
    smooth = ndimage.uniform_filter(np.nan_to_num(image[0], nan=-30.0), 5)
    peaks = smooth == ndimage.maximum_filter(smooth, 41)
    rows, cols = np.nonzero(peaks)
    order = np.argsort(smooth[rows, cols])[::-1]
    taken = 0
    for r, c in zip(rows[order], cols[order], strict=True):
        side = 16
        if 24 <= r < image.shape[1] - 40 and 24 <= c < image.shape[2] - 40 and taken < holes // 2:
            hidden = _box(image.shape[1:], r - side // 2, c - side // 2, side)
            yield Case("pyrosar", "bright object", f"object_{r}_{c}", image, hidden, bands=("VV",))
            taken += 1


def sen12ms_cases() -> Iterator[Case]:
    """A 40 px box at each of nine positions (3 x 3) of the real tile."""
    image = read_raster(SEN12MS).db()
    for r in (44, 108, 172):
        for c in (44, 108, 172):
            yield Case("sen12ms", "tile", f"r{r}c{c}", image, _box(image.shape[1:], r, c, 40))


def demo_cases(rng: np.random.Generator, holes: int) -> Iterator[Case]:
    """Per demo scene (128 px), ``holes`` boxes of 16 or 24 px; the truth is the reflectivity under fresh speckle."""
    for scene in DEMO_SCENES:
        _, reflectivity, speckle = scene_layers(scene, 128, 0, LOOKS, CORR)
        image = reflectivity + 10 * np.log10(speckle)
        fresh = reflectivity + 10 * np.log10(correlated_speckle(rng, reflectivity.shape, LOOKS, CORR))
        group = "town" if scene.landscape == "urban" else scene.landscape
        for k in range(holes):
            hidden = _random_box(rng, image.shape[1:], int(rng.choice([16, 24])))
            yield Case("demo", group, f"{scene.season}_{scene.scene}_{k}", image, hidden, fresh)


def row(case: Case, subject: str, checks: pd.DataFrame, seconds: float, attempts: int = 1) -> dict:
    """Whether every band passes the detectors and ENL (``detect``) and every target (``full``), the worst
    band's detector and excess over its limit, the reference boxes, the seconds and attempts spent."""
    worst = checks.loc[checks["auc_excess"].idxmax()]
    detect = bool((checks["ok_auc"] & checks["ok_enl"]).all())
    return {"data_set": case.data_set, "group": case.group, "case": case.name, "subject": subject,
            "side": int(np.sqrt(case.hidden.sum())), "detect": detect, "full": bool(checks["ok"].all()),
            "detector": worst["detector"], "auc_excess": float(worst["auc_excess"]),
            "natural_boxes": int(worst["natural_boxes"]), "seconds": seconds, "attempts": attempts}  # fmt: skip


def timed_verdict(against: Baseline, result: np.ndarray) -> tuple[pd.DataFrame, float]:
    """The verdict of ``result`` against the case's baseline, and the seconds its side of the audit took."""
    t0 = time.perf_counter()
    checks = verdict(against.judge(result))
    return checks, time.perf_counter() - t0


def case_baseline(case: Case) -> tuple[Baseline, float]:
    """The original's side of every audit at the case's place (:func:`sardip.audit.baseline`), and its seconds."""
    t0 = time.perf_counter()
    against = baseline(case.image, case.hidden, case.bands)
    return against, time.perf_counter() - t0


def judge(case: Case, seed: int) -> list[dict]:
    """One row per subject: the references (untouched, truth), the fill's first grain draw and the fill
    after the escalation ``sardip inpaint`` runs on a failing window (:mod:`sardip.scene.escalation`)."""
    against, base_seconds = case_baseline(case)
    rows = [row(case, "untouched", *timed_verdict(against, case.image))]
    if case.truth is not None:
        rows.append(row(case, "truth", *timed_verdict(against, np.where(case.hidden, case.truth, case.image))))
    filled = fill_batch(FILL, [case.image], [case.hidden], [np.isfinite(case.image)], [seed]).fills_db[0]
    spent = []

    def attempt(k: int) -> tuple[None, pd.DataFrame]:
        result = paste_db(
            case.image, filled, case.hidden, speckle=True, seed=seed + 100_003 * k, grain=FILL.grain_model()
        ).db
        checks, seconds = timed_verdict(against, result)
        spent.append(seconds)
        if k == 0:
            rows.append(row(case, "gdal+speckle", checks, seconds))
        return None, checks

    _, checks, _, made = escalate(attempt, ATTEMPTS)
    rows.append(row(case, "escalated", checks, sum(spent), made))
    return [{**row, "baseline_seconds": base_seconds} for row in rows]


def _rates(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    wide = rows.astype({"detect": float, "full": float}).pivot_table(
        index=[*keys, "case"], columns="subject", values=["detect", "full"], aggfunc="mean"
    )
    out = wide.groupby(level=keys).mean()
    out.columns = [f"{subject} {what}" for what, subject in out.columns]
    out.insert(0, "cases", wide.groupby(level=keys).size())
    fills = rows[rows["subject"] == "gdal+speckle"]
    out["fill's worst detector"] = fills.groupby(keys)["detector"].agg(lambda d: d.value_counts().index[0])
    out["attempts"] = rows[rows["subject"] == "escalated"].groupby(keys)["attempts"].mean()
    out["s/audit"] = rows[rows["subject"] != "escalated"].groupby(keys)["seconds"].mean()
    out["s/baseline"] = rows[rows["subject"] == "untouched"].groupby(keys)["baseline_seconds"].mean()
    return out


def _cell(column: str, value: object) -> str:
    if isinstance(value, float) and np.isnan(value):
        return "n/a"
    if column.endswith((" detect", " full")):
        return f"{value:.0%}"
    return f"{value:.2f}" if column in ("s/audit", "s/baseline", "attempts") else str(value)


def _markdown(table: pd.DataFrame, title: str) -> list[str]:
    columns = ["cases", "untouched detect", "truth detect", "gdal+speckle detect", "gdal+speckle full",
               "escalated detect", "escalated full", "fill's worst detector", "attempts", "s/baseline",
               "s/audit"]  # fmt: skip
    lines = [f"## {title}", "", "| " + " | ".join(["", *columns]) + " |", "|---" * (len(columns) + 1) + "|"]
    for key, row in table.iterrows():
        name = " / ".join(key) if isinstance(key, tuple) else key
        cells = [_cell(c, row.get(c, np.nan)) for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holes", type=int, default=3, help="holes per OPERA image and demo scene (pyroSAR: 4x)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    cases = [*opera_cases(rng, args.holes), *pyrosar_cases(rng, 4 * args.holes), *sen12ms_cases(),
             *demo_cases(rng, args.holes)]  # fmt: skip
    rows = []
    for i, case in enumerate(cases):
        rows += judge(case, args.seed + i)
        if i % 20 == 0:
            print(f"{i + 1}/{len(cases)} cases", flush=True)
    frame = pd.DataFrame(rows)
    SCRATCH.mkdir(exist_ok=True)
    frame.to_json(SCRATCH / "bench_verdict_cases.json", orient="records")  # kept if the tables below fail
    per_set = _rates(frame, ["data_set"])
    per_group = _rates(frame, ["data_set", "group"])
    lines = ["# The calibrated verdict: false alarms and today's fill, per data set", "",
             f"Each detector is judged against its natural range in the image ({CALIBRATION.references} reference "
             f"boxes at most, stated false-alarm rate {CALIBRATION.false_alarm:.0%} per area). `detect`: share of "
             "cases whose every band passes the detectors and the ENL factor; `full`: every target (EPI and hole "
             "correlation too, which the untouched image cannot meet). `untouched detect` is one minus the "
             "verdict's measured false-alarm rate; `truth detect` the same for a perfect fill (fresh speckle of "
             "the known reflectivity on the demo data; the next date of the same burst, at the ring's level, on "
             f"OPERA). `escalated`: the fill after up to {ATTEMPTS} grain draws chosen without the learned detector "
             "(`attempts`: draws audited, mean). See the script's docstring.", ""]  # fmt: skip
    lines += _markdown(per_set, "Per data set") + _markdown(per_group, "Per data set and group (OPERA: burst)")
    record = {"calibration": CALIBRATION.as_dict(), "fill": "gdal+speckle",
              "per_set": json.loads(per_set.reset_index().to_json(orient="records")),
              "per_group": json.loads(per_group.reset_index().to_json(orient="records")),
              "cases": json.loads(frame.to_json(orient="records"))}  # fmt: skip
    write_results("verdict", "\n".join(lines), record)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
