"""The paper's experiments: Table 1 search (SQLite and a real PostgreSQL), sweeps, figures, workflow targets.

Fits use a two-level network (widths 4, 8) on small odd-sized tiles so that a full 108-trial grid runs
in well under a minute on one thread; the experiment code is the same as at paper scale.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import REPO, ensure_debian_packages, run_snakemake

from sardip.dip.presets import get_preset
from sardip.experiments import (
    GRID,
    SCORES,
    SearchSettings,
    best_table,
    centred_box,
    epi_trajectory,
    fig07_panels,
    hole_size_sweep,
    loss_comparison,
    open_study,
    paper_choice,
    run_worker,
    score,
    similar_mse_pair,
    trial_preset,
    trials_table,
    worker_share,
)
from sardip.experiments.search import PARAMS, grid_size
from sardip.figures.experiments import fig07_mse_vs_ssim, fig09_parallel, fig10_loss, fig11_hole_size, fig19_epi
from sardip.io import read_table, write_table

torch.set_num_threads(1)
TINY = str(REPO / "tests" / "config" / "tiny.yaml")
#: The paper preset on a two-level U-Net: fast, same code path.
BASE = get_preset("paper", "Urban").replace(widths=(4, 8))
SHAPE = (2, 2, 23, 29)


@pytest.fixture
def tiles() -> np.ndarray:
    """Two seeded speckled dB tiles (B, C, H, W) of odd size with a bright block, one NaN pixel."""
    rng = np.random.default_rng(7)
    images = -14 + 10 * np.log10(rng.gamma(4, 1 / 4, SHAPE))
    images[:, :, 5:12, 8:20] += 6
    images[1, 0, 0, 0] = np.nan
    return images.astype(np.float32)


@pytest.fixture
def hidden() -> np.ndarray:
    return centred_box(SHAPE[2:], 8)


def test_grid_is_table_1_and_presets_follow_params():
    assert grid_size(GRID) == 108 and PARAMS == ("activation", "padding", "upsampling", "loss", "noise")
    assert paper_choice("Croplands") == {"activation": "leaky_relu", "padding": "reflection",
                                         "upsampling": "deconvolution", "loss": "ssim", "noise": "uniform"}  # fmt: skip
    preset = trial_preset(BASE, {"activation": "tanh", "padding": "zero", "upsampling": "nearest", "loss": "mse",
                                 "noise": "rayleigh"})  # fmt: skip
    switches = (preset.activation, preset.padding, preset.upsampling, preset.noise)
    assert switches == ("tanh", "zero", "nearest", "rayleigh")
    assert (preset.mse_weight, preset.ssim_weight, preset.loss_name) == (1.0, 0.0, "mse")
    assert [worker_share(108, 5, w) for w in range(5)] == [22, 22, 22, 21, 21]


def test_centred_box_is_clipped_and_scores_are_exact(tiles):
    assert centred_box((23, 29), 8)[7:15, 10:18].all() and centred_box((23, 29), 8).sum() == 64
    assert centred_box((23, 29), 192).sum() == 21 * 21  # clipped to min(H, W) - 2
    perfect = score(tiles[0], tiles[0], centred_box(SHAPE[2:], 12))
    assert perfect["ssim_fi"] == pytest.approx(1) and perfect["mse_fi"] == 0 and perfect["epi_oia"] == pytest.approx(1)
    assert set(perfect) == set(SCORES)


def test_similar_mse_pair_prefers_close_mse_and_far_ssim():
    runs = pd.DataFrame({"mse_fi": [0.018, 0.026, 0.020, 0.2], "ssim_fi": [0.86, 0.55, 0.80, 0.1]})
    assert similar_mse_pair(runs, 1.5) == (0, 1)
    assert similar_mse_pair(runs, 1.01) == (0, 2)  # no pair within 1 %: the closest MSE


def test_search_records_every_trial_prunes_and_covers_the_grid(tmp_path, tiles, hidden):
    settings = SearchSettings(trials=500, iterations=6, report_every=2, min_resource=2, seed=3)
    study = open_study(None, "full", settings)  # in memory: 108 trials through SQLite take minutes
    ran = run_worker(study, tiles, hidden, BASE, [11, 12], settings)
    table = trials_table(study, "Urban")
    assert ran == list(range(108)) and table["number"].tolist() == list(range(108))  # budget clamped to the grid
    assert len(table.drop_duplicates(list(PARAMS))) == 108  # every combination exactly once
    assert set(table["state"]) == {"COMPLETE", "PRUNED"}
    pruned, done = table[table["state"] == "PRUNED"], table[table["state"] == "COMPLETE"]
    assert (pruned["iterations_run"] < 6).all() and pruned["value"].isna().all()
    assert (done["iterations_run"] == 6).all() and done["value"].between(-1, 1).all()
    assert run_worker(study, tiles, hidden, BASE, [11, 12], settings) == []  # a rerun adds nothing

    best = best_table(table)
    write_table(best, tmp_path / "best.tsv")
    best = read_table(tmp_path / "best.tsv").set_index("source")
    assert best.loc["search", "value"] == done["value"].max()
    assert best.loc["paper", "upsampling"] == "deconvolution" and best.loc["paper", "activation"] == "relu"
    assert best.loc["search", "completed"] == len(done) and best.loc["search", "pruned"] == len(pruned)

    # Deterministic given the seed: a smaller budget runs the same first combinations to the same values.
    small = open_study(f"sqlite:///{tmp_path}/s.db", "small", SearchSettings(**{**settings.__dict__, "trials": 4}))
    run_worker(small, tiles, hidden, BASE, [11, 12], SearchSettings(**{**settings.__dict__, "trials": 4}))
    again = trials_table(small, "Urban")
    pd.testing.assert_frame_equal(again[list(PARAMS)], table[list(PARAMS)].iloc[:4])
    both = again["state"].eq("COMPLETE") & table["state"].iloc[:4].eq("COMPLETE")
    assert np.allclose(again["value"][both], table["value"].iloc[:4][both])

    fig09_parallel(pd.concat([table, table.assign(land_cover="Water")]), tmp_path / "fig09.png")
    assert (tmp_path / "fig09.png").stat().st_size > 10_000


def test_sweeps_write_tables_and_figures(tmp_path, tiles, hidden):
    runs, outputs = loss_comparison(tiles, hidden, BASE, [1, 2], ["a", "b"], "Urban", iterations=3, mse_factor=3)
    assert runs["loss"].tolist() == ["ssim", "ssim", "mse", "mse"] and runs["iterations"].tolist() == [3, 3, 9, 9]
    assert outputs.shape == (4, *SHAPE[1:]) and runs["row"].tolist() == [0, 1, 2, 3]
    write_table(runs, tmp_path / "loss.tsv")
    fig10_loss(read_table(tmp_path / "loss.tsv"), tmp_path / "fig10.png")
    i, j = similar_mse_pair(runs)
    arrays = {"original": tiles, "hidden": np.broadcast_to(hidden, (2, *hidden.shape)), "output": outputs}
    pair, originals, panels, holes = fig07_panels([runs], [arrays], 1.5)
    assert pair.index.tolist() == [i, j]
    np.testing.assert_array_equal(np.stack([p[0] for p in panels]), outputs[[i, j]])
    np.testing.assert_array_equal(originals, tiles[[i % 2, j % 2]])
    assert panels[0][2] == runs["ssim_fi"][i] and holes.shape == (2, *hidden.shape)
    fig07_mse_vs_ssim(originals, panels, holes, tmp_path / "fig07.png")

    holes = pd.concat(
        [hole_size_sweep(tiles, BASE, [1, 2], ["a", "b"], "Water", hole_px=px, iterations=2) for px in (4, 16, 64)]
    )
    assert sorted(holes["hole_px"].unique()) == [4, 16, 21] and len(holes) == 12  # 64 clipped to 23 - 2
    assert holes.groupby("hole_px")["mse_oia"].count().eq(4).all()
    fig11_hole_size(holes, tmp_path / "fig11.png")

    epi = epi_trajectory(tiles[0], hidden, BASE, 5, "a", "Barren", iterations=5, every=2)
    assert epi["iteration"].tolist() == [0, 2, 4, 5] and epi[["epi_fi", "epi_oia"]].notna().all().all()
    fig19_epi(pd.concat([epi, epi.assign(land_cover="Water", tile_id="b")]), tmp_path / "fig19.png")
    for name in ("fig07", "fig10", "fig11", "fig19"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000


WORKER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import torch
    from sardip.dip.presets import get_preset
    from sardip.experiments import SearchSettings, centred_box, open_study, run_worker

    torch.set_num_threads(1)
    url, worker = sys.argv[1], int(sys.argv[2])
    settings = SearchSettings(trials=10, iterations=4, report_every=2, min_resource=2)
    images = np.random.default_rng(0).normal(-12, 3, (1, 2, 20, 20)).astype(np.float32)
    base = get_preset("paper", "Water").replace(widths=(4, 8))
    study = open_study(url, "two-workers", settings)
    print(run_worker(study, images, centred_box((20, 20), 6), base, [1], settings, worker=worker, workers=2))
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _initdb() -> str | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return str(found[-1]) if found else shutil.which("initdb")


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture
def postgres():
    """A throw-away PostgreSQL server on a free localhost port, as user postgres when run as root.

    Debian's postgresql package brings the server binaries and the postgres user; it is installed
    when either is missing (CI starts from a fresh machine).
    """
    ensure_debian_packages(["postgresql"], lambda: _initdb() is not None and _has_user("postgres"))
    bindir = Path(_initdb()).resolve().parent
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="sardip-pg-"))
    os.chmod(root, 0o777)
    data, port = root / "data", _free_port()
    run = lambda *cmd: subprocess.run([*prefix, *cmd], check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w", "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start")  # fmt: skip
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        conn.cursor().execute("CREATE DATABASE sardip")
        conn.close()
        yield f"postgresql://postgres@127.0.0.1:{port}/sardip"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.integration
def test_two_workers_share_one_postgresql_study(tmp_path, postgres):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    procs = [subprocess.Popen([sys.executable, str(script), postgres, str(w)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for w in (0, 1)]  # fmt: skip
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outs]
    ran = [eval(out.strip().splitlines()[-1]) for out, _ in outs]
    assert sorted(ran[0] + ran[1]) == list(range(10)) and [len(r) for r in ran] == [5, 5]

    settings = SearchSettings(trials=10, iterations=4, report_every=2, min_resource=2)
    table = trials_table(open_study(postgres, "two-workers", settings), "Water")
    assert table["number"].tolist() == list(range(10))  # every trial recorded once
    assert len(table.drop_duplicates(list(PARAMS))) == 10 and table["state"].isin(["COMPLETE", "PRUNED"]).all()
    assert table.groupby("worker")["number"].apply(sorted).tolist() == [sorted(r) for r in ran]


@pytest.fixture
def tiny_experiments(tmp_path) -> str:
    config = {
        "experiments": {
            "device": "cpu",
            "search": {"tiles_per_class": 1, "trials": 4, "iterations": 4, "report_every": 2, "min_resource": 2},
            "loss": {"tiles_per_class": 1, "iterations": 3, "mse_factor": 2},
            "holes": {"tiles_per_class": 1, "sizes": [4, 16], "iterations": 3},
            "epi": {"iterations": 4, "every": 2},
        }
    }
    path = tmp_path / "experiments.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


@pytest.mark.workflow
@pytest.mark.parametrize(
    ("target", "rules"),
    [("hpsearch", ["hpsearch_table"]), ("loss_comparison", ["loss_table", "fig07"]),
     ("hole_size_sweep", ["hole_table"]), ("epi_vs_iterations", ["epi_table"]),
     ("experiments", ["hpsearch_table", "loss_table", "fig07", "hole_table", "epi_table"])],
)  # fmt: skip
def test_targets_plan(tmp_path, tiny_experiments, target, rules):
    work = tmp_path / "work"
    result = run_snakemake(work, "-n", target, "--configfile", TINY, tiny_experiments)
    stats = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout + result.stderr, re.MULTILINE))  # job stats
    for rule in [*rules, "select_tiles", target]:
        assert stats.get(rule) == "1", rule
    assert not (work / "results").exists()


@pytest.mark.workflow
def test_experiment_targets_run_end_to_end(tmp_path, tiny_experiments):
    """Every experiment script runs (not only plans) on two classes of the tiny demo data."""
    two = tmp_path / "two.yaml"
    two.write_text(
        yaml.safe_dump({"selection": {"classes": ["Barren", "Water"]}, "experiments": {"search": {"workers": 1}}})
    )
    work = tmp_path / "work"
    run_snakemake(work, "experiments", "--cores", "2", "--configfile", TINY, tiny_experiments, str(two))
    for table in ("hpsearch/best.tsv", "loss/runs.tsv", "loss/fig07_pair.tsv", "holes/runs.tsv", "epi/trajectory.tsv"):
        frame = pd.read_csv(work / "results/experiments" / table, sep="\t")
        assert len(frame) and set(frame["land_cover"]) <= {"Barren", "Water"}, table
    for figure in ("fig07_mse_vs_ssim", "fig09_parallel", "fig10_loss", "fig11_hole_size", "fig19_epi_iterations"):
        assert (work / f"results/figures/{figure}.png").stat().st_size > 10_000, figure
