"""DIP chunks: a stable plan (the ledger), one batched fit per chunk whose bad tile fails alone, per-tile links."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import torch
from conftest import REAL_S1, write_tif

from sardip.chunks import (
    LEDGER_COLUMNS,
    TILE_FILES,
    chunk_id,
    link_tile,
    plan_chunks,
    run_chunk,
    settings_hash,
    started_in,
    tile_results,
)
from sardip.convergence import ConvergenceCriteria, filter_tiles, tile_table
from sardip.inpaint import FitSettings
from sardip.masks import MaskSpec

torch.set_num_threads(1)
SETTINGS = settings_hash({"preset": "paper", "iterations": 300})


def selection(tmp_path: Path, tiles: dict[str, str]) -> pd.DataFrame:
    """A selection table of tiles (id -> class) whose S1 files exist under ``tmp_path``."""
    paths = []
    for tile in tiles:
        path = tmp_path / f"{tile}.tif"
        path.touch()
        paths.append(str(path))
    return pd.DataFrame({"tile_id": list(tiles), "class": list(tiles.values()), "s1_path": paths})


def members(plan: pd.DataFrame) -> dict[str, list[str]]:
    return plan.groupby("chunk")["tile_id"].apply(list).to_dict()


def test_tiles_are_packed_per_class_in_id_order(tmp_path: Path) -> None:
    selected = selection(tmp_path, {"u3": "Urban", "u1": "Urban", "f1": "Forest", "u2": "Urban"})
    plan, ledger = plan_chunks(selected, None, SETTINGS, 2, lambda chunk: False)
    assert sorted(members(plan).values()) == [["f1"], ["u1", "u2"], ["u3"]]
    assert plan["selected"].all() and list(ledger.columns) == list(LEDGER_COLUMNS)
    assert chunk_id("Urban", SETTINGS, ["u1", "u2"]) in members(plan)
    again, _ = plan_chunks(selected, ledger, SETTINGS, 2, lambda chunk: False)
    pd.testing.assert_frame_equal(again, plan)  # the same situation always gives the same plan


def test_started_chunks_stay_and_new_tiles_get_new_ones(tmp_path: Path) -> None:
    """Adding tiles or changing K never touches a chunk that started; never-started ones are packed anew."""
    selected = selection(tmp_path, {"u1": "Urban", "u2": "Urban", "u3": "Urban"})
    plan, ledger = plan_chunks(selected, None, SETTINGS, 2, lambda chunk: False)
    done = {c for c, m in members(plan).items() if m == ["u1", "u2"]}
    grown = selection(tmp_path, {"u0": "Urban", "u1": "Urban", "u2": "Urban", "u3": "Urban", "u4": "Urban"})
    plan, ledger = plan_chunks(grown, ledger, SETTINGS, 2, lambda chunk: chunk in done)
    assert sorted(members(plan).values()) == [["u0", "u3"], ["u1", "u2"], ["u4"]]
    assert done <= set(plan["chunk"])
    started = set(ledger["chunk"])
    plan, _ = plan_chunks(grown, ledger, SETTINGS, 1, lambda chunk: chunk in started)  # K changed alone
    assert sorted(members(plan).values()) == [["u0", "u3"], ["u1", "u2"], ["u4"]]


def test_displaced_tiles_keep_their_finished_chunk_and_new_settings_start_afresh(tmp_path: Path) -> None:
    selected = selection(tmp_path, {"u1": "Urban", "u2": "Urban"})
    plan, ledger = plan_chunks(selected, None, SETTINGS, 2, lambda chunk: False)
    finished = set(plan["chunk"])
    displaced = selection(tmp_path, {"u0": "Urban", "u2": "Urban"})  # u1 left the selection for u0
    plan, ledger = plan_chunks(displaced, ledger, SETTINGS, 2, lambda chunk: chunk in finished)
    assert sorted(members(plan).values()) == [["u0"], ["u1", "u2"]]
    assert plan.set_index("tile_id")["selected"].to_dict() == {"u0": True, "u1": False, "u2": True}
    other = settings_hash({"preset": "paper", "iterations": 500})
    plan, ledger = plan_chunks(displaced, ledger, other, 2, lambda chunk: chunk in finished)
    assert sorted(members(plan).values()) == [["u0", "u2"]] and set(plan["settings"]) == {other}
    (tmp_path / "u1.tif").unlink()  # a finished chunk whose data went away can no longer be trusted
    plan, ledger = plan_chunks(selection(tmp_path, {"u2": "Urban"}), ledger, SETTINGS, 2, lambda c: c in finished)
    assert members(plan) == {chunk_id("Urban", SETTINGS, ["u2"]): ["u2"]}


def test_started_in_reads_status_tables_and_checkpoints(tmp_path: Path) -> None:
    started = started_in(tmp_path / "chunks", tmp_path / "state")
    assert not started("Urban-1")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "Urban-1.pt").touch()
    (tmp_path / "chunks" / "Urban-2").mkdir(parents=True)
    (tmp_path / "chunks" / "Urban-2" / "status.tsv").touch()
    assert started("Urban-1") and started("Urban-2")


def _tiles(tmp_path: Path) -> dict[str, Path]:
    """Three 64 px crops of the real tile, a truncated file and a tile that makes the fit diverge."""
    with rasterio.open(REAL_S1) as src:
        image = src.read()
    tiles = {f"t{i}": write_tif(tmp_path / f"t{i}.tif", image[:, 64 * i : 64 * i + 64, :64]) for i in range(3)}
    tiles["broken"] = tmp_path / "broken.tif"
    tiles["broken"].write_bytes(tiles["t0"].read_bytes()[:400])
    tiles["huge"] = write_tif(tmp_path / "huge.tif", np.full((2, 64, 64), -3e37, np.float32))
    return tiles


def test_a_bad_tile_fails_alone_and_the_others_match_their_solo_fits(tmp_path: Path) -> None:
    tiles = _tiles(tmp_path / "data")
    settings = FitSettings(preset="paper", land_cover="Urban", iterations=6, report_every=3, device="cpu")
    mask, snapshots = MaskSpec("release"), (0, 6)
    chunk = tmp_path / "chunks" / "Urban-x"
    status = run_chunk(tiles, mask, settings, snapshots, chunk, tmp_path / "state.pt")
    by_tile = status.set_index("tile_id")
    assert by_tile["status"].to_dict() == {"t0": "ok", "t1": "ok", "t2": "ok", "broken": "failed", "huge": "failed"}
    assert "broken.tif" in by_tile.loc["broken", "reason"] and "diverged" in by_tile.loc["huge", "reason"]
    assert not (chunk / "broken").exists() and not (chunk / "huge").exists()
    alone = run_chunk({"t1": tiles["t1"]}, mask, settings, snapshots, tmp_path / "alone", tmp_path / "alone.pt")
    assert alone["status"].tolist() == ["ok"]
    for name in ("inpainted.tif", "raw.tif", "snapshots/iter_000006.tif"):
        with rasterio.open(chunk / "t1" / name) as a, rasterio.open(tmp_path / "alone" / "t1" / name) as b:
            assert a.read().tobytes() == b.read().tobytes(), name

    selected = pd.DataFrame({"tile_id": list(tiles), "class": "Urban", "s1_path": [str(p) for p in tiles.values()]})
    plan = selected.assign(chunk="Urban-x", selected=True)
    table = tile_table(selected, tile_results(plan, [chunk]))
    kept, dropped = filter_tiles(table, ConvergenceCriteria(min_ssim_known=-1, max_rebound=1.0))  # 6 iterations
    assert sorted(kept["tile_id"]) == ["t0", "t1", "t2"], dropped
    reasons = dropped.set_index("tile_id")["reason"]
    assert reasons["broken"].startswith("failed (") and "diverged" in reasons["huge"]


def test_links_are_hard_links_newer_than_the_chunk(tmp_path: Path) -> None:
    tiles = _tiles(tmp_path / "data")
    settings = FitSettings(preset="paper", land_cover="Urban", iterations=2, report_every=1, device="cpu")
    chunk = tmp_path / "Urban-y"
    run_chunk({"t0": tiles["t0"], "broken": tiles["broken"]}, MaskSpec("release"), settings, (2,), chunk,
              tmp_path / "s.pt")  # fmt: skip
    past = time.time() - 100
    for path in chunk.rglob("*"):
        os.utime(path, (past, past))  # a chunk fitted earlier ...
    stamp = chunk / ".snakemake_timestamp"
    stamp.touch()
    os.utime(stamp, (past + 50, past + 50))  # ... and stamped by Snakemake once its job had ended
    files = [tmp_path / "t0" / name for name in TILE_FILES] + [tmp_path / "t0" / "snapshots" / "iter_000002.tif"]
    link_tile(chunk, "t0", files)
    for path in files:  # the links must look newer than their input, the chunk, or Snakemake would redo them
        assert path.stat().st_nlink == 2 and path.stat().st_mtime > stamp.stat().st_mtime
    with pytest.raises(ValueError, match="broken has no result"):
        link_tile(chunk, "broken", [tmp_path / "broken" / "inpainted.tif"])
