"""How long the demo takes a newcomer: ``make demo`` in a fresh clone, install included.

The repository at HEAD (committed work only) is cloned into a temporary folder; there the install
(``make .venv/.installed``: the venv and the pinned requirements) and the workflow (``make demo``: the
whole DAG and ``snakemake --report``) are timed apart, on the machine as it is (run it on an idle
one). Each rule's seconds come from the clone's ``benchmarks/<rule>/`` files (Snakemake's
``benchmark:`` directive): jobs, total and slowest job per rule. Writes ``bench/results/demo.{md,json}``.
The demo's budget is 12 minutes on the 2-core machine, install included.

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
    finally:
        if args.keep:
            print(f"clone kept in {clone}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
