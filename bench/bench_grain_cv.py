"""Which grain model should a fill use? The values :class:`sardip.grain.GrainModel` takes as given,
chosen by cross-validation over places: leave one OPERA burst out.

Each candidate grain model changes one value of the fill's shipped one (the classic fills'
:data:`sardip.grain.CLASSIC_GRAIN`, the DIP presets' :data:`sardip.grain.GRAIN`) up or down. Every case
of the OPERA series (:func:`bench_verdict.opera_cases`: 8 bursts x 5 dates, random boxes of 8-24 px) is
filled once (``sardip inpaint --method gdal --speckle``, or the ``credible`` DIP) and given the grain of
every candidate with the same seed, then judged by the calibrated verdict (:mod:`sardip.audit`) against
one baseline per case. A candidate's score on a set of bursts is its share of cases whose every band
meets every target on its first grain draw (``full``). For each burst, the candidate with the best
score on the other seven is chosen (ties: the shipped model) and its score on the left-out burst is
reported beside the shipped model's. ``chosen on all`` is the choice with every burst in training;
``wins``/``losses`` count the cases a candidate passes and the shipped model fails, and the reverse (the
same fill and seed). Writes ``bench/results/grain_cv_<fill>.{md,json}``.

With ``--fill dip`` the fill is the default preset (``credible``), whose DIP output is fitted once per
case and pasted under every candidate: its 2 px low-pass against the classic fills' 4 px.

    python bench/bench_grain_cv.py --holes 4              # the classic fill: about 15 min on 2 cores
    python bench/bench_grain_cv.py --fill dip --holes 1   # the DIP: fits first
"""

from __future__ import annotations

import argparse
import json
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from bench_verdict import Case, case_baseline, opera_cases, row, timed_verdict
from common import SCRATCH, write_results

from sardip.fill import paste_db
from sardip.fill.batch import fill_batch
from sardip.fill.spec import FillSpec
from sardip.grain import GrainModel

#: One value of the shipped grain model changed at a time, down and up (the low-pass over a wider range).
CHANGES: dict[str, tuple[float, ...]] = {
    "fill_sigma": (1.0, 2.0, 3.0, 4.0, 6.0, 8.0),
    "background_sigma": (1.5, 3.0),
    "seam_band": (1, 5),
    "kriging_nugget": (0.001, 0.05),
    "spread_sigma": (2.0, 8.0),
    "spread_reach": (0.15, 0.6),
}
SHIPPED = "shipped"
#: The fills cross-validated: the classic fill with grain, and the default DIP preset (its fits batched
#: and kept in the scratch folder, since they dominate the run).
FILLS: dict[str, FillSpec] = {"gdal": FillSpec(method="gdal", speckle=True), "dip": FillSpec(preset="credible")}


def candidates(fill: FillSpec) -> dict[str, GrainModel]:
    """The fill's shipped grain model and each one-value change of it, by name (``field=value``)."""
    shipped = fill.grain_model()
    out = {SHIPPED: shipped}
    for field, values in CHANGES.items():
        changed = [value for value in values if value != getattr(shipped, field)]
        out.update({f"{field}={value}": shipped.replace(**{field: value}) for value in changed})
    return out


def judge(case: Case, seed: int, fill: FillSpec, filled: np.ndarray | None) -> list[dict]:
    """Whether each candidate's first grain draw meets every target (``full``) and the detectors and ENL
    (``detect``) at this case, with the same fill (``filled``, or a classic fill made here) and seed."""
    against, _ = case_baseline(case)
    if filled is None:
        filled = fill_batch(fill, [case.image], [case.hidden], [np.isfinite(case.image)], [seed]).fills_db[0]
    rows = []
    for name, grain in candidates(fill).items():
        result = paste_db(case.image, filled, case.hidden, speckle=True, seed=seed, grain=grain).db
        checks, seconds = timed_verdict(against, result)
        rows.append({**row(case, name, checks, seconds), "burst": case.group, "candidate": name})
    return rows


def _judge(args: tuple[Case, int, FillSpec, np.ndarray | None]) -> list[dict]:
    return judge(*args)


def dip_fits(cases: list[Case], seed: int, fill: FillSpec, batch: int) -> list[np.ndarray]:
    """The DIP output (C, H, W dB) of every case, fitted ``batch`` at a time (one engine call each; the
    OPERA crops share one shape) and kept in the scratch folder under the preset's hash and iterations."""
    preset = fill.dip_preset()
    assert preset is not None
    cache = SCRATCH / "bench_grain_cv" / f"dip_{preset.config_hash()}_{fill.dip_iterations()}_{seed}.npz"
    if cache.is_file():
        with np.load(cache) as saved:
            if len(saved.files) == len(cases):
                return [saved[f"case_{i}"] for i in range(len(cases))]
    fits: list[np.ndarray] = []
    for start in range(0, len(cases), batch):
        part = cases[start : start + batch]
        seeds = [seed + start + i for i in range(len(part))]
        done = fill_batch(fill, [c.image for c in part], [c.hidden for c in part],
                          [np.isfinite(c.image) for c in part], seeds, report_every=fill.dip_iterations())  # fmt: skip
        fits += done.fills_db
        print(f"DIP fits: {len(fits)}/{len(cases)}", flush=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **{f"case_{i}": f for i, f in enumerate(fits)})
    return fits


