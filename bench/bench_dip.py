"""Throughput of the batched DIP engine against a plain one-tile loop.

Measures tile-iterations per second (on CPU from the median time of one iteration, which resists
other processes' bursts on a shared machine) (one Adam step of one tile's network = one tile-iteration) at
256 px, 2 bands, for the ``paper`` (Urban: ReLU) and ``authors-release`` networks:

- ``plain``: the network written the usual way (one ``nn.Module``, ``torch.optim.Adam``, the
  pytorch-msssim SSIM loss, input jitter, ``loss.item()`` every iteration), one tile at a time;
- ``batched``: :func:`sardip.dip.engine.fit` with B tiles at once (default convolution strategy for
  the device), and on CPU also ``batched-grouped`` (grouped convolutions at every level).

On CUDA it goes up to B = 64 (or out of memory) and records peak memory per tile; the GPU's speed
switches, the bf16 numerics and the campaign extrapolation are ``bench/bench_dip_gpu.py``'s. Writes
``bench/results/dip_<device>.json`` and ``.md``.

    python bench/bench_dip.py --iterations 4 --batch-sizes 1,2,4,8
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch
from common import RESULTS, write_results
from pytorch_msssim import ssim

from sardip.dip.engine import Speed, fit
from sardip.dip.network import UNet
from sardip.dip.noise import make_noise
from sardip.dip.presets import get_preset
from sardip.seeds import tile_seed

CAMPAIGN_TILE_ITERATIONS = 2800 * 6000


def _tiles(batch: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = (-15 + 3 * rng.standard_normal((batch, 2, size, size))).astype(np.float32)
    hidden = np.zeros((size, size), bool)
    hidden[size * 3 // 8 : size * 5 // 8, size * 5 // 8 : size * 7 // 8] = True
    return images, hidden


def plain_loop(preset_name: str, size: int, iterations: int, warmup: int, device: str) -> float:
    """Tile-iterations per second of the usual single-tile training loop."""
    preset = get_preset(preset_name, "Urban")
    images, hidden = _tiles(1, size)
    target = torch.from_numpy((images - preset.db_offset) / preset.db_scale).to(device)
    mask = torch.from_numpy(~hidden).to(device, torch.float32)[None, None]
    net = UNet(preset, 2).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=preset.lr)
    z = make_noise(preset.noise, (1, 2, size, size), preset.noise_scale, torch.Generator().manual_seed(0)).to(device)
    times = []
    for _ in range(warmup + iterations):
        start = time.perf_counter()
        opt.zero_grad()
        out = net(z + preset.jitter * torch.randn_like(z)) * mask
        loss = -preset.ssim_weight * ssim(out, target * mask, data_range=preset.ssim_data_range)
        if preset.mse_weight:
            loss = loss + preset.mse_weight * torch.mean((out - target * mask) ** 2)
        loss.backward()
        opt.step()
        loss.item()
        times.append(time.perf_counter() - start)
    return 1.0 / float(np.median(times[warmup:]))


def batched(
    preset_name: str, size: int, batch: int, iterations: int, warmup: int, device: str, speed: Speed | None = None
) -> tuple[float, float | None]:
    """Tile-iterations per second of the engine with ``batch`` tiles, and peak MiB per tile on CUDA."""
    preset = get_preset(preset_name, "Urban")
    images, hidden = _tiles(batch, size)
    seeds = [tile_seed(f"b{i}", 0) for i in range(batch)]
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    report_every = 1 if device == "cpu" else warmup
    result = fit(
        images,
        hidden,
        preset,
        seeds,
        iterations=warmup + iterations,
        report_every=report_every,
        device=device,
        speed=speed,
    )
    seconds = [0.0] + [row["seconds"] for row in result.trajectories[0]]
    if report_every == 1:
        per_iteration = float(np.median(np.diff(seconds)[warmup:]))
    else:
        per_iteration = (seconds[-1] - seconds[1]) / iterations
    peak = torch.cuda.max_memory_allocated() / 2**20 / batch if device.startswith("cuda") else None
    return batch / per_iteration, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=4, help="timed iterations per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="untimed iterations first")
    parser.add_argument("--batch-sizes", default=None, help="e.g. 1,2,4,8 (CUDA default: up to 64)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cuda = args.device.startswith("cuda")
    default_sizes = "1,2,4,8,16,32,64" if cuda else "1,2,4,8"
    sizes = [int(b) for b in (args.batch_sizes or default_sizes).split(",")]
    report: dict = {
        "device": torch.cuda.get_device_name(args.device) if cuda else platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "threads": args.threads,
        "size": args.size,
        "iterations": args.iterations,
        "warmup": args.warmup,
        "presets": {},
    }
    variants = {"batched": Speed()} if cuda else {"batched": Speed(), "batched-grouped": Speed(conv="grouped")}
    for name in ("paper", "authors-release"):
        entry: dict = {"plain": plain_loop(name, args.size, args.iterations, args.warmup, args.device)}
        print(f"{name} plain: {entry['plain']:.3f} tile-it/s", flush=True)
        for variant, speed in variants.items():
            entry[variant] = {}
            for b in sizes:
                try:
                    rate, peak = batched(name, args.size, b, args.iterations, args.warmup, args.device, speed)
                except torch.cuda.OutOfMemoryError:
                    break
                entry[variant][str(b)] = {"tile_it_s": rate, "speedup": rate / entry["plain"], "peak_mib_tile": peak}
                print(f"{name} {variant} B={b}: {rate:.3f} tile-it/s ({rate / entry['plain']:.2f}x)", flush=True)
        best = max(v["tile_it_s"] for var in variants for v in entry[var].values())
        entry["best_tile_it_s"] = best
        entry["campaign_hours"] = CAMPAIGN_TILE_ITERATIONS / best / 3600
        report["presets"][name] = entry
    tag = "cuda" if cuda else "cpu"
    write_results(f"dip_{tag}", _markdown(report, variants), report, presets=["paper/Urban", "authors-release/Urban"])
    print(f"wrote {RESULTS / f'dip_{tag}.json'} and .md")


def _markdown(report: dict, variants: dict) -> str:
    lines = [
        f"# DIP throughput on {report['device']}",
        "",
        f"torch {report['torch']}, {report['threads']} threads, {report['size']} px, 2 bands; "
        f"{report['iterations']} timed iterations after {report['warmup']} warm-up ones (CPU: median "
        "iteration time). "
        "Rates in tile-iterations per second; speed-up against the plain one-tile loop.",
        "",
    ]
    for name, entry in report["presets"].items():
        lines += [f"## {name}", "", f"plain loop: {entry['plain']:.3f} tile-it/s", ""]
        lines += ["| variant | B | tile-it/s | speed-up | peak MiB/tile |", "|---|---|---|---|---|"]
        for variant in variants:
            for b, v in entry[variant].items():
                peak = "" if v["peak_mib_tile"] is None else f"{v['peak_mib_tile']:.0f}"
                lines.append(f"| {variant} | {b} | {v['tile_it_s']:.3f} | {v['speedup']:.2f}x | {peak} |")
        lines += [
            "",
            f"Paper campaign (2800 tiles x 6000 iterations) at the best rate: {entry['campaign_hours']:.1f} h.",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
