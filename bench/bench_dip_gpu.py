"""The DIP engine on a GPU: one prepared run that measures everything the paper campaign needs to know.

Within ``--budget`` seconds (default 420, so it ends inside an 8-minute device slot) it measures, for the
``paper`` network (Urban, ReLU) at 256 px, 2 bands:

1. tile-iterations per second against the batch size B (1 ... 256, until memory runs out) with the
   default switches, and the peak memory per tile;
2. each speed switch of :class:`sardip.dip.engine.Speed` at one batch size: TF32, bf16 autocast
   (with and without TF32), ``channels_last``, ``torch.compile`` in ``default``,
   ``max-autotune-no-cudagraphs`` and ``reduce-overhead`` (CUDA graphs) modes, the batched jitter draw,
   and the convolution strategies (grouped, a per-tile loop, the loop on separate streams, vmap);
3. the numerics of bf16 against fp32 on the real SEN12MS tile (release box, 1000 iterations): the FI
   SSIM of the two results (target: they differ by less than 0.005);
4. the FLOP count of one tile-iteration (``torch.utils.flop_counter``), the FLOP/s reached against the
   chip's peak, and the paper campaign (2800 tiles x 6000 iterations) extrapolated to one GPU and to six.

Everything goes to ``--out`` (``bench/results``) as ``dip_gpu.json`` and ``dip_gpu.md``, written once
at the end, also when the budget cut a measurement short. Without CUDA, ``--device cpu`` runs the same
code paths on small tiles (the switches that need CUDA are skipped): that is how the tests keep it
working, not a measurement.

    python bench/bench_dip_gpu.py                      # on a CUDA machine
    python bench/bench_dip_gpu.py --device cpu --size 32 --batch-sizes 1,2 --iterations 2 --numerics-iterations 2 \
        --switches fp32,batched_jitter,conv=split,conv=vmap --out /tmp/smoke
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch
from common import RESULTS, write_results
from data_sets import REAL_TILE
from torch.utils.flop_counter import FlopCounterMode

from sardip.dip.engine import Speed, fit
from sardip.dip.presets import get_preset
from sardip.fill import paste_db
from sardip.masks import release_box
from sardip.metrics import tile_metrics
from sardip.seeds import tile_seed
from sardip.sen12ms import read_s1

CAMPAIGN_TILE_ITERATIONS = 2800 * 6000
#: Dense peak TFLOP/s (fp32, tf32, bf16) by a word of the device name, from the vendors' data sheets.
PEAK_TFLOPS = {
    "H200": (67.0, 494.7, 989.4),
    "H100": (67.0, 494.7, 989.4),
    "A100": (19.5, 156.0, 312.0),
    "L40S": (91.6, 183.0, 362.0),
}
#: Switch variants measured at one batch size: name -> Speed fields (CUDA-only ones skipped on the CPU).
SWITCHES = {
    "fp32": {},
    "tf32": {"tf32": True},
    "bf16": {"amp": True},
    "bf16+tf32": {"amp": True, "tf32": True},
    "bf16+channels_last": {"amp": True, "channels_last": True},
    "batched_jitter": {"jitter": "batched"},
    "conv=split": {"conv": "split"},
    "conv=streams": {"conv": "streams"},
    "conv=vmap": {"conv": "vmap"},
    "compile": {"compile": "default"},
    "compile=max-autotune-no-cudagraphs": {"compile": "max-autotune-no-cudagraphs"},
    "compile=reduce-overhead": {"compile": "reduce-overhead"},
    "bf16+compile=reduce-overhead": {"amp": True, "compile": "reduce-overhead"},
}
CUDA_ONLY = {"tf32", "amp", "channels_last"}


def _tiles(batch: int, size: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    rng = np.random.default_rng(0)
    images = (-15 + 3 * rng.standard_normal((batch, 2, size, size))).astype(np.float32)
    hidden = np.zeros((size, size), bool)
    hidden[size * 3 // 8 : size * 5 // 8, size * 5 // 8 : size * 7 // 8] = True
    return images, hidden, [tile_seed(f"b{i}", 0) for i in range(batch)]


def throughput(batch: int, size: int, iterations: int, warmup: int, device: str, speed: Speed) -> dict:
    """Tile-iterations per second of ``batch`` tiles over ``iterations`` after ``warmup`` ones (which
    hold any compilation), from the fit's own clock at its report points (each reads the device back),
    and the peak memory per tile."""
    images, hidden, seeds = _tiles(batch, size)
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    result = fit(images, hidden, get_preset("paper", "Urban"), seeds, iterations=warmup + iterations,
                 report_every=warmup, device=device, speed=speed)  # fmt: skip
    rows = result.trajectories[0]
    timed = rows[-1]["seconds"] - rows[0]["seconds"]
    peak = torch.cuda.max_memory_allocated() / 2**20 / batch if device.startswith("cuda") else None
    return {"B": batch, "tile_it_s": batch * iterations / max(timed, 1e-9), "warmup_s": rows[0]["seconds"],
            "peak_mib_tile": peak}  # fmt: skip


def flops_per_tile_iteration(size: int, device: str) -> float:
    """FLOP of one Adam step of one tile's network (forward, backward, loss), counted by torch: a fit of
    two iterations less a fit of one (the set-up and the final output cancel out)."""
    images, hidden, seeds = _tiles(1, size)
    counts = []
    for iterations in (1, 2):
        with FlopCounterMode(display=False) as counter:
            fit(
                images,
                hidden,
                get_preset("paper", "Urban"),
                seeds,
                iterations=iterations,
                report_every=1,
                device=device,
            )
        counts.append(counter.get_total_flops())
    return float(counts[1] - counts[0])


def numerics(iterations: int, device: str) -> dict:
    """FI SSIM (mean over VV, VH) of the paper preset's result on the real tile, fp32 against bf16."""
    image = read_s1(REAL_TILE)
    hidden = release_box(image.shape[1:])
    preset = get_preset("paper", "Forest")
    seed = tile_seed(REAL_TILE.stem, 0)
    out = {}
    variants = {"fp32": Speed(), "bf16": Speed(amp=True)} if device.startswith("cuda") else {"fp32": Speed()}
    for name, speed in variants.items():
        result = fit(image[None], hidden, preset, [seed], iterations=iterations, report_every=iterations,
                     device=device, speed=speed)  # fmt: skip
        pasted = paste_db(image, result.output_db[0], hidden, speckle=False, seed=0).db
        table = tile_metrics(image, pasted, hidden)
        out[f"ssim_fi_{name}"] = float(table.query("metric == 'ssim' and scenario == 'FI'")["value"].mean())
    if "ssim_fi_bf16" in out:
        out["ssim_fi_difference"] = abs(out["ssim_fi_bf16"] - out["ssim_fi_fp32"])
        out["meets_0.005"] = out["ssim_fi_difference"] < 0.005
    return out


