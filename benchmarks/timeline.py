"""What a run's timeline costs: training time, bytes stored, bytes relayed per poll from a worker.

    python -m benchmarks.timeline [--epochs 1000] [--repeats 3] [--out benchmarks/results/timeline.json]

On the default spiral (3 x 1000 points, 2-100-3 ReLU, Adam, full batch, one torch thread, pace
"fast"), interleaved per repeat:
- runner seconds with the timeline (at the fast pace: the kept epochs it affords, <= 10% of its time)
  and without it (the recorder disabled), nobody polling; the difference is its price on the fast path;
- the finished timeline: frames, bytes in memory (uint8 grids), bytes stored (`timeline_codec`),
  encode and decode milliseconds;
- a pool's per-poll message: the pickled snapshot with the whole timeline vs what `pool._relayed`
  sends (the snapshot without it plus the frames not sent yet, here one).
Prints a table and writes JSON. A benchmark, not a test: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import json
import pickle
import statistics
import time
from pathlib import Path

import torch

from playground import runner as runner_module
from playground.config import TrainConfig
from playground.pool import _relayed
from playground.runner import TrainingRunner
from playground.timeline import TimelineRecorder
from playground.timeline_codec import decode, encode


def train(config: TrainConfig, timeline: bool):
    """(wall seconds, CPU seconds, final snapshot) of a runner at the fast pace, with or without its timeline."""
    original = runner_module.TimelineRecorder
    if not timeline:
        runner_module.TimelineRecorder = lambda *args, **kwargs: TimelineRecorder(enabled=False)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        runner = TrainingRunner(config).start()
        runner.join()
        return time.perf_counter() - started, time.process_time() - cpu, runner.snapshot()
    finally:
        runner_module.TimelineRecorder = original


def milliseconds(work, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="benchmarks/results/timeline.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = TrainConfig().replace(epochs=args.epochs, device="cpu")
    train(config, True)  # warm up
    with_timeline, without = [], []
    for _ in range(args.repeats):
        *seconds, snap = train(config, True)
        with_timeline.append(seconds)
        without.append(train(config, False)[:2])
    timeline = snap.timeline
    blob = encode(timeline)
    stripped, new = _relayed(snap, len(timeline) - 1)
    results = {
        "epochs": args.epochs, "repeats": args.repeats,
        "runner_s_with_timeline": statistics.median(s[0] for s in with_timeline),
        "runner_s_without": statistics.median(s[0] for s in without),
        "runner_cpu_s_with_timeline": statistics.median(s[1] for s in with_timeline),
        "runner_cpu_s_without": statistics.median(s[1] for s in without),
        "frames": len(timeline),
        "memory_bytes": sum(f.classes.nbytes + f.confidence.nbytes + f.xs.nbytes + f.ys.nbytes
                            for f in timeline.frames),
        "stored_bytes": len(blob), "encode_ms": milliseconds(lambda: encode(timeline)),
        "decode_ms": milliseconds(lambda: decode(blob)),
        "poll_bytes_whole_timeline": len(pickle.dumps(snap, protocol=pickle.HIGHEST_PROTOCOL)),
        "poll_bytes_relayed": len(pickle.dumps((stripped, new), protocol=pickle.HIGHEST_PROTOCOL)),
    }
    width = max(map(len, results))
    for name, value in results.items():
        print(f"{name:<{width}}  {value:,.3f}" if isinstance(value, float) else f"{name:<{width}}  {value:,}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
