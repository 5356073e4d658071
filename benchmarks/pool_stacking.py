"""k stackable fast runs through a real one-worker `TrainingPool`, stacked vs every run alone.

    python -m benchmarks.pool_stacking [--ks 1,4,16] [--epochs 100] [--batch-size 64]
                                       [--out benchmarks/results/pool_stacking.json]

Each of the k runs is the default spiral with the ReLU-net preset and mini-batches (`--batch-size`), its
own seed and learning rate, at the fast pace. "alone" is a pool with stacking off (`stack=False`, as
`PLAYGROUND_STACK=0`): the fast runs take the worker one after another. "stacked" is the same pool with
stacking on: they train together in the worker's stack group. Both pools are warmed up (the worker
has loaded torch and trained a short run) before the clock starts, and every run is polled every 0.2 s
as its page would. Rows give the wall seconds from the first start until every run ended and the ratio
(alone / stacked). Prints a table and writes JSON with the load average before and after. A benchmark,
not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from playground.config import OptimizerConfig, TrainConfig
from playground.pool import TrainingPool
from playground.presets import RELU_NET
from playground.progress import COMPLETED

POLL_SECONDS = 0.2


def configs(k: int, epochs: int, batch_size: int) -> list[TrainConfig]:
    """k default-spiral runs with different seeds and learning rates, on the CPU."""
    return [TrainConfig().replace(layers=RELU_NET.stack(), seed=i, epochs=epochs, device="cpu",
                                  batch_size=batch_size, optimizer=OptimizerConfig(lr=0.001 * (1 + i % 8)))
            for i in range(k)]


def wall_seconds(runs: list[TrainConfig], stack: bool) -> tuple[float, bool]:
    """Seconds until every run ended in a fresh one-worker pool; whether all completed."""
    pool = TrainingPool(1, live_limit=len(runs) + 1, abandoned_seconds=3600, stack=stack)
    try:
        while not pool.ready:
            time.sleep(0.05)
        finish([pool.run(config.replace(epochs=2)).start() for config in runs[:1]])  # the worker's first run
        started = time.perf_counter()
        handles = finish([pool.run(config).start() for config in runs])
        seconds = time.perf_counter() - started
        return seconds, all(handle.snapshot().status == COMPLETED for handle in handles)
    finally:
        pool.close()


def finish(handles: list) -> list:
    """Poll every run as its page would until all have ended."""
    while any(handle.active for handle in handles):
        for handle in handles:
            handle.snapshot()
        time.sleep(POLL_SECONDS)
    return handles


def measure(k: int, epochs: int, batch_size: int) -> dict:
    runs = configs(k, epochs, batch_size)
    alone, alone_ok = wall_seconds(runs, stack=False)
    stacked, stacked_ok = wall_seconds(runs, stack=True)
    return {"k": k, "alone_seconds": alone, "stacked_seconds": stacked, "ratio": alone / stacked,
            "all_completed": alone_ok and stacked_ok}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", default="1,4,16")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/pool_stacking.json"))
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows = [measure(int(k), args.epochs, args.batch_size) for k in args.ks.split(",")]
    result = {"epochs": args.epochs, "batch_size": args.batch_size, "workers": 1, "cpus": os.cpu_count(),
              "machine": platform.machine(), "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
              "rows": rows}
    print(f"one-worker pool, {args.epochs} epochs per run, batch size {args.batch_size}, load "
          f"{load_before[0]:.2f} -> {result['loadavg_after'][0]:.2f}")
    print(f"{'k':>3} {'alone s':>9} {'stacked s':>10} {'alone/stacked':>14} {'all completed':>14}")
    for r in rows:
        print(f"{r['k']:>3} {r['alone_seconds']:9.2f} {r['stacked_seconds']:10.2f} {r['ratio']:14.2f} "
              f"{str(r['all_completed']):>14}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
