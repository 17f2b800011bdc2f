"""Fit B Deep Image Priors at once, one independent network per tile.

For each tile ``b`` with dB image ``I_b`` (C, H, W) and known-pixel mask ``M_b`` (1 = known; hidden,
NaN and padding pixels are 0), the engine minimises over ``theta_b``::

    L_b(theta_b) = mse_weight * MSE(f(Z_b) * M_b, I_b * M_b) - ssim_weight * SSIM(f(Z_b) * M_b, I_b * M_b)

in normalised units ``x_n = (x_dB - db_offset) / db_scale`` (an exact affine map, inverted on output),
and returns ``f_theta*(Z_b)`` in dB, with NaN again where the input was NaN. The B problems share
nothing: each tile's parameters, input noise, jitter generator, Adam moments, learning rate and
plateau counters are its own, and the minimised ``sum_b L_b`` has gradient ``dL_b / dtheta_b``
with respect to tile ``b``'s parameters. A tile's seed (:func:`sardip.seeds.tile_seed`) fixes its initialisation,
``Z`` and jitter, so its result does not depend on which tiles share its batch.

Iterations never read the device back: losses, learning rates and plateau counters stay tensors,
and the host sees them only at report points (every ``report_every`` iterations) and checkpoints.
The learning-rate plateau rule is PyTorch's ``ReduceLROnPlateau`` (mode ``min``, relative threshold,
no cooldown) evaluated on the device after every Adam step, per tile::

    improved = loss < best * (1 - threshold);  best = loss if improved
    bad = 0 if improved else bad + 1
    if bad > patience: lr = max(lr * factor, min_lr) (kept when the change is <= 1e-8); bad = 0

Adam is PyTorch's (betas 0.9, 0.999, eps 1e-8, no weight decay) with a per-tile learning rate.

How fast a fit runs is a separate choice (:class:`Speed`): the convolution strategy of the B networks
(:data:`sardip.dip.network.CONV_MODES`), bfloat16 autocast of the network (the losses stay fp32), TF32,
``channels_last`` activations, ``torch.compile`` (its mode ``reduce-overhead`` replays CUDA graphs) and
the jitter draw (per tile, or one batched draw: :mod:`sardip.dip.noise`). None of them changes what is
minimised; autocast, TF32 and the convolution strategy change the floating-point rounding, the batched
jitter draw changes the random stream (statistically alike). The defaults are the CPU-proven ones:
fp32, the device's convolution strategy, per-tile jitter; ``bench/bench_dip_gpu.py`` measures the others.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from sardip.dip.checkpoint import load_checkpoint, save_checkpoint
from sardip.dip.losses import MaskedTarget, masked_ssim
from sardip.dip.network import CONV_MODES, BatchedUNet
from sardip.dip.noise import batched_jitter, jitter, make_noise, tile_keys
from sardip.dip.presets import Preset

#: Scale of the ``ssim_known`` quality column whatever the preset: SEN12MS's [-25, 0] dB onto [-1, 1],
#: shifted by +2 inside SSIM so -37.5 dB is 0 (see :mod:`sardip.dip.losses` on SSIM of signed values).
METRIC_OFFSET_DB, METRIC_SCALE_DB, METRIC_DATA_RANGE = -12.5, 12.5, 2.0
BETAS, ADAM_EPS, PLATEAU_EPS = (0.9, 0.999), 1e-8, 1e-8
#: Columns of a fit's trajectory (one row per report point), as the engine logs and the convergence filter reads them.
TRAJECTORY_COLUMNS: tuple[str, ...] = ("iteration", "loss", "ssim_known", "lr", "seconds")

#: Called at each report point with (iterations done, iterations in all, one trajectory row per tile).
ProgressCallback = Callable[[int, int, list[dict]], None]


class EngineError(ValueError):
    """Inputs a fit cannot use (shapes, seeds, a tile without any known pixel, an unusable device option)."""


#: ``torch.compile`` modes a fit may ask for (``None``: no compilation).
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune-no-cudagraphs")
#: How the per-iteration input jitter is drawn (:mod:`sardip.dip.noise`).
JITTER_DRAWS = ("per-tile", "batched")


@dataclass(frozen=True)
class Speed:
    """How a fit runs (module docstring); ``conv`` of :data:`sardip.dip.network.CONV_MODES` with
    ``split_pixels`` for ``auto``, ``compile`` of :data:`COMPILE_MODES` or ``None``, ``jitter`` of
    :data:`JITTER_DRAWS`. ``amp``, ``tf32`` and ``channels_last`` need CUDA; so do ``streams``."""

    conv: str = "auto"
    split_pixels: int | None = None
    amp: bool = False
    tf32: bool = False
    channels_last: bool = False
    compile: str | None = None
    jitter: str = "per-tile"

    def __post_init__(self) -> None:
        if self.conv not in CONV_MODES:
            raise EngineError(f"conv={self.conv!r}; choose from {list(CONV_MODES)}")
        if self.compile is not None and self.compile not in COMPILE_MODES:
            raise EngineError(f"compile={self.compile!r}; choose from {list(COMPILE_MODES)} or None")
        if self.jitter not in JITTER_DRAWS:
            raise EngineError(f"jitter={self.jitter!r}; choose from {list(JITTER_DRAWS)}")

    def check(self, device: torch.device) -> None:
        """:class:`EngineError` for a switch ``device`` cannot run."""
        needs_cuda = [k for k in ("amp", "tf32", "channels_last") if getattr(self, k)] + (
            ["conv=streams"] if self.conv == "streams" else []
        )
        if needs_cuda and device.type != "cuda":
            raise EngineError(f"{', '.join(needs_cuda)} need a CUDA device, not {str(device)!r}")

    def to_dict(self) -> dict:
        """The switches, for provenance and checkpoints."""
        return dataclasses.asdict(self)


@dataclass
class FitResult:
    """What a fit returns.

    ``output_db`` (B, C, H, W) float32: the network output ``f(Z)`` in dB, NaN where the input was NaN.
    ``trajectories[b]``: tile ``b``'s rows (``TRAJECTORY_COLUMNS``) every ``report_every`` iterations:
    ``loss`` of that iteration's forward pass, ``ssim_known`` = SSIM of ``f(Z) M`` vs ``I M`` on the
    fixed [-1, 1] scale of :data:`METRIC_SCALE_DB`, ``lr`` in force, ``seconds`` since the fit started
    (resumed runs included). ``snapshots[i]`` (B, C, H, W) dB: ``f(Z)`` (no jitter) after ``i`` updates.
    """

    output_db: np.ndarray
    trajectories: list[list[dict]]
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)
    iterations: int = 0
    resumed_from: int = 0
    seconds: float = 0.0


def _pad_to(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def plateau_step(
    loss: torch.Tensor, lr: torch.Tensor, best: torch.Tensor, bad: torch.Tensor, preset: Preset
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One ``ReduceLROnPlateau.step(loss)`` per tile on the device: new (lr, best, bad), each (B,).

    Same rule as PyTorch's (mode ``min``, ``threshold_mode="rel"``, no cooldown), written with
    ``torch.where`` so that it never reads the device back.
    """
    improved = loss < best * (1 - preset.plateau_threshold)
    best = torch.where(improved, loss.to(best.dtype), best)
    bad = torch.where(improved, torch.zeros_like(bad), bad + 1)
    reduce = bad > preset.plateau_patience
    new_lr = torch.clamp(lr * preset.plateau_factor, min=preset.plateau_min_lr)
    lr = torch.where(reduce & (lr - new_lr > PLATEAU_EPS), new_lr, lr)
    bad = torch.where(reduce, torch.zeros_like(bad), bad)
    return lr, best, bad


