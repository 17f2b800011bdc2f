"""What to change when a cluster refuses a job: hints for the sbatch errors a profile can cause.

The SLURM executor plugin shows sbatch's own message when a submission fails ("invalid partition
specified: gpu"), but not which setting of this workflow produced it. :func:`hints` finds the known
messages in Snakemake's log and names the setting (``profiles/slurm/config.yaml`` or the command
line) and the SLURM command that lists what the cluster accepts. The workflow prints them from its
``onerror`` handler.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

PROFILE = "profiles/slurm/config.yaml"

#: sbatch message -> hint ({0}: the first group of the match, when there is one).
SBATCH_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"invalid partition specified: (\S+)"),
        "SLURM has no partition {0!r}. Set slurm_partition under default-resources in "
        f"{PROFILE} (or pass --default-resources slurm_partition=NAME); `sinfo -s` lists the partitions.",
    ),
    (
        re.compile(r"Invalid generic resource \(gres\) specification"),
        "SLURM refused the GPU request (gres): the partition has no GPU, or none of the model asked for. "
        "On a CPU-only cluster pass --set-resources inpaint_chunk:gpu=0 train_classifier:gpu=0 (the jobs then "
        "run on the CPU); for a GPU model add gpu_model (e.g. --set-resources inpaint_chunk:gpu_model=a100, "
        "or under set-resources in " + PROFILE + "); `sinfo -o '%P %G'` lists the GPUs of each partition.",
    ),
    (
        re.compile(r"Invalid account or account/partition combination specified"),
        f"SLURM refused the account for this partition. Set slurm_account under default-resources in {PROFILE} "
        "(or pass --default-resources slurm_account=NAME); `sacctmgr show associations user=$USER` lists yours.",
    ),
    (
        re.compile(r"Job violates accounting/QOS policy"),
        "SLURM refused the job under your account's limits (QOS: jobs, GPUs or time per user). Lower `jobs` in "
        f"{PROFILE}, or raise inpaint.tiles_per_job so fewer, larger DIP jobs are submitted; "
        "`sacctmgr show qos` shows the limits.",
    ),
    (
        re.compile(r"Requested time limit is invalid"),
        "SLURM refused the job's time limit. Lower runtime (minutes) under default-resources in "
        f"{PROFILE}, or in the config inpaint.runtime / runtime_per_tile (or a smaller inpaint.tiles_per_job: a "
        "DIP job's time grows with its tiles) and classify.runtime; `sinfo -o '%P %l'` shows each "
        "partition's limit.",
    ),
    (
        re.compile(r"Memory specification can not be satisfied"),
        f"SLURM has no node with the memory asked for. Lower mem_mb under default-resources in {PROFILE}, or "
        "in the config inpaint.mem_mb / mem_mb_per_tile (or a smaller inpaint.tiles_per_job) and classify.mem_mb; "
        "`sinfo -o '%P %m'` shows the nodes' memory (MB).",
    ),
)


def hints(text: str) -> list[str]:
    """The hint of every known sbatch error in ``text``, each once, in the order of :data:`SBATCH_HINTS`."""
    found = []
    for pattern, hint in SBATCH_HINTS:
        match = pattern.search(text)
        if match:
            found.append(hint.format(*match.groups()))
    return found


def log_hints(logs: str | Path | Iterable[str | Path]) -> list[str]:
    """:func:`hints` for Snakemake's log file(s) (missing files are skipped)."""
    if isinstance(logs, (str, Path)):
        logs = [logs]
    text = "\n".join(Path(p).read_text(errors="replace") for p in logs if Path(p).is_file())
    return hints(text)