def _one_thread() -> None:
    """A worker's numerical libraries on one thread each: workers with torch and BLAS threads of their own
    oversubscribe the cores, and each ran slower than a single worker."""
    import torch

    torch.set_num_threads(1)


def cross_validate(rates: pd.DataFrame) -> pd.DataFrame:
    """Per left-out burst: the candidate with the best mean ``full`` rate over the other bursts (ties: the
    shipped model), its rate and the shipped model's on the left-out burst. ``rates``: bursts x candidates."""
    rows = []
    for burst in rates.index:
        training = rates.drop(index=burst).mean()
        best = training.max()
        choice = SHIPPED if training[SHIPPED] >= best else str(training.idxmax())
        rows.append({"left out": burst, "chosen": choice, "training rate": float(training[choice]),
                     "held-out rate": float(rates.loc[burst, choice]),
                     "shipped held-out rate": float(rates.loc[burst, SHIPPED])})  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fill", choices=sorted(FILLS), default="gdal", help="the fill whose grain model is chosen")
    parser.add_argument("--holes", type=int, default=3, help="holes per OPERA image")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch", type=int, default=8, help="DIP fits per engine call")
    args = parser.parse_args()
    fill = FILLS[args.fill]
    cases = list(opera_cases(np.random.default_rng(args.seed), args.holes))
    fits = dip_fits(cases, args.seed, fill, args.batch) if fill.dip_preset() else [None] * len(cases)
    work = [(case, args.seed + i, fill, fits[i]) for i, case in enumerate(cases)]
    rows: list[dict] = []
    with ProcessPoolExecutor(args.workers, initializer=_one_thread) as pool:
        for i, done in enumerate(pool.map(_judge, work)):
            rows += done
            if i % 20 == 0:
                print(f"{i + 1}/{len(cases)} cases", flush=True)
    frame = pd.DataFrame(rows)
    SCRATCH.mkdir(exist_ok=True)
    frame.to_json(SCRATCH / f"bench_grain_cv_{args.fill}_cases.json", orient="records")  # kept if the tables fail
    rates = frame.pivot_table(index="burst", columns="candidate", values="full", aggfunc="mean")
    folds = cross_validate(rates)
    overall = rates.mean().sort_values(ascending=False)
    on_all = SHIPPED if overall[SHIPPED] >= overall.max() else str(overall.idxmax())
    shipped = fill.grain_model()
    command = {"gdal": "--method gdal --speckle", "dip": f"(preset credible, {fill.dip_iterations()} iterations)"}
    lines = [f"# The grain model's values by cross-validation over OPERA bursts: {args.fill}", "",
             f"{len(cases)} cases (8 bursts x 5 dates x {args.holes} boxes of 8-24 px), `sardip inpaint "
             f"{command[args.fill]}`, first grain draw, calibrated verdict. Rate: share of cases whose every band "
             "meets every target. Each candidate changes one value of the fill's shipped grain model "
             f"(`{shipped.config_hash()}`). See the script's docstring.", "",
             "## Leave one burst out", "",
             "| left out | chosen on the other 7 | training rate | held-out rate | shipped, held-out |",
             "|---|---|---|---|---|"]  # fmt: skip
    for _, fold in folds.iterrows():
        lines.append(f"| {fold['left out']} | {fold['chosen']} | {fold['training rate']:.0%} | "
                     f"{fold['held-out rate']:.0%} | {fold['shipped held-out rate']:.0%} |")  # fmt: skip
    lines += ["", f"Mean held-out rate of the folds' choices: {folds['held-out rate'].mean():.0%}; of the shipped "
              f"model: {folds['shipped held-out rate'].mean():.0%}. Chosen with every burst in training: "
              f"`{on_all}`.", "", "## Every candidate, all bursts", "",
              "| candidate | rate | wins | losses | worst burst |", "|---|---|---|---|---|"]  # fmt: skip
    passed = frame.pivot_table(index="case", columns="candidate", values="full", aggfunc="first").astype(bool)
    for name, rate in overall.items():
        wins, losses = int((passed[name] & ~passed[SHIPPED]).sum()), int((~passed[name] & passed[SHIPPED]).sum())
        lines.append(f"| {name} | {rate:.0%} | {wins} | {losses} | {rates[name].min():.0%} ({rates[name].idxmin()}) |")
    record = {"fill": args.fill, "grain_model": {**shipped.to_dict(), "hash": shipped.config_hash()},
              "changes": CHANGES,
              "folds": json.loads(folds.to_json(orient="records")), "chosen_on_all": on_all,
              "rates": json.loads(rates.reset_index().to_json(orient="records")),
              "cases": json.loads(frame.to_json(orient="records"))}  # fmt: skip
    write_results(f"grain_cv_{args.fill}", "\n".join(lines), record)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
