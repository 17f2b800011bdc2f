"""Each convergence criterion triggers on a constructed trajectory, and only there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_tif

from sardip.convergence import ConvergenceCriteria, filter_tiles, output_checks, read_trajectory
from sardip.io import write_table
from sardip.metrics import tile_metrics

ITERATIONS = np.arange(0, 6001, 500)


def trajectory(final: float = -0.9, ssim_known: float = 0.9, rebound: float = 0.0, start: float = -0.1) -> pd.DataFrame:
    """An SSIM-loss run falling from ``start`` to ``final``; ``rebound`` is added to the last row."""
    progress = 1 - np.exp(-ITERATIONS / 1000)
    loss = start + (final - start) * progress
    loss[-1] += rebound
    return pd.DataFrame(
        {
            "iteration": ITERATIONS,
            "loss": loss,
            "ssim_known": np.linspace(0.2, ssim_known, ITERATIONS.size),
            "lr": 1e-3,
            "seconds": ITERATIONS * 0.2,
        }
    )


def tile_table(tmp_path: Path, runs: dict[str, tuple[str, pd.DataFrame, bool]]) -> pd.DataFrame:
    """The filter's input for constructed runs; each tile's NIA SSIM is its trajectory's final ``ssim_known``."""
    rows = []
    for tile_id, (land_cover, traj, nonfinite) in runs.items():
        path = tmp_path / f"{tile_id}.tsv"
        write_table(traj, path)
        rows.append({"tile_id": tile_id, "land_cover": land_cover, "trajectory": str(path), "nonfinite": nonfinite,
                     "nia_ssim": traj["ssim_known"].iloc[-1]})  # fmt: skip
    return pd.DataFrame(rows)


def test_each_criterion_triggers(tmp_path: Path) -> None:
    runs = {f"ok{i}": ("Forest", trajectory(final=-0.9 + 0.004 * i), False) for i in range(12)}
    runs |= {
        "nan_out": ("Forest", trajectory(), True),
        "nan_loss": ("Forest", trajectory(rebound=np.nan), False),
        "poor_fit": ("Forest", trajectory(ssim_known=0.3), False),
        "outlier": ("Forest", trajectory(final=-0.6), False),
        "rebound": ("Forest", trajectory(rebound=0.5), False),
        "flat": ("Forest", trajectory(final=-0.1, start=-0.1), False),
    }
    kept, dropped = filter_tiles(tile_table(tmp_path, runs))
    assert sorted(kept["tile_id"]) == sorted(f"ok{i}" for i in range(12))
    reasons = dict(zip(dropped["tile_id"], dropped["reason"], strict=True))
    assert reasons["nan_out"] == "nonfinite"
    assert reasons["nan_loss"].split(";")[0] == "nonfinite"
    assert reasons["poor_fit"] == "ssim_known"
    assert reasons["outlier"] == "loss_outlier"
    assert reasons["rebound"].split(";") == ["loss_outlier", "loss_stalled"]
    assert "loss_stalled" in reasons["flat"].split(";")
    assert {"final_loss", "best_loss", "loss_z", "final_ssim_known"} <= set(kept.columns)


def test_small_class_skips_the_outlier_test(tmp_path: Path) -> None:
    runs = {f"ok{i}": ("Water", trajectory(final=-0.9 + 0.004 * i), False) for i in range(4)}
    runs["far"] = ("Water", trajectory(final=-0.6), False)
    kept, dropped = filter_tiles(tile_table(tmp_path, runs))
    assert dropped.empty and kept["loss_z"].isna().all()
    _, dropped = filter_tiles(tile_table(tmp_path, runs), ConvergenceCriteria(min_class_tiles=4))
    assert list(dropped["tile_id"]) == ["far"]


def test_thresholds_are_checked_and_configurable(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="min_ssim_known"):
        ConvergenceCriteria(min_ssim_known=1.5)
    with pytest.raises(ValueError, match="min_class_tiles"):
        ConvergenceCriteria(min_class_tiles=2)
    runs = {"a": ("Urban", trajectory(ssim_known=0.7), False)}
    assert filter_tiles(tile_table(tmp_path, runs))[1].empty
    _, dropped = filter_tiles(tile_table(tmp_path, runs), ConvergenceCriteria(min_ssim_known=0.8))
    assert list(dropped["reason"]) == ["ssim_known"]


def test_bad_trajectory_files_are_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    write_table(pd.DataFrame({"iteration": [0], "loss": [1.0]}), path)
    with pytest.raises(ValueError, match=r"bad\.tsv.*ssim_known"):
        read_trajectory(path)
    with pytest.raises(ValueError, match="nonfinite"):
        filter_tiles(pd.DataFrame({"tile_id": ["a"], "land_cover": ["Urban"], "trajectory": [str(path)]}))


def test_the_nia_ssim_decides_not_the_engines_ssim_known(tmp_path: Path) -> None:
    """A tile whose engine log looks fine but whose output reproduces the known pixels badly is dropped."""
    runs = {"a": ("Urban", trajectory(ssim_known=0.9), False), "b": ("Urban", trajectory(ssim_known=0.3), False)}
    table = tile_table(tmp_path, runs).assign(nia_ssim=[0.4, 0.9])
    kept, dropped = filter_tiles(table)
    assert list(dropped["tile_id"]) == ["a"] and list(dropped["reason"]) == ["ssim_known"]
    assert list(kept["tile_id"]) == ["b"] and kept.loc[0, "final_ssim_known"] == pytest.approx(0.3)


def test_output_checks_measure_the_fig14_nia_ssim(tmp_path: Path) -> None:
    """The filter's NIA SSIM of a written tile is the generated image's NIA SSIM of the metrics table, lowest
    band; a NaN inside the hole is found, a NaN outside it is not."""
    rng = np.random.default_rng(0)
    original = rng.normal(-12, 3, (2, 48, 48)).astype(np.float32)
    network = original + rng.normal(0, [[[0.5]], [[2.0]]], original.shape).astype(np.float32)
    hidden = np.zeros((48, 48), bool)
    hidden[16:32, 16:32] = True
    paths = {
        "original": write_tif(tmp_path / "original.tif", original),
        "raw": write_tif(tmp_path / "raw.tif", network),
        "mask": write_tif(tmp_path / "mask.tif", (~hidden)[None].astype(np.uint8)),
    }
    nonfinite, nia = output_checks(paths["original"], paths["raw"], paths["mask"])
    table = tile_metrics(original, network, hidden)
    expected = table[(table["metric"] == "ssim") & (table["scenario"] == "NIA")]["value"].min()
    assert not nonfinite and nia == pytest.approx(expected, abs=1e-9) and 0 < nia < 0.9
    network[0, 2, 2] = np.nan
    write_tif(paths["raw"], network)
    assert not output_checks(paths["original"], paths["raw"], paths["mask"])[0]
    network[0, 20, 20] = np.nan
    write_tif(paths["raw"], network)
    assert output_checks(paths["original"], paths["raw"], paths["mask"])[0]
