"""One epoch of a one-conv CNN on full Fashion-MNIST: the classic torchvision loop vs the app's engine.

    python -m benchmarks.fashion_epoch [--repeats 1] [--threads N] [--device cpu|cuda]
                                       [--train-images N] [--out benchmarks/results/fashion_epoch.json]

Both sides train the same model, Conv2d(1, 32, 3, padding=1), ReLU, MaxPool2d(2), Flatten,
Linear(32*14*14, 10), with CrossEntropy, Adam lr 1e-3 and shuffled batches of 64, on the 60,000
training images (or --train-images of them), in one process with the same torch thread count
(set explicitly for both) on the same device. Rows:
- classic loop: `torchvision.datasets.FashionMNIST` with `Compose([ToTensor(), Normalize((0.2860,),
  (0.3530,))])`, a `DataLoader(batch_size=64, shuffle=True, num_workers=0)` and the textbook
  zero_grad / forward / loss / backward / step loop (summing `loss.item()` for the epoch loss),
  batches moved to the device in the loop. Timed: iterating the DataLoader (per-image PIL
  conversion, ToTensor, Normalize, collation) plus training. No test evaluation.
- engine (as is): `Engine.train_epoch()` of the app: uint8 images already held as one tensor on
  the device, normalised inside the model's first layer, batches gathered by index, metrics
  summed on the device; at the end of a run's first (and last) epoch it evaluates the whole test
  set (10,000 images), so this row includes that evaluation.
- engine (train only): the row above minus a separate timing of `engine.evaluate("test")` taken
  right after it on the same engine: the like-for-like comparison with the classic loop.
images/s counts training images only; "vs classic" is classic seconds / row seconds (above 1 =
faster than the classic loop). With --repeats N the rows are measured interleaved (the order
alternating each repeat) with a fresh model and optimizer each time, and medians reported.

Not measured in the epoch rows, reported once apart: preparing torchvision's offline copy
(gunzipping Debian's IDX files into benchmarks/results/torchvision-data/FashionMNIST/raw/, once),
constructing `FashionMNIST(...)` (reads the IDX files), and the first `Engine(config)` (reads the
IDX files, computes pixel mean/std, converts to tensors: cached per process afterwards). Both are
one-off per process. Python start-up and imports are not measured; a short warm-up of each path
runs before timing. The final train loss of each epoch (sample-weighted mean of the batch losses,
computed before each step) is printed as a sanity check: the two should be close, not equal
(different initial weights, shuffling, and the engine normalises with the data's own mean/std).
Each run's wall seconds, process CPU seconds and 1-minute load average go to the JSON ("runs"): on
a busy machine the wall times are noisy, and a note is printed when the load exceeded the CPU count.
A benchmark, not a test: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from playground.config import TrainConfig
from playground.engine import Diverged, Engine
from playground.presets import ONE_CONV_CNN

DEBIAN_GZ = Path("/usr/share/datasets/fashion-mnist")
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
BATCH, LR, SEED = 64, 1e-3, 12345
FULL_TRAIN = 60_000


def classic_model() -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(32 * 14 * 14, 10))


def engine_config(device: str, train_images: int, test_images: int = 0) -> TrainConfig:
    return TrainConfig.from_dict({
        "dataset": {"name": "fashion_mnist", "train_images": train_images, "test_images": test_images},
        "layers": ONE_CONV_CNN.stack(),  # the layers of classic_model()
        "loss": "cross_entropy", "optimizer": {"name": "adam", "lr": LR}, "batch_size": BATCH, "epochs": 1,
        "seed": SEED, "device": device})


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# --- classic loop -------------------------------------------------------------------------------


def prepare_torchvision_root(root: Path, gz_dir: Path) -> float:
    """Gunzip Debian's four IDX files to ROOT/FashionMNIST/raw/ (once); seconds spent (0 if present)."""
    raw = root / "FashionMNIST" / "raw"
    missing = [name for name in IDX_FILES if not (raw / name).is_file()]
    if not missing:
        return 0.0
    started = time.perf_counter()
    raw.mkdir(parents=True, exist_ok=True)
    for name in missing:
        source = gz_dir / f"{name}.gz"
        if not source.is_file():
            raise SystemExit(f"{source} not found: install Debian's dataset-fashion-mnist or pass --gz-dir")
        partial = raw / f"{name}.partial"
        with gzip.open(source, "rb") as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst)
        partial.replace(raw / name)
    return time.perf_counter() - started


