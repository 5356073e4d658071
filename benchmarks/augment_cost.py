"""The cost of augmentation per epoch: the one-conv CNN trained with and without it, side by side.

    python -m benchmarks.augment_cost [--dataset fashion_mnist|mnist] [--train-images N] [--repeats 3]
                                      [--threads 1] [--device cpu|cuda] [--out benchmarks/results/augment_cost.json]

Each row is one training epoch of the app's `Engine` on the one-conv CNN (`presets.ONE_CONV_CNN`: conv 32
3x3 pad 1, ReLU, max-pool 2, Linear 10; Adam 1e-3, batches of 64) on the offline images (Fashion-MNIST
from Debian's files, or MNIST: the 5,000-digit subset offline), --train-images of them, 100 test images
(the epoch's evaluation of them is timed apart and subtracted). Rows: plain (no augmentation), each op
alone (crop 4, flip, rotate 15) and all three. The rows run interleaved, in an order that turns each
repeat, each time with a fresh engine (same seed); medians are reported. "overhead" is a row's median
seconds over the plain row's, minus 1 (the target: at most 15% for all three); "CPU overhead" the same
with the process's CPU seconds (steadier on a shared machine, where other processes stretch the wall
time; the evaluation is inside them, a few ms for 100 images). "augment only" times
`augment.augment` alone over the same number of batches of 64, without training: what the ops cost.
Loading the images and building the first engine are not timed (a warm-up epoch runs first). Each
run's wall and process CPU seconds and the 1-minute load average go to the JSON; a busy machine makes
the wall times noisy. A benchmark, not a test: nothing here asserts a time.
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

from playground.augment import augment
from playground.config import TrainConfig
from playground.engine import Engine, augment_generator
from playground.presets import ONE_CONV_CNN

ROWS = {  # name -> the config's augment (None: plain)
    "plain": None,
    "crop 4": {"crop": 4},
    "flip": {"flip": True},
    "rotate 15": {"rotate": 15},
    "crop 4 + flip + rotate 15": {"crop": 4, "flip": True, "rotate": 15},
}
BATCH, TEST_IMAGES = 64, 100


def config(dataset: str, train_images: int, device: str, settings: dict | None) -> TrainConfig:
    return TrainConfig.from_dict({
        "dataset": {"name": dataset, "train_images": train_images, "test_images": TEST_IMAGES},
        "layers": ONE_CONV_CNN.stack(), **ONE_CONV_CNN.training, "batch_size": BATCH, "epochs": 1,
        "device": device, **({"augment": settings} if settings else {})})


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def epoch_seconds(cfg: TrainConfig) -> dict:
    """One training epoch of a fresh engine: wall seconds without the test evaluation, CPU seconds, load."""
    engine = Engine(cfg)
    sync(engine.device)
    wall, cpu = time.perf_counter(), time.process_time()
    engine.train_epoch()
    sync(engine.device)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    evaluation = time.perf_counter()
    engine.evaluate("test")
    sync(engine.device)
    train_wall = wall - (time.perf_counter() - evaluation)
    return {"seconds": train_wall, "cpu_seconds": cpu, "load_1min": os.getloadavg()[0],
            "images_per_second": len(engine.dataset.y_train) / train_wall}


def augment_only_seconds(cfg: TrainConfig) -> float:
    """`augment` alone over an epoch's worth of batches of 64 resident images (no training)."""
    engine = Engine(cfg)
    x = engine._train[0]
    generator, settings = augment_generator(cfg), cfg.augment
    sync(engine.device)
    started = time.perf_counter()
    for start in range(0, len(x), BATCH):
        augment(x[start:start + BATCH], generator, settings.crop, settings.flip, settings.rotate)
    sync(engine.device)
    return time.perf_counter() - started


def measure(args) -> dict:
    configs = {name: config(args.dataset, args.train_images, args.device, settings) for name, settings in ROWS.items()}
    epoch_seconds(configs["plain"])  # warm-up: loads the images, pays torch's first-call costs
    runs: dict[str, list[dict]] = {name: [] for name in ROWS}
    names = list(ROWS)
    for repeat in range(args.repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            runs[name].append(epoch_seconds(configs[name]))
    only = {name: augment_only_seconds(cfg) for name, cfg in configs.items() if cfg.augment}
    return {"runs": runs, "augment_only_seconds": only}


def table(results: dict) -> list[dict]:
    runs = results["runs"]
    plain = statistics.median(run["seconds"] for run in runs["plain"])
    plain_cpu = statistics.median(run["cpu_seconds"] for run in runs["plain"])
    rows = []
    for name, measured in runs.items():
        seconds = statistics.median(run["seconds"] for run in measured)
        cpu = statistics.median(run["cpu_seconds"] for run in measured)
        rows.append({"row": name, "seconds_per_epoch": seconds, "overhead": seconds / plain - 1,
                     "cpu_seconds_per_epoch": cpu, "cpu_overhead": cpu / plain_cpu - 1,
                     "images_per_second": statistics.median(run["images_per_second"] for run in measured),
                     "augment_only_seconds": results["augment_only_seconds"].get(name)})
    return rows


def print_table(rows: list[dict], args) -> None:
    print(f"one-conv CNN, {args.dataset}, {args.train_images:,} training images, batch {BATCH}, device "
          f"{args.device}, {args.threads} thread(s), median of {args.repeats}")
    print(f"{'row':<28}{'s/epoch':>9}{'images/s':>10}{'overhead':>10}{'CPU s':>8}{'CPU overhead':>14}"
          f"{'augment only s':>16}")
    for row in rows:
        only = "" if row["augment_only_seconds"] is None else f"{row['augment_only_seconds']:.3f}"
        print(f"{row['row']:<28}{row['seconds_per_epoch']:>9.3f}{row['images_per_second']:>10,.0f}"
              f"{row['overhead']:>+10.1%}{row['cpu_seconds_per_epoch']:>8.3f}{row['cpu_overhead']:>+14.1%}{only:>16}")
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}; CPUs: {os.cpu_count()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion_mnist", choices=["fashion_mnist", "mnist"])
    parser.add_argument("--train-images", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/augment_cost.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = measure(args)
    rows = table(results)
    print_table(rows, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"settings": {k: str(v) for k, v in vars(args).items()}, "table": rows,
                                    **results, "load_average": os.getloadavg(), "cpus": os.cpu_count(),
                                    "torch": torch.__version__, "platform": platform.platform()}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
