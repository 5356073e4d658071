"""Time to 95% test accuracy on the default spiral, through the app's engine.

    python -m benchmarks.time_to_accuracy [--target 0.95] [--repeats 3]

The default 3 x 1000 spiral and 2-100-3 ReLU net, full batch, one torch thread, at the default
Adam learning rate 1e-3 and at 1e-2. The engine is asked for test metrics every epoch (so the
moment the target is crossed is seen, at the cost of an evaluation per epoch) and stopped there.
Medians of wall-clock seconds and epochs, printed and written to
benchmarks/results/time_to_accuracy.json. A benchmark, not a test: nothing asserts a time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from playground.config import TrainConfig
from playground.engine import Engine

RESULTS = Path(__file__).resolve().parent / "results" / "time_to_accuracy.json"
MAX_EPOCHS = 5000


def time_to(config: TrainConfig, target: float) -> tuple[float | None, int | None]:
    """(seconds, epochs) until the test accuracy first reaches `target`; (None, None) if it never does."""
    engine = Engine(config)
    engine.eval_every = 1  # watch every epoch
    started = time.perf_counter()
    for event in engine.run():
        if getattr(event, "test", None) is not None and event.test.accuracy >= target:
            return time.perf_counter() - started, event.epoch
    return None, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = {}
    for lr in (1e-3, 1e-2):
        config = TrainConfig().replace(epochs=MAX_EPOCHS, device="cpu")
        config = config.replace(optimizer=config.optimizer.__class__(name="adam", lr=lr))
        Engine(config).train_epoch()  # warm-up
        runs = [time_to(config, args.target) for _ in range(args.repeats)]
        seconds = [s for s, _ in runs if s is not None]
        rows[f"Adam lr {lr:g}"] = {"median_seconds": statistics.median(seconds) if seconds else None,
                                   "epochs": runs[0][1], "all_seconds": seconds}
    print(f"{'setup':<16}{'seconds':>9}{'epochs':>8}   (to {args.target:.0%} test accuracy)")
    for name, row in rows.items():
        shown = "never" if row["median_seconds"] is None else f"{row['median_seconds']:.2f}"
        print(f"{name:<16}{shown:>9}{row['epochs'] or '-':>8}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"rows": rows, "target": args.target, "repeats": args.repeats,
                                   "cpu_count": os.cpu_count(), "platform": platform.platform(),
                                   "torch": torch.__version__}, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