def classic_dataset(root: Path, train_images: int):
    import torchvision
    from torchvision import transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
    dataset = torchvision.datasets.FashionMNIST(str(root), train=True, download=False, transform=transform)
    if 0 < train_images < len(dataset):
        keep = np.sort(np.random.default_rng(SEED).permutation(len(dataset))[:train_images])
        dataset = torch.utils.data.Subset(dataset, keep.tolist())
    return dataset


def classic_epoch(dataset, device: torch.device, seed: int, max_batches: int | None = None) -> tuple[float, float]:
    """(seconds, mean train loss) of one epoch of the textbook loop; a fresh model and optimizer."""
    torch.manual_seed(seed)
    model = classic_model().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=0,
                                         generator=torch.Generator().manual_seed(seed))
    sync(device)
    started = time.perf_counter()
    model.train()
    running, seen = 0.0, 0
    for number, (images, labels) in enumerate(loader):
        if max_batches is not None and number >= max_batches:
            break
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        outputs = model(images)
        loss = loss_fn(outputs, labels)
        loss.backward()
        optimizer.step()
        running += loss.item() * len(labels)
        seen += len(labels)
    sync(device)
    return time.perf_counter() - started, running / seen


# --- engine -------------------------------------------------------------------------------------


def engine_epoch(config: TrainConfig) -> tuple[float, float, float, float, float | None]:
    """(train_epoch seconds, separate test-evaluation seconds, train loss, train accuracy, test accuracy)."""
    engine = Engine(config)  # data cached in this process: not part of the epoch
    sync(engine.device)
    started = time.perf_counter()
    event = engine.train_epoch()
    sync(engine.device)
    epoch_seconds = time.perf_counter() - started
    if isinstance(event, Diverged):
        raise SystemExit(f"engine diverged: {event.message}")
    started = time.perf_counter()
    engine.evaluate("test")
    sync(engine.device)
    eval_seconds = time.perf_counter() - started
    test_accuracy = event.test.accuracy if event.test is not None else None
    return epoch_seconds, eval_seconds, event.train.loss, event.train.accuracy, test_accuracy


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="epochs per row, interleaved; medians reported")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="torch intra-op threads for both (default: torch's default here, %(default)s)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--train-images", type=int, default=0,
                        help="train on a random subset of this many images (0 = all 60,000), for a smoke run")
    parser.add_argument("--gz-dir", type=Path, default=DEBIAN_GZ, help="folder of the four *-ubyte.gz files")
    parser.add_argument("--data-root", type=Path, default=Path("benchmarks/results/torchvision-data"),
                        help="torchvision root; the IDX files are gunzipped to ROOT/FashionMNIST/raw/ once")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/fashion_epoch.json"))
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda asked for, but torch sees no CUDA device here")
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    # One-off costs, reported apart from the epochs.
    gunzip_seconds = prepare_torchvision_root(args.data_root, args.gz_dir)
    started = time.perf_counter()
    dataset = classic_dataset(args.data_root, args.train_images)
    classic_load = time.perf_counter() - started
    config = engine_config(args.device, args.train_images)
    started = time.perf_counter()
    first = Engine(config)
    engine_load = time.perf_counter() - started
    n_train, n_test, source = len(first.dataset.y_train), len(first.dataset.y_test), first.dataset.source
    if n_train != len(dataset):
        raise SystemExit(f"train sets differ: classic {len(dataset)}, engine {n_train}")
    del first

    # Warm-up: torch's lazy initialisation and first kernels, outside any timing.
    classic_epoch(dataset, device, SEED, max_batches=10)
    Engine(engine_config(args.device, 640, 640)).train_epoch()

    classic, engine, evaluation, losses = [], [], [], {"classic": [], "engine": []}
    engine_accuracy, runs = [], []
    for repeat in range(args.repeats):  # interleaved, the order alternating, so drift hits both alike
        for side in (("classic", "engine") if repeat % 2 == 0 else ("engine", "classic")):
            cpu_started = time.process_time()
            if side == "classic":
                seconds, loss = classic_epoch(dataset, device, SEED + repeat)
                classic.append(seconds)
            else:
                seconds, eval_seconds, loss, train_acc, test_acc = engine_epoch(config)
                engine.append(seconds)
                evaluation.append(eval_seconds)
                engine_accuracy.append({"train": train_acc, "test": test_acc})
            losses[side].append(loss)
            load = _load_average()
            runs.append({"repeat": repeat + 1, "side": side, "seconds": seconds, "train_loss": loss,
                         "process_cpu_seconds": time.process_time() - cpu_started, "load_average_1min": load})
            print(f"  repeat {repeat + 1}/{args.repeats} {side:8} {seconds:7.2f} s  train loss {loss:.4f}"
                  + (f"  (load average {load:.1f})" if load is not None else ""), flush=True)

    train_only = [max(e - v, 1e-9) for e, v in zip(engine, evaluation)]
    rows = [("classic loop (torchvision + DataLoader)", classic, losses["classic"]),
            ("engine train_epoch (incl. test eval)", engine, losses["engine"]),
            ("engine train only (minus test eval)", train_only, losses["engine"])]
    base = statistics.median(classic)
    result = {
        "train_images": n_train, "test_images_engine_evaluates": n_test, "batch_size": BATCH, "lr": LR,
        "repeats": args.repeats, "device": args.device, "torch_threads": torch.get_num_threads(),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "machine": platform.machine(),
                    "processor": platform.processor(), "python": platform.python_version(),
                    "torch": torch.__version__, "torchvision": _torchvision_version(),
                    "cuda_device": torch.cuda.get_device_name(device) if device.type == "cuda" else None},
        "engine_data_source": source,
        "one_off_seconds": {"gunzip_for_torchvision": gunzip_seconds, "classic_dataset_construction": classic_load,
                            "first_engine_construction": engine_load},
        "engine_test_eval_seconds": evaluation, "engine_accuracy": engine_accuracy, "runs": runs, "rows": []}
    print(f"\n{n_train:,} train images, batch {BATCH}, Adam {LR:g}, device {args.device}, "
          f"{torch.get_num_threads()} torch thread(s), {os.cpu_count()} CPUs, torch {torch.__version__}")
    print(f"{'run':40} {'s/epoch':>8} {'images/s':>9} {'vs classic':>10} {'train loss':>10}")
    for name, values, row_losses in rows:
        median = statistics.median(values)
        row = {"name": name, "median_seconds": median, "images_per_second": n_train / median,
               "ratio_classic_over_row": base / median, "all_seconds": values,
               "train_loss_median": statistics.median(row_losses), "train_losses": row_losses}
        result["rows"].append(row)
        print(f"{name:40} {median:8.2f} {row['images_per_second']:9.0f} {row['ratio_classic_over_row']:9.2f}x "
              f"{row['train_loss_median']:10.4f}")
    print(f"engine test evaluation ({n_test:,} images), timed apart: {statistics.median(evaluation):.2f} s")
    print(f"one-off: gunzip for torchvision {gunzip_seconds:.2f} s, FashionMNIST(...) {classic_load:.2f} s, "
          f"first Engine(config) {engine_load:.2f} s ({source})")
    busiest = max((r["load_average_1min"] or 0.0) for r in runs)
    if busiest > (os.cpu_count() or 1):
        print(f"note: the 1-minute load average reached {busiest:.1f} on {os.cpu_count()} CPUs: other processes "
              "competed for the CPU, so these times are noisy (see 'runs' in the JSON)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not on Windows
        return None


def _torchvision_version() -> str | None:
    try:
        import torchvision
    except ImportError:
        return None
    return torchvision.__version__


if __name__ == "__main__":
    main()