def _peak(name: str) -> tuple[float, float, float] | None:
    return next((v for k, v in PEAK_TFLOPS.items() if k in name), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch-sizes", default="1,8,32,64,128,256")
    parser.add_argument("--switch-batch", type=int, default=64, help="B at which the switches are compared")
    parser.add_argument("--iterations", type=int, default=20, help="timed iterations per measurement")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--numerics-iterations", type=int, default=1000)
    parser.add_argument("--switches", default=",".join(SWITCHES), help="comma-separated names of SWITCHES")
    parser.add_argument("--budget", type=float, default=420.0, help="seconds for the whole run")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    deadline = time.monotonic() + args.budget
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run with --device cpu for a smoke run of the code paths")
    name = torch.cuda.get_device_name(args.device) if cuda else platform.processor() or platform.machine()
    report: dict = {"device": name, "torch": torch.__version__, "size": args.size, "iterations": args.iterations,
                    "warmup": args.warmup, "by_batch": [], "switches": {}, "skipped": []}  # fmt: skip
    report["flop_per_tile_iteration"] = flops_per_tile_iteration(args.size, args.device)
    report["numerics"] = numerics(args.numerics_iterations, args.device)
    for batch in (int(b) for b in args.batch_sizes.split(",")):
        if time.monotonic() > deadline:
            report["skipped"].append(f"B={batch} (budget)")
            continue
        try:
            report["by_batch"].append(throughput(batch, args.size, args.iterations, args.warmup, args.device, Speed()))
        except torch.cuda.OutOfMemoryError:
            report["skipped"].append(f"B={batch} (out of memory)")
            break
        print(report["by_batch"][-1], flush=True)
    for switch in args.switches.split(","):
        fields = SWITCHES[switch]
        needs_cuda = bool(CUDA_ONLY & set(fields)) or fields.get("conv") == "streams"
        if (needs_cuda and not cuda) or (fields.get("compile") == "reduce-overhead" and not cuda):
            report["skipped"].append(f"{switch} (needs CUDA)")
            continue
        if time.monotonic() > deadline:
            report["skipped"].append(f"{switch} (budget)")
            continue
        try:
            row = throughput(args.switch_batch, args.size, args.iterations, args.warmup, args.device, Speed(**fields))
        except (torch.cuda.OutOfMemoryError, RuntimeError) as err:
            report["skipped"].append(f"{switch} ({type(err).__name__}: {str(err)[:120]})")
            continue
        report["switches"][switch] = row
        print(switch, row, flush=True)
    rows = report["by_batch"] + list(report["switches"].values())
    best = max(rows, key=lambda r: r["tile_it_s"]) if rows else None
    if best is not None:
        rate = best["tile_it_s"]
        report["best_tile_it_s"] = rate
        report["campaign_minutes_1_gpu"] = CAMPAIGN_TILE_ITERATIONS / rate / 60
        report["campaign_minutes_6_gpus"] = CAMPAIGN_TILE_ITERATIONS / rate / 60 / 6
        report["flop_per_s"] = rate * report["flop_per_tile_iteration"]
        peak = _peak(name)
        if peak is not None:
            report["peak_tflops_fp32_tf32_bf16"] = peak
            report["share_of_bf16_peak"] = report["flop_per_s"] / (peak[2] * 1e12)
            report["share_of_fp32_peak"] = report["flop_per_s"] / (peak[0] * 1e12)
    tag = "gpu" if cuda else "gpu_smoke_cpu"
    write_results(f"dip_{tag}", markdown(report), report, presets=["paper/Urban", "paper/Forest"], folder=args.out)
    print(markdown(report))


def markdown(report: dict) -> str:
    """The report as the README and the issue want it: tables against B and against each switch."""
    lines = [
        f"# DIP engine on {report['device']}",
        "",
        f"torch {report['torch']}, paper preset (Urban), {report['size']} px, 2 bands; {report['iterations']} timed "
        f"iterations after {report['warmup']} warm-up ones; one FLOP count per tile-iteration: "
        f"{report['flop_per_tile_iteration'] / 1e9:.2f} GFLOP.",
        "",
        "| B | tile-it/s | peak MiB/tile |",
        "|---|---|---|",
    ]
    for row in report["by_batch"]:
        peak = "" if row["peak_mib_tile"] is None else f"{row['peak_mib_tile']:.0f}"
        lines.append(f"| {row['B']} | {row['tile_it_s']:.1f} | {peak} |")
    lines += ["", "| switch | B | tile-it/s | warm-up s | peak MiB/tile |", "|---|---|---|---|---|"]
    for switch, row in report["switches"].items():
        peak = "" if row["peak_mib_tile"] is None else f"{row['peak_mib_tile']:.0f}"
        lines.append(f"| {switch} | {row['B']} | {row['tile_it_s']:.1f} | {row['warmup_s']:.1f} | {peak} |")
    lines += ["", f"Numerics on the real tile: {report['numerics']}", ""]
    if "best_tile_it_s" in report:
        lines += [
            f"Best: {report['best_tile_it_s']:.1f} tile-it/s, {report['flop_per_s'] / 1e12:.2f} TFLOP/s; paper "
            f"campaign {report['campaign_minutes_1_gpu']:.0f} min on one such device, "
            f"{report['campaign_minutes_6_gpus']:.0f} min on six (target: 60 min on one, about 4700 tile-it/s).",
        ]
        if "share_of_bf16_peak" in report:
            lines.append(
                f"Share of the chip's dense peak: {report['share_of_fp32_peak']:.1%} of fp32, "
                f"{report['share_of_bf16_peak']:.1%} of bf16."
            )
    if report["skipped"]:
        lines += ["", f"Not measured: {', '.join(report['skipped'])}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
