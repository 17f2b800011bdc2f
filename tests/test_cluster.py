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
        "Invalid account or account/partition combination specified\n"
        * 2
        + "sbatch: error: Batch job submission failed: Invalid generic resource (gres) specification\n"
        + "sbatch: error: Batch job submission failed: Job violates accounting/QOS policy (job submit limit)\n"
    )
    found = log_hints([log, tmp_path / "missing.log"])
    assert len(found) == 4
    assert "inpaint_chunk:gpu=0" in found[0] and "gpu_model" in found[0] and "sinfo -o '%P %G'" in found[0]
    assert "slurm_account" in found[1] and "QOS" in found[2] and "runtime_per_tile" in found[3]
    assert log_hints(str(log)) == found
    assert hints("Job 3 finished") == []
