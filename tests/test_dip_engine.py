"""The batched DIP fit: masking, NaN, seeds and batch independence, plateau rule, checkpoints, real tiles."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch

from sardip.dip.checkpoint import CheckpointError
from sardip.dip.engine import EngineError, Speed, fit, plateau_step
from sardip.dip.presets import get_preset
from sardip.fill import paste_db
from sardip.seeds import tile_seed

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[1]
REAL_S1 = REPO / "tests" / "data" / "sen12ms_real" / "ROIs1158_spring_s1_1_p30.tif"
SMALL = {"widths": (4, 8, 16)}


def _tiles(n: int, size: tuple[int, int] = (32, 32), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (-15 + 3 * rng.standard_normal((n, 2, *size))).astype(np.float32)


def _hole(size: tuple[int, int] = (32, 32)) -> np.ndarray:
    hidden = np.zeros(size, bool)
    hidden[8:20, 10:22] = True
    return hidden


@pytest.mark.parametrize("name", ["paper", "authors-release"])
def test_odd_size_every_loss_and_noise(name: str) -> None:
    base = get_preset(name, "Urban").replace(**SMALL)
    images = _tiles(1, (37, 31))
    for noise in ("gaussian", "rayleigh", "uniform"):
        for weights in ((1.0, 0.0), (0.0, 1.0)):
            preset = base.replace(noise=noise, ssim_weight=weights[0], mse_weight=weights[1])
            result = fit(images, _hole((37, 31)), preset, [1], iterations=3, report_every=1)
            assert result.output_db.shape == (1, 2, 37, 31)
            assert np.isfinite(result.output_db).all()
            assert [r["iteration"] for r in result.trajectories[0]] == [1, 2, 3]


def test_loss_sees_known_pixels_only_and_nan_is_nodata() -> None:
    preset = get_preset("paper", "Forest").replace(**SMALL)
    images = _tiles(1)
    hidden = _hole()
    images[0, 1, 0:3, 0:4] = np.nan
    changed = images.copy()
    changed[0][:, hidden] = 40.0  # hidden values are never looked at
    changed[0, 1, 0:3, 0:4] = np.nan
    a = fit(images, hidden, preset, [7], iterations=15, report_every=5)
    b = fit(changed, hidden, preset, [7], iterations=15, report_every=5)
    np.testing.assert_array_equal(a.output_db, b.output_db)
    assert np.isnan(a.output_db[0, 1, 0:3, 0:4]).all()
    assert np.isfinite(a.output_db[0, 0]).all() and np.isfinite(a.output_db[0, 1, 3:]).all()
    res = fit(images, hidden, preset, [7], iterations=2)
    pasted = paste_db(images[0], res.output_db[0], hidden, speckle=False, seed=0).db
    np.testing.assert_array_equal(pasted[:, ~hidden], images[0][:, ~hidden])
    with pytest.raises(EngineError, match="no known pixel"):
        fit(np.full_like(images, np.nan), hidden, preset, [7], iterations=1)


@pytest.mark.parametrize("split_pixels", [None, 1 << 40])
def test_batch_independence(split_pixels: int | None) -> None:
    preset = get_preset("authors-release").replace(**SMALL)
    images = _tiles(4)
    hidden = np.stack([_hole(), _hole()[::-1], _hole()[:, ::-1], _hole()])
    seeds = [tile_seed(f"t{i}", 0) for i in range(4)]
    together = fit(
        images, hidden, preset, seeds, iterations=25, report_every=25, speed=Speed(split_pixels=split_pixels)
    )
    alone = fit(images[2:3], hidden[2], preset, seeds[2:3], iterations=25, report_every=25)
    np.testing.assert_allclose(together.output_db[2], alone.output_db[0], atol=2e-4)
    assert not np.allclose(together.output_db[1], together.output_db[2])


def test_plateau_matches_torch_scheduler() -> None:
    preset = get_preset("authors-release").replace(plateau_patience=3, plateau_factor=0.5, plateau_min_lr=1e-4)
    losses = [5.0, 4.0, 4.0, 4.1, 4.0, 3.9999, 4.2, 3.0, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5] * 3
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-3)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=3, min_lr=1e-4)
    lr = torch.tensor([1e-3], dtype=torch.float64)
    best, bad = torch.tensor([np.inf], dtype=torch.float64), torch.zeros(1, dtype=torch.int64)
    for value in losses:
        sched.step(value)
        lr, best, bad = plateau_step(torch.tensor([value]), lr, best, bad, preset)
        assert lr.item() == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)


def test_snapshots_and_trajectory() -> None:
    preset = get_preset("paper", "Water").replace(**SMALL)
    result = fit(_tiles(2), _hole(), preset, [1, 2], iterations=10, report_every=4, snapshot_iters=(0, 4, 10, 99))
    assert sorted(result.snapshots) == [0, 4, 10]
    np.testing.assert_array_equal(result.snapshots[10], result.output_db)
    assert not np.allclose(result.snapshots[0], result.snapshots[4])
    assert [r["iteration"] for r in result.trajectories[1]] == [4, 8, 10]
    assert set(result.trajectories[0][0]) == {"iteration", "loss", "ssim_known", "lr", "seconds"}


CHILD = """
import sys, numpy as np, torch
torch.set_num_threads(1)
sys.path.insert(0, {repo!r})
from sardip.dip.engine import fit
from sardip.dip.presets import get_preset
rng = np.random.default_rng(0)
images = (-15 + 3 * rng.standard_normal((2, 2, 32, 32))).astype(np.float32)
hidden = np.zeros((32, 32), bool); hidden[8:20, 10:22] = True
preset = get_preset("authors-release").replace(widths=(4, 8, 16), plateau_patience=5)
fit(images, hidden, preset, [11, 12], iterations={iterations}, report_every=10, snapshot_iters=(0, 30),
    checkpoint={checkpoint!r}, checkpoint_every=20)
