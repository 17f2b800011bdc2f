"""Run a workflow script by hand, for debugging, against a finished workflow's files.

As in pypsa-eur, every script in ``scripts/`` starts with::

    if "snakemake" not in globals():
        from sardip.mock import mock_snakemake

        snakemake = mock_snakemake(__file__)

so that under Snakemake nothing changes, and run on its own the script gets the ``snakemake`` object
of the job it would be: the rule whose ``script:`` is this file, with the wildcards, config files and
working directory given on the command line::

    python scripts/inpaint_chunk.py chunk=Urban-1a2b3c4d --directory /path/to/run --configfile my.yaml

:func:`mock_snakemake` loads the Snakefile, builds that one job (its input functions may read the
selection table of the finished run, as under Snakemake) and returns the same kind of object the
``script:`` directive injects, with absolute paths, so a debugger or ``python -i`` can step through
the script. Its outputs and log are written for real: run it on a copy of the run, or expect the
files to be replaced.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The workflow this package ships with (the repository root holds the Snakefile).
SNAKEFILE = Path(__file__).resolve().parents[1] / "Snakefile"


class MockError(ValueError):
    """A script that no rule runs, or a missing or unknown wildcard."""


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run one workflow script outside Snakemake (sardip.mock).")
    parser.add_argument("wildcards", nargs="*", metavar="NAME=VALUE", help="the job's wildcards")
    parser.add_argument("--directory", "-d", default=".", help="the finished run's working directory")
    parser.add_argument("--configfile", action="append", default=[], help="config file(s) of the run")
    return parser.parse_args(list(argv))


def _rule_of(workflow: Any, script: Path) -> Any:
    """The rule whose ``script:`` directive names ``script``."""
    for rule in workflow.rules:
        if rule.script and (Path(rule.basedir.get_path_or_uri(secret_free=True)) / rule.script).resolve() == script:
            return rule
    raise MockError(f"{script}: no rule of {SNAKEFILE} runs this script")


def _finished_checkpoints(workflow: Any, wildcards: dict[str, str]) -> None:
    """Mark the outputs of the finished run's checkpoints (those without wildcards, and those whose
    wildcards the job has) as created, as Snakemake's DAG does when it finds them, so that input
    functions reading them (the selection table, a scene's plan) work."""
    for rule in workflow.rules:
        if rule.is_checkpoint and set(rule.wildcard_names) <= set(wildcards):
            output, _ = rule.expand_output({name: wildcards[name] for name in rule.wildcard_names})
            if all(Path(f).exists() for f in output):
                workflow.checkpoints.created_output.update(output)


def mock_snakemake(script: str | Path, argv: Sequence[str] | None = None) -> Any:
    """The ``snakemake`` object of the job that runs ``script``; wildcards, ``--directory`` and
    ``--configfile`` come from ``argv`` (default: the command line)."""
    from snakemake.api import SnakemakeApi
    from snakemake.dag import DAG
    from snakemake.jobs import Job
    from snakemake.script import Snakemake
    from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, ResourceSettings

    script = Path(script).resolve()
    args = _arguments(sys.argv[1:] if argv is None else argv)
    wildcards = dict(item.split("=", 1) for item in args.wildcards if "=" in item)
    if len(wildcards) != len(args.wildcards):
        raise MockError(f"wildcards must read NAME=VALUE, got {args.wildcards}")
    workdir = Path(args.directory).resolve()
    configfiles = [Path(c).resolve() for c in args.configfile]
    with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(configfiles=configfiles),
            snakefile=SNAKEFILE,
            workdir=workdir,
        )
        workflow = workflow_api.dag(DAGSettings()).workflow_api._workflow
        rule = _rule_of(workflow, script)
        missing = sorted(set(rule.wildcard_names) - set(wildcards))
        unknown = sorted(set(wildcards) - set(rule.wildcard_names))
        if missing or unknown:
            raise MockError(
                f"rule {rule.name} takes wildcards {sorted(rule.wildcard_names)}: missing {missing}, unknown {unknown}"
            )
        _finished_checkpoints(workflow, wildcards)
        job = Job(rule, DAG(workflow, rules=[rule]), wildcards)
        for files in (job.input, job.output, job.log):
            for k, path in enumerate(files):
                files[k] = str(workdir / path)
        smk = Snakemake(
            job.input, job.output, job.params, job.wildcards, job.threads, job.resources, job.log,
            workflow.config, rule.name, None,
        )  # fmt: skip
    for path in [*smk.output, *smk.log]:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)  # where Snakemake runs its scripts
    return smk
