"""How long the demo takes a newcomer: ``make demo`` in a fresh clone, install included.

The repository at HEAD (committed work only) is cloned into a temporary folder; there the install
(``make .venv/.installed``: the venv and the pinned requirements) and the workflow (``make demo``: the
whole DAG and ``snakemake --report``) are timed apart, on the machine as it is (run it on an idle
one). Each rule's seconds come from the clone's ``benchmarks/<rule>/`` files (Snakemake's
``benchmark:`` directive): jobs, total and slowest job per rule. Writes ``bench/results/demo.{md,json}``.
The demo's budget is 12 minutes on the 2-core machine, install included.

The same run's measurements of the paper's quantities go to ``bench/results/paper_demo.{md,json}``:
the paper's findings as the run's ``paper_findings`` rule judged them, SSIM per class for both images
of the DIP tiles, and each classifier's accuracy on originals and on each image.

    python bench/bench_demo.py [--rev REV --out DIR] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
from common import RESULTS, ROOT, write_results

#: The demo's budget (s) from a fresh clone on the 2-core machine, install included.
BUDGET = 12 * 60


def timed(command: list[str], cwd: Path, log: Path) -> float:
    """Seconds ``command`` took in ``cwd``; its output goes to ``log``; a failure stops the benchmark."""
    start = time.perf_counter()
    with open(log, "w") as out:
        result = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}); see {log}")
    return time.perf_counter() - start


def per_rule(benchmarks: Path) -> pd.DataFrame:
    """Jobs, total and slowest seconds per rule, from Snakemake's benchmark files (every rule writes
    them to ``benchmarks/<rule>/...``)."""
    rows = []
    for path in sorted(benchmarks.rglob("*.tsv")):
        seconds = float(pd.read_csv(path, sep="\t")["s"].iloc[0])
        rows.append({"rule": path.relative_to(benchmarks).parts[0], "job": path.stem, "seconds": seconds})
    frame = pd.DataFrame(rows, columns=["rule", "job", "seconds"])
    table = frame.groupby("rule")["seconds"].agg(jobs="count", total="sum", slowest="max").reset_index()
    return table.sort_values("total", ascending=False)


def markdown(figures: dict, rules: pd.DataFrame) -> str:
    verdict = "within" if figures["within_budget"] else "over"
    lines = [
        "# The demo from a fresh clone",
        "",
        f"`git clone`, checkout `{figures['rev'][:7]}`, then `make demo`; {figures['cores']} cores. "
        f"Budget {BUDGET / 60:.0f} min, install included.",
        "",
        "| phase | time |",
        "|---|---|",
        f"| install (`make .venv/.installed`) | {figures['install_s'] / 60:.1f} min |",
        f"| workflow and report (`make demo`) | {figures['workflow_s'] / 60:.1f} min |",
        f"| **total** | **{figures['total_s'] / 60:.1f} min** ({verdict} budget) |",
        "",
        "Per rule, from the jobs' `benchmarks/` files (rules with a `benchmark:` directive):",
        "",
        "| rule | jobs | total (s) | slowest job (s) |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{r.rule}` | {r.jobs} | {r.total:.0f} | {r.slowest:.0f} |" for r in rules.itertuples()]
    return "\n".join(lines) + "\n"


def paper_markdown(run: Path, rev: str) -> tuple[str, dict]:
    """The paper's quantities of a finished demo run in ``run``: findings, SSIM per class, accuracy."""
    findings = pd.read_csv(run / "results/paper/findings.tsv", sep="\t")
    found = list(findings.astype(str).replace(r"\|", r"\\|", regex=True).itertuples())  # a | would split a cell
    per_class = pd.read_csv(run / "results/metrics/per_class.tsv", sep="\t")
    ssim = per_class[(per_class["metric"] == "ssim") & per_class["scenario"].isin(["NIA", "FI"])]
    ssim = ssim.groupby(["land_cover", "image", "scenario"])["mean"].mean().unstack(["image", "scenario"])
    tables = sorted(run.glob("results/classify/*/accuracy.tsv"))
    accuracy = pd.concat([pd.read_csv(path, sep="\t").assign(model=path.parent.name) for path in tables])
    accuracy = accuracy[accuracy["n_tiles"] > 0].groupby(["model", "image"])[["acc_original", "acc_result"]].mean()
    lines = [
        "# The paper's quantities on the demo: generated tile and published composite",
        "",
        f"The demo run of `{rev[:7]}` above (`make demo`, `config/config.yaml`: 2 tiles per class, 64 px, 200 "
        "DIP iterations, classifiers trained 3 epochs). *generated*: the network output over the whole tile, what "
        "the paper measured; *published*: the composite. The findings as the run's `paper_findings` rule judged "
        "them (`results/paper/findings.tsv`):",
        "",
        "| figure | the paper | measured as | image | ours | holds |",
        "|---|---|---|---|---|---|",
        *[f"| {r.figure} | {r.paper} | {r.measure} | {r.image} | {r.ours} | {r.holds} |" for r in found],
        "",
        "SSIM per class (mean of VV and VH, mean over the class's tiles):",
        "",
        "| class | generated NIA | generated FI | published NIA | published FI |",
        "|---|---|---|---|---|",
        *[f"| {c} | {row[('generated', 'NIA')]:.3f} | {row[('generated', 'FI')]:.3f} | {row[('published', 'NIA')]:.3f} "
          f"| {row[('published', 'FI')]:.3f} |" for c, row in ssim.iterrows()],
        "",
        "Accuracy (%, mean over the classes with tiles) on the originals and on each image:",
        "",
        "| model | image | originals | DIP tiles |",
        "|---|---|---|---|",
        *[f"| {m} | {i} | {r.acc_original:.1f} | {r.acc_result:.1f} |" for (m, i), r in accuracy.iterrows()],
    ]  # fmt: skip
    flat = ssim.set_axis([f"{image}_{scenario}" for image, scenario in ssim.columns], axis=1)
    record = {"findings": findings.to_dict("records"), "ssim": flat.round(4).reset_index().to_dict("records"),
              "accuracy": accuracy.round(2).reset_index().to_dict("records")}  # fmt: skip
    return "\n".join(lines) + "\n", record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="HEAD", help="the commit to time (default HEAD)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of demo.{md,json} (default bench/results)")
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sardip_demo_"))
    clone = folder / "sardip"
    try:
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", args.rev], check=True)
        install = timed(["make", ".venv/.installed"], clone, folder / "install.log")
        workflow = timed(["make", "demo"], clone, folder / "demo.log")
        rules = per_rule(clone / "benchmarks")
        cores = int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout)
        figures = {"install_s": round(install, 1), "workflow_s": round(workflow, 1),
                   "total_s": round(install + workflow, 1), "within_budget": install + workflow <= BUDGET,
                   "cores": cores}  # fmt: skip
        figures["rev"] = subprocess.run(["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True,
                                        text=True, check=True).stdout.strip()  # fmt: skip
        write_results("demo", markdown(figures, rules), {**figures, "rules": rules.to_dict("records")}, folder=args.out)
        print(markdown(figures, rules))
        paper, record = paper_markdown(clone, figures["rev"])
        write_results("paper_demo", paper, {"rev": figures["rev"], **record}, folder=args.out)
        print(paper)
    finally:
        if args.keep:
            print(f"clone kept in {clone}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