"""


def test_kill_and_resume_is_bit_identical(tmp_path: Path) -> None:
    iterations = 400
    ckpt = tmp_path / "fit.ckpt"
    code = CHILD.format(repo=str(REPO), iterations=iterations, checkpoint=str(ckpt))
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 120
        while not ckpt.exists():
            assert child.poll() is None, "child ended before its first checkpoint"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    saved = torch.load(ckpt, weights_only=True)
    assert 0 < saved["step"] < iterations

    rng = np.random.default_rng(0)
    images = (-15 + 3 * rng.standard_normal((2, 2, 32, 32))).astype(np.float32)
    hidden = _hole()
    preset = get_preset("authors-release").replace(widths=(4, 8, 16), plateau_patience=5)
    kw = {"iterations": iterations, "report_every": 10, "snapshot_iters": (0, 30), "checkpoint_every": 20}
    resumed = fit(images, hidden, preset, [11, 12], checkpoint=ckpt, **kw)
    straight = fit(images, hidden, preset, [11, 12], **kw)
    assert resumed.resumed_from == saved["step"]
    np.testing.assert_array_equal(resumed.output_db, straight.output_db)
    for i in (0, 30):
        np.testing.assert_array_equal(resumed.snapshots[i], straight.snapshots[i])
    for a, b in zip(resumed.trajectories, straight.trajectories, strict=True):
        assert [(r["iteration"], r["loss"], r["lr"]) for r in a] == [(r["iteration"], r["loss"], r["lr"]) for r in b]
    with pytest.raises(CheckpointError, match="another fit"):
        fit(images, hidden, preset, [11, 13], checkpoint=ckpt, **kw)


@pytest.mark.parametrize(("name", "min_ssim"), [("paper", 0.6), ("authors-release", 0.25)])
def test_real_sen12ms_tile(name: str, min_ssim: float) -> None:
    with rasterio.open(REAL_S1) as src:
        image = src.read()[:, 96:160, 160:224].astype(np.float32)
    hidden = np.zeros((64, 64), bool)
    hidden[16:48, 20:52] = True
    result = fit(image[None], hidden, get_preset(name, "Urban"), [tile_seed("p30", 0)], iterations=200)
    out = paste_db(image, result.output_db[0], hidden, speckle=False, seed=0).db
    np.testing.assert_array_equal(out[:, ~hidden], image[:, ~hidden])
    assert np.isfinite(out).all()
    hole = out[:, hidden]
    assert hole.min() > -40 and hole.max() < 10
    assert abs(np.median(hole) - np.median(image)) < 5
    assert result.trajectories[0][-1]["ssim_known"] > min_ssim


def test_ssim_loss_does_not_reward_the_negated_image():
    """On signed data SSIM(-y, y) is close to 1; the offset that makes values non-negative removes that optimum."""
    from sardip.dip.losses import MaskedTarget, masked_ssim

    gen = torch.Generator().manual_seed(0)
    y = torch.rand((1, 2, 32, 32), generator=gen) * 0.8 - 0.9  # dB around -20 .. 0 in [-1, 1] units
    y[..., 8:24, 8:24] += 0.8
    known = torch.ones_like(y)
    signed = MaskedTarget(y, known, 2.0, offset=0.0)
    shifted = MaskedTarget(y, known, 2.0, offset=1.0)
    assert masked_ssim(-y, signed).item() > 0.8  # the trap: the negated image scores almost like y
    assert masked_ssim(-y, shifted).item() < 0.3
    assert masked_ssim(y, shifted).item() == pytest.approx(1.0, abs=1e-6)


def test_paper_fit_is_not_inverted():
    """A structured tile fitted with the paper preset correlates positively with the input on known pixels."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:32, 0:32]
    streets = ((yy % 8) < 2) | ((xx % 8) < 2)
    image = np.where(streets, -16.0, -6.0)[None].repeat(2, 0).astype(np.float32)
    image += rng.normal(0, 1, image.shape).astype(np.float32)
    hidden = np.zeros((32, 32), bool)
    hidden[10:18, 10:18] = True
    torch.set_num_threads(1)
    result = fit(image[None], hidden[None], get_preset("paper", "Urban"), [0], iterations=150, report_every=50)
    out = result.output_db[0]
    known = ~hidden
    assert np.corrcoef(out[:, known].ravel(), image[:, known].ravel())[0, 1] > 0.5


