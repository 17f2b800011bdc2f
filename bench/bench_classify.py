"""Training throughput of the semantic-check classifiers (ResNet50, InceptionV3, EfficientNetB0).

Measures images per second of one training step (forward, cross-entropy, backward, Adam step) on a
random 2-band batch, from the median step time after a few untimed warm-up steps (the median resists
other processes' bursts on a shared machine). Data loading is not included: it is measured by the
workflow's own logs. Also extrapolates the time of one epoch over the SEN12MS train pool
(162,555 tiles), an upper bound on what the classifiers of the paper cost per epoch.

Writes ``bench/results/classify_<device>.json`` and ``.md`` (device: ``cpu`` or ``cuda``).

    python bench/bench_classify.py --size 128 --batch-size 8 --steps 3 --threads 1,2

On CPU each thread count is measured separately: on a machine shared with other jobs, OpenMP threads
that wait for a core each can make every operator tens of times slower than one thread alone, which
is why ``load_average`` is recorded too.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from common import write_results

from sardip.classify.models import MODELS, build_model

TRAIN_POOL_TILES = 162_555
NUM_CLASSES = 10


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def throughput(name: str, size: int, batch: int, steps: int, warmup: int, device: str) -> dict[str, float]:
    """Images per second of training steps of ``name`` on ``(batch, 2, size, size)`` inputs, and the model size."""
    torch.manual_seed(0)
    model = build_model(name, NUM_CLASSES).to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
    x = torch.randn(batch, 2, size, size, device=device)
    y = torch.randint(0, NUM_CLASSES, (batch,), device=device)
    times = []
    for _ in range(warmup + steps):
        _sync(device)
        start = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        _sync(device)
        times.append(time.perf_counter() - start)
    step = float(np.median(times[warmup:]))
    return {
        "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
        "step_s": step,
        "images_s": batch / step,
        "epoch_h_train_pool": TRAIN_POOL_TILES / (batch / step) / 3600,
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def markdown(report: dict) -> str:
    lines = [
        f"# Classifier training throughput ({report['device_kind']})",
        "",
        f"Device: {report['device']} ({report['cpu_count']} CPUs visible); torch {report['torch']}; "
        f"1-min load average before the run {report['load_average']:.2f}.",
        f"Input {report['size']}x{report['size']} px, 2 bands, batch {report['batch_size']}, {NUM_CLASSES} classes; "
        f"median of {report['steps']} timed steps after {report['warmup']} warm-up steps "
        "(forward + cross-entropy + backward + Adam step; no data loading).",
        "",
        "| model | threads | parameters (M) | s / step | images / s | h / epoch of the SEN12MS train pool |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for entry in report["runs"]:
        lines.append(
            f"| {MODELS[entry['model']].label} | {entry['threads']} | {entry['params_m']:.1f} | "
            f"{entry['step_s']:.3f} | {entry['images_s']:.1f} | {entry['epoch_h_train_pool']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=None, help="input side in px (default: 128 CPU, 256 CUDA)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: 8 CPU, 64 CUDA")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per model")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated registry names")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--threads", default=f"1,{torch.get_num_threads()}", help="CPU intra-op thread counts to measure, e.g. 1,2"
    )
    args = parser.parse_args()
    cuda = args.device.startswith("cuda")
    size = args.size or (256 if cuda else 128)
    batch = args.batch_size or (64 if cuda else 8)
    for name in args.models.split(","):
        if MODELS[name].min_input_size > size:
            raise ValueError(f"--size {size} is below the {MODELS[name].min_input_size} px that {name} needs")
    report: dict = {
        "device_kind": "cuda" if cuda else "cpu",
        "device": torch.cuda.get_device_name(args.device) if cuda else _cpu_name(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "torch": torch.__version__,
        "size": size,
        "batch_size": batch,
        "steps": args.steps,
        "warmup": args.warmup,
        "runs": [],
    }
    thread_counts = [torch.get_num_threads()] if cuda else sorted({int(t) for t in args.threads.split(",")})
    for threads in thread_counts:
        torch.set_num_threads(threads)
        for name in args.models.split(","):
            entry = {"model": name, "threads": threads}
            entry.update(throughput(name, size, batch, args.steps, args.warmup, args.device))
            report["runs"].append(entry)
            print(f"{name}, {threads} thread(s): {entry['images_s']:.1f} images/s", flush=True)
    write_results(f"classify_{report['device_kind']}", markdown(report), report)
    print(markdown(report))


if __name__ == "__main__":
    main()
