"""Hints for the sbatch errors a cluster profile can cause (the real SLURM run is in test_slurm.py)."""

from __future__ import annotations

from pathlib import Path

from sardip.cluster import hints, log_hints


def test_a_missing_partition_names_the_setting_and_the_command_to_list_them() -> None:
    (hint,) = hints("sbatch: error: invalid partition specified: gpu-a100\nsbatch: error: Batch job submission failed")
    assert "no partition 'gpu-a100'" in hint and "slurm_partition" in hint and "sinfo -s" in hint


def test_every_known_error_is_hinted_once_and_others_not(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text(
        "Requested time limit is invalid (missing or exceeds some limit)\n"
        "Invalid account or account/partition combination specified\n" * 2
    )
    found = log_hints([log, tmp_path / "missing.log"])
    assert len(found) == 2 and "runtime" in found[1] and "slurm_account" in found[0]
    assert log_hints(str(log)) == found
    assert hints("Job 3 finished") == []