@contextlib.contextmanager
def _tf32(enabled: bool) -> Iterator[None]:
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


class _Fit:
    """State of one batched fit; see :func:`fit`."""

    def __init__(
        self,
        images_db: np.ndarray,
        hidden: np.ndarray,
        preset: Preset,
        seeds: Sequence[int],
        device: torch.device,
        speed: Speed,
    ) -> None:
        B, C, H, W = images_db.shape
        self.preset, self.device, self.shape = preset, device, (B, C, H, W)
        multiple = 2**preset.depth
        Hp, Wp = max(_pad_to(H, multiple), 2 * multiple), max(_pad_to(W, multiple), 2 * multiple)
        x = torch.from_numpy(np.ascontiguousarray(images_db, dtype=np.float32))
        known = torch.from_numpy(~hidden)[:, None] & torch.isfinite(x)
        pad = (0, Wp - W, 0, Hp - H)
        x = torch.nn.functional.pad(torch.nan_to_num(x), pad)
        known = torch.nn.functional.pad(known, pad).to(torch.float32)
        self.nan = torch.from_numpy(np.isnan(images_db))
        self.target = MaskedTarget(
            ((x - preset.db_offset) / preset.db_scale).to(device),
            known.to(device),
            preset.ssim_data_range,
            preset.ssim_offset,
            preset.ssim_padding,
        )
        self.metric = MaskedTarget(
            ((x - METRIC_OFFSET_DB) / METRIC_SCALE_DB).to(device), known.to(device), METRIC_DATA_RANGE, 2.0
        )
        self.net = BatchedUNet(preset, C, B, speed.split_pixels, device=str(device), conv=speed.conv)
        self.network = torch.compile(self.net, mode=speed.compile) if speed.compile else self.net
        self.speed = speed
        flats, zs, self.generators = [], [], []
        for seed in seeds:
            gen = torch.Generator().manual_seed(int(seed))
            flats.append(self.net.init_tile(gen))
            zs.append(make_noise(preset.noise, (C, Hp, Wp), preset.noise_scale, gen))
            jitter_gen = torch.Generator(device=device)
            jitter_gen.manual_seed(int(seed) ^ 0x5DEECE66D)
            self.generators.append(jitter_gen)
        with torch.no_grad():
            self.net.flat.copy_(torch.stack(flats).to(device))
        self.z = torch.stack(zs).to(device)
        if speed.channels_last:
            self.z = self.z.contiguous(memory_format=torch.channels_last)
        self.keys = tile_keys(list(seeds), device)
        self.m = torch.zeros_like(self.net.flat)
        self.v = torch.zeros_like(self.net.flat)
        self.lr = torch.full((B,), preset.lr, dtype=torch.float64, device=device)
        self.best = torch.full((B,), math.inf, device=device)
        self.bad = torch.zeros(B, dtype=torch.int64, device=device)
        self.step = 0

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """The B networks on ``z`` (B, C, Hp, Wp), under bfloat16 autocast when ``amp`` is on."""
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.speed.amp):
            return self.network(z)

    def jittered(self) -> torch.Tensor:
        """This iteration's input ``Z + jitter N(0, 1)`` (``Z`` itself without jitter)."""
        sigma = self.preset.jitter
        if sigma <= 0:
            return self.z
        if self.speed.jitter == "batched":
            return batched_jitter(self.z, sigma, self.keys, torch.tensor(self.step, device=self.device))
        return jitter(self.z, sigma, self.generators)

    def clean_output(self) -> torch.Tensor:
        """``f(Z)`` without jitter, in normalised units, padded (B, C, Hp, Wp)."""
        with torch.no_grad():
            return self.forward(self.z).float()

    def to_db(self, out: torch.Tensor) -> np.ndarray:
        """Normalised padded output -> dB (B, C, H, W) numpy, NaN where the input was NaN."""
        _, _, H, W = self.shape
        db = out[:, :, :H, :W].cpu() * self.preset.db_scale + self.preset.db_offset
        return torch.where(self.nan, torch.nan, db).numpy().astype(np.float32)

    def iterate(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One Adam step for every tile; returns the per-tile loss (B,) and the output (both detached)."""
        p = self.preset
        out = self.forward(self.jittered()).float()
        loss = self.target.loss(out, p.ssim_weight, p.mse_weight)
        grads = torch.autograd.grad(loss.sum(), self.net.leaves)
        grad = torch.cat([g.reshape(len(g), -1) for g in grads], 1)
        self.step += 1
        b1, b2 = BETAS
        with torch.no_grad():
            self.m.mul_(b1).add_(grad, alpha=1 - b1)
            self.v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
            denom = (self.v.sqrt() / math.sqrt(1 - b2**self.step)).add_(ADAM_EPS)
            step_size = (self.lr / (1 - b1**self.step)).to(self.m.dtype)[:, None]
            self.net.flat.sub_(self.m / denom * step_size)
            loss = loss.detach()
            if p.scheduler == "plateau":
                self.lr, self.best, self.bad = plateau_step(loss, self.lr, self.best, self.bad, p)
        return loss, out.detach()

    def ssim_known(self, out: torch.Tensor) -> torch.Tensor:
        """SSIM (B,) of the known pixels of ``out`` (normalised units) on the fixed metric scale."""
        p = self.preset
        scaled = (out * p.db_scale + p.db_offset - METRIC_OFFSET_DB) / METRIC_SCALE_DB
        return masked_ssim(scaled, self.metric)

    def state(self) -> dict:
        return {
            "step": self.step,
            "flat": self.net.flat.detach().cpu(),
            "m": self.m.cpu(),
            "v": self.v.cpu(),
            "lr": self.lr.cpu(),
            "best": self.best.cpu(),
            "bad": self.bad.cpu(),
            "generators": [g.get_state() for g in self.generators],
        }

    def load(self, state: dict) -> None:
        self.step = int(state["step"])
        with torch.no_grad():
            self.net.flat.copy_(state["flat"].to(self.device))
        self.m = state["m"].to(self.device)
        self.v = state["v"].to(self.device)
        self.lr = state["lr"].to(self.device)
        self.best = state["best"].to(self.device)
        self.bad = state["bad"].to(self.device)
        for g, s in zip(self.generators, state["generators"], strict=True):
            g.set_state(s)


def fit(
    images_db: np.ndarray,
    hidden: np.ndarray,
    preset: Preset,
    seeds: Sequence[int],
    *,
    iterations: int | None = None,
    device: str = "cpu",
    report_every: int = 100,
    snapshot_iters: Sequence[int] = (),
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 500,
    progress: ProgressCallback | None = None,
    speed: Speed | None = None,
) -> FitResult:
    """Fit one DIP per tile and return the outputs in dB.

    ``images_db`` (B, C, H, W) float dB, NaN = nodata (never fitted, NaN in the output); ``hidden``
    (H, W) or (B, H, W) bool, True = hidden (not fitted); ``seeds`` one per tile (see :func:`sardip.seeds.tile_seed`).
    Any H, W: tiles are zero-padded at the bottom/right to a multiple of ``2 ** preset.depth`` (and to
    at least twice that, so the coarsest level keeps 2 px for reflection padding) with the padding
    marked unknown, and cropped back. ``iterations`` defaults to the preset's.
    ``checkpoint``: resume from this file when it exists (it must come from the same preset, seeds and
    shape) and save the state there every ``checkpoint_every`` iterations; on the CPU a resumed fit
    gives bit-identical results. ``speed``: how the fit runs (:class:`Speed`; default fp32, the
    device's convolution strategy, per-tile jitter).
    """
    images_db = np.asarray(images_db, dtype=np.float32)
    if images_db.ndim != 4:
        raise EngineError(f"images must be (B, C, H, W), got shape {images_db.shape}")
    B, C, H, W = images_db.shape
    hidden = np.asarray(hidden, dtype=bool)
    if hidden.shape not in ((H, W), (B, H, W)):
        raise EngineError(f"hidden has shape {hidden.shape}; expected ({H}, {W}) or ({B}, {H}, {W})")
    hidden = np.broadcast_to(hidden, (B, H, W))
    if len(seeds) != B:
        raise EngineError(f"{len(seeds)} seeds for {B} tiles")
    fitted = (~hidden)[:, None] & np.isfinite(images_db)
    empty = [b for b in range(B) if not fitted[b].any()]
    if empty:
        raise EngineError(f"tile(s) {empty} have no known pixel to fit (all hidden or NaN)")
    iterations = preset.iterations if iterations is None else int(iterations)
    if report_every < 1 or iterations < 0:
        raise EngineError("report_every must be >= 1 and iterations >= 0")
    dev = torch.device(device)
    speed = speed or Speed()
    speed.check(dev)

    state = _Fit(images_db, np.ascontiguousarray(hidden), preset, seeds, dev, speed)
    expect = {"config_hash": preset.config_hash(), "seeds": [int(s) for s in seeds], "shape": [B, C, H, W],
              "jitter": speed.jitter}  # fmt: skip
    trajectories: list[list[dict]] = [[] for _ in range(B)]
    snapshots: dict[int, torch.Tensor] = {}
    elapsed = 0.0
    saved = load_checkpoint(checkpoint, expect) if checkpoint else None
    if saved is not None:
        state.load(saved)
        trajectories = saved["trajectories"]
        snapshots = {int(i): s.to(dev) for i, s in saved["snapshots"]}
        elapsed = float(saved["seconds"])
    resumed_from = state.step
    wanted = {int(i) for i in snapshot_iters if 0 <= int(i) <= iterations}
    start = time.perf_counter() - elapsed

    with _tf32(speed.tf32) if dev.type == "cuda" else contextlib.nullcontext():
        while state.step < iterations:
            if state.step in wanted and state.step not in snapshots:
                snapshots[state.step] = state.clean_output()
            loss, out = state.iterate()
            done = state.step
            if done % report_every == 0 or done == iterations:
                rows = _rows(done, loss, state.ssim_known(out), state.lr, time.perf_counter() - start)
                for b, row in enumerate(rows):
                    trajectories[b].append(row)
                if progress is not None:
                    progress(done, iterations, rows)
            if checkpoint and checkpoint_every > 0 and done % checkpoint_every == 0 and done < iterations:
                save_checkpoint(
                    checkpoint,
                    {
                        **expect,
                        **state.state(),
                        "trajectories": trajectories,
                        "snapshots": [[i, s.cpu()] for i, s in sorted(snapshots.items())],
                        "seconds": time.perf_counter() - start,
                    },
                )
        final = state.clean_output()
    if iterations in wanted:
        snapshots[iterations] = final
    return FitResult(
        output_db=state.to_db(final),
        trajectories=trajectories,
        snapshots={i: state.to_db(s) for i, s in sorted(snapshots.items())},
        iterations=iterations,
        resumed_from=resumed_from,
        seconds=time.perf_counter() - start,
    )


def _rows(done: int, loss: torch.Tensor, ssim: torch.Tensor, lr: torch.Tensor, seconds: float) -> list[dict]:
    values = torch.stack([loss.double(), ssim.double(), lr.double()]).cpu().tolist()
    return [
        {"iteration": done, "loss": values[0][b], "ssim_known": values[1][b], "lr": values[2][b], "seconds": seconds}
        for b in range(len(values[0]))
    ]
