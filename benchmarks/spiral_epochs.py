"""Epochs per second on the default spiral: a bare PyTorch loop vs the app's engine and runner.

    python -m benchmarks.spiral_epochs [--epochs 1000] [--repeats 3] [--out benchmarks/results/spiral_epochs.json]

Same data (the default 3 x 1000 spiral), same 2-100-3 ReLU model, Adam 1e-3, full batch, one
torch thread, measured side by side and interleaved in one process so machine noise hits all
alike. Rows:
- bare loop: the classic `out = model(x); loss.backward(); opt.step()` and nothing else;
- engine: `Engine.run()` (train metrics every epoch, test metrics every few epochs, NaN guard);
- runner: the engine on a `TrainingRunner`'s worker thread (history, frames), nobody polling;
- page: a `TrainingRunner` on its worker thread while another thread does what the page's
  fragment does 2.5 times a second: snapshot, build the boundary/loss/accuracy figures, JSON;
- pooled page: what the app does by default: the run in a worker process of a `TrainingPool`
  (warmed before timing), snapshots relayed to this process, which polls and renders as the page
  does; timed from start to the final snapshot arriving here. Its "cpu vs bare" is left out (the
  training's CPU time is spent in the worker).
"vs bare" is the median over repeats of bare-loop seconds / row seconds, each pair measured
moments apart; "overhead" is the median of (row - bare) seconds per epoch, in microseconds;
"cpu vs bare" is the same ratio in CPU seconds of the whole process (every thread), which other
programs on a shared machine disturb far less than wall-clock seconds.
Prints a table and writes JSON. A benchmark, not a test: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import threading
import time
from pathlib import Path

import torch

from playground import plots
from playground.config import TrainConfig
from playground.datasets import Dataset
from playground.engine import Engine, load_dataset
from playground.pool import TrainingPool
from playground.progress import POLL_SECONDS
from playground.runner import TrainingRunner

Seconds = tuple[float, float]  # (wall-clock, process CPU)


def _clock() -> Seconds:
    return time.perf_counter(), time.process_time()


def _since(start: Seconds) -> Seconds:
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def bare_loop(config: TrainConfig) -> Seconds:
    """Seconds for the classic loop on the same data and model."""
    data = load_dataset(config)
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    torch.manual_seed(config.seed)
    model = torch.nn.Sequential(torch.nn.Linear(2, 100), torch.nn.ReLU(), torch.nn.Linear(100, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.optimizer.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    started = _clock()
    for _ in range(config.epochs):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return _since(started)


def engine_loop(config: TrainConfig) -> Seconds:
    engine = Engine(config)
    started = _clock()
    for _ in engine.run():
        pass
    return _since(started)


def runner_only(config: TrainConfig) -> Seconds:
    """Seconds from start to completion of a runner nobody polls (worker thread, frames, history)."""
    runner = TrainingRunner(config, idle_pause=3600)
    started = _clock()
    runner.start().join()
    return _since(started)


def page_figures_bytes(runner: TrainingRunner, dataset: Dataset, config: TrainConfig) -> int:
    """What one poll of the page does: a snapshot, the boundary/loss/accuracy figures, their JSON."""
    snap = runner.snapshot()
    figures = [plots.data_figure(dataset, snap.frame), plots.loss_figure(snap.history, config.epochs),
               plots.score_figure(snap.history, config.epochs, dataset.task)]
    return sum(len(f.to_json()) for f in figures)


def page_run(config: TrainConfig) -> Seconds:
    """Seconds from start to completion of a runner while a poller renders figures like the page."""
    runner = TrainingRunner(config)
    dataset = load_dataset(config)
    done = threading.Event()
    frames = []

    def poll() -> None:
        while not done.is_set():
            frames.append(page_figures_bytes(runner, dataset, config))
            time.sleep(POLL_SECONDS)

    poller = threading.Thread(target=poll)
    started = _clock()
    runner.start()
    poller.start()
    runner.join()
    elapsed = _since(started)
    done.set()
    poller.join()
    return elapsed


def pooled_page_run(config: TrainConfig, pool: TrainingPool) -> Seconds:
    """Seconds from start until the final snapshot of a pooled run arrives, polling like the page."""
    dataset = load_dataset(config)
    run = pool.run(config)
    started = time.perf_counter()
    run.start()
    while run.active:
        page_figures_bytes(run, dataset, config)
        run.join(POLL_SECONDS)  # returns as soon as the run ends
    return time.perf_counter() - started, float("nan")


def warm_pool() -> TrainingPool:
    """A one-worker pool that has warmed up and trained once, as on a server that has been used."""
    pool = TrainingPool(1)
    pool.run(TrainConfig().replace(epochs=10, device="cpu")).start().join()
    return pool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/spiral_epochs.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = TrainConfig().replace(epochs=args.epochs, device="cpu")
    Engine(config).train_epoch()  # warm-up: torch's lazy imports and first kernels
    # and Plotly's (~0.2 s the first time): the page has drawn figures before anyone presses Train
    page_figures_bytes(TrainingRunner(config), load_dataset(config), config)
    pool = warm_pool()
    rows = {"bare loop": bare_loop, "engine": engine_loop, "runner (worker thread)": runner_only,
            "page (runner + live figures)": page_run,
            "pooled page (worker process)": lambda config: pooled_page_run(config, pool)}
    seconds = {name: [] for name in rows}  # (wall, cpu) per repeat
    for _ in range(args.repeats):  # interleaved, so drift in machine load hits every row
        for name, measure in rows.items():
            seconds[name].append(measure(config))
    bare = seconds["bare loop"]
    result = {"epochs": args.epochs, "repeats": args.repeats, "torch_threads": 1,
              "machine": f"{platform.machine()}, {torch.get_num_threads()} torch thread(s), torch {torch.__version__}",
              "rows": []}
    print(f"{'':32} {'epochs/s':>10} {'vs bare':>8} {'overhead us/epoch':>18} {'cpu vs bare':>12}")
    for name, values in seconds.items():
        walls = [wall for wall, _ in values]
        median = statistics.median(walls)
        ratios = [b / s for (b, _), (s, _) in zip(bare, values)]
        cpu_ratios = [b / s for (_, b), (_, s) in zip(bare, values)]
        overhead = statistics.median((s - b) / args.epochs * 1e6 for (b, _), (s, _) in zip(bare, values))
        row = {"name": name, "median_seconds": median, "epochs_per_second": args.epochs / median,
               "ratio_to_bare": statistics.median(ratios), "overhead_us_per_epoch": overhead,
               "cpu_ratio_to_bare": statistics.median(cpu_ratios),
               "all_seconds": walls, "all_cpu_seconds": [cpu for _, cpu in values], "all_ratios": ratios}
        result["rows"].append(row)
        print(f"{name:32} {row['epochs_per_second']:10.0f} {row['ratio_to_bare']:8.2f} {overhead:18.0f} "
              f"{row['cpu_ratio_to_bare']:12.2f}")
    pool.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
