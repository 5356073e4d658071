"""Stacked runs vs solo runs: k default-spiral runs trained as one stack vs k Engine runs in sequence.

    python -m benchmarks.batching [--ks 1,4,16,32] [--epochs 200] [--batch-size 0] [--threads 1]
                                  [--device auto] [--out benchmarks/results/batching.json]

Each of the k runs is the default spiral (3 x 1000 points, 2-100-3 ReLU net, Adam, full batch) with
its own seed and learning rate (`--batch-size 64`: the same with mini-batches, each run in its
own order). "solo" trains them one after another with `Engine`; "stacked"
trains them together with `batched.StackedTrainer` (setup included in both). Rows give seconds,
epochs/s per run (epochs / seconds) and in total (k x epochs / seconds), and the speed-up (solo
seconds / stacked seconds). One torch thread by default, as the pool's workers use. CUDA when
available (`devices.resolve_device("auto")`), the CPU otherwise. Prints a table and writes JSON with
the load average before and after. A benchmark, not a test: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from playground.batched import StackedTrainer
from playground.config import OptimizerConfig, TrainConfig
from playground.devices import describe_device, resolve_device
from playground.engine import Engine, load_dataset


def configs(k: int, epochs: int, device: str, batch_size: int = 0) -> list[TrainConfig]:
    """k default-spiral runs with different seeds and learning rates."""
    return [TrainConfig().replace(seed=i, epochs=epochs, device=device, batch_size=batch_size,
                                  optimizer=OptimizerConfig(lr=0.001 * (1 + i % 8))) for i in range(k)]


def solo_seconds(runs: list[TrainConfig], dataset) -> float:
    started = time.perf_counter()
    for config in runs:
        engine = Engine(config, dataset)
        while engine.epoch < config.epochs:
            engine.train_epoch()
    return time.perf_counter() - started


def stacked_seconds(runs: list[TrainConfig], dataset) -> float:
    started = time.perf_counter()
    trainer = StackedTrainer(runs, dataset)
    while len(trainer):
        trainer.train_epoch()
    return time.perf_counter() - started


def measure(k: int, epochs: int, device: str, batch_size: int, dataset) -> dict:
    runs = configs(k, epochs, device, batch_size)
    solo, stacked = solo_seconds(runs, dataset), stacked_seconds(runs, dataset)
    return {"k": k, "solo_seconds": solo, "stacked_seconds": stacked,
            "solo_epochs_per_s_per_run": epochs / solo, "stacked_epochs_per_s_per_run": epochs / stacked,
            "solo_epochs_per_s_total": k * epochs / solo, "stacked_epochs_per_s_total": k * epochs / stacked,
            "speed_up": solo / stacked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", default="1,4,16,32")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=0, help="0: full batch (the default spiral's)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/batching.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    load_before = os.getloadavg()
    dataset = load_dataset(TrainConfig())
    measure(2, 3, device.type, args.batch_size, dataset)  # warm-up: torch's lazy imports, first kernels, vmap's set-up
    rows = [measure(int(k), args.epochs, device.type, args.batch_size, dataset) for k in args.ks.split(",")]
    result = {"epochs": args.epochs, "batch_size": args.batch_size, "device": describe_device(device),
              "torch_threads": torch.get_num_threads(),
              "cpus": os.cpu_count(), "torch": torch.__version__, "machine": platform.machine(),
              "loadavg_before": load_before, "loadavg_after": os.getloadavg(), "rows": rows}
    batches = f"batch size {args.batch_size}" if args.batch_size else "full batch"
    print(f"{result['device']}, {args.epochs} epochs per run, {batches}, load {load_before[0]:.2f} -> "
          f"{result['loadavg_after'][0]:.2f}")
    print(f"{'k':>3} {'solo s':>8} {'stacked s':>10} {'solo ep/s/run':>14} {'stacked ep/s/run':>17} "
          f"{'solo ep/s total':>16} {'stacked ep/s total':>19} {'speed-up':>9}")
    for r in rows:
        print(f"{r['k']:>3} {r['solo_seconds']:8.2f} {r['stacked_seconds']:10.2f} "
              f"{r['solo_epochs_per_s_per_run']:14.1f} {r['stacked_epochs_per_s_per_run']:17.1f} "
              f"{r['solo_epochs_per_s_total']:16.0f} {r['stacked_epochs_per_s_total']:19.0f} {r['speed_up']:9.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