def test_zero_padded_ssim_is_the_releases() -> None:
    """The authors' release (pytorch_ssim) filters with a 2-D Gaussian, zero padding 5, mean over the whole map."""
    from sardip.dip.losses import MaskedTarget, gaussian_window

    gen = torch.Generator().manual_seed(3)
    x, y = torch.rand((2, 2, 37, 31), generator=gen) * -20, torch.rand((2, 2, 37, 31), generator=gen) * -20
    g = gaussian_window()
    window = (g[:, None] * g[None, :]).expand(2, 1, 11, 11)

    def blur(a: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.conv2d(a, window, padding=5, groups=2)

    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    c1, c2 = 0.01**2, 0.03**2
    ssim_map = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    ours = MaskedTarget(y, torch.ones_like(y), 1.0, padding="zero").ssim(x)
    torch.testing.assert_close(ours, ssim_map.flatten(1).mean(1), rtol=1e-5, atol=1e-6)
    assert get_preset("authors-release").ssim_padding == "zero" and get_preset("paper", "Water").ssim_padding == "valid"


@pytest.mark.parametrize("speed", [Speed(jitter="batched"), Speed(conv="vmap"), Speed(conv="grouped")])
def test_speed_switches_keep_each_tile_independent_of_its_batch_mates(speed: Speed) -> None:
    """Every CPU-runnable switch: a tile fitted among others matches it fitted alone (bit for bit where
    the convolution is per tile, to float rounding for grouped and vmapped ones)."""
    preset = get_preset("paper", "Urban").replace(**SMALL)
    images, seeds = _tiles(3), [tile_seed(f"t{i}", 0) for i in range(3)]
    together = fit(images, _hole(), preset, seeds, iterations=8, report_every=8, speed=speed)
    alone = fit(images[1:2], _hole(), preset, seeds[1:2], iterations=8, report_every=8, speed=speed)
    if speed.conv == "auto":
        np.testing.assert_array_equal(together.output_db[1], alone.output_db[0])
    else:
        np.testing.assert_allclose(together.output_db[1], alone.output_db[0], atol=1e-3)
    default = fit(images[1:2], _hole(), preset, seeds[1:2], iterations=8, report_every=8)
    assert (speed.jitter == "batched") == (not np.allclose(default.output_db, alone.output_db, atol=1e-3))


def test_cuda_only_switches_are_refused_on_the_cpu() -> None:
    preset = get_preset("paper", "Urban").replace(**SMALL)
    for speed in (Speed(amp=True), Speed(tf32=True), Speed(channels_last=True), Speed(conv="streams")):
        with pytest.raises(EngineError, match="need a CUDA device"):
            fit(_tiles(1), _hole(), preset, [1], iterations=1, speed=speed)
    with pytest.raises(EngineError, match="compile="):
        Speed(compile="fastest")


def test_batched_jitter_is_a_normal_draw_per_tile_and_iteration() -> None:
    from sardip.dip.noise import batched_jitter, tile_keys

    z = torch.zeros((3, 2, 64, 64))
    keys = tile_keys([5, 6, 7], "cpu")
    a, b = batched_jitter(z, 1.0, keys, torch.tensor(0)), batched_jitter(z, 1.0, keys, torch.tensor(1))
    assert abs(a.mean().item()) < 0.02 and abs(a.std().item() - 1) < 0.02
    assert not torch.equal(a, b) and not torch.equal(a[0], a[1])
    torch.testing.assert_close(batched_jitter(z[1:2], 1.0, keys[1:2], torch.tensor(0))[0], a[1], rtol=0, atol=0)
