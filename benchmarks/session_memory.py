"""Server memory per finished session: pooled runs of a 4.2M-parameter model, kept as pages keep them.

    python -m benchmarks.session_memory [--sessions 20] [--out benchmarks/results/session_memory.json]

One worker process trains every run (the 8x8 digits through a 64-2000-2000-10 MLP: 4,152,010
parameters, 16.6 MB of float32 weights; one short epoch). This process, the server, keeps each
finished handle as a session does, then builds its engine as the Playground page does on its next
rerun (the .pt download is made only when clicked, so a rerun makes none), then makes one download
per session and lets its bytes go, as a click does.

Memory is this process's resident set from /proc/self/status after garbage collection: VmRSS, and
its anonymous part RssAnon. Finished weights are written to disk and mapped back (see
playground.pool._on_disk), so once read (a download, an evaluation) they count in VmRSS as
file-backed pages, which the kernel drops and rereads under memory pressure; RssAnon is what the
server cannot give back. The review measured ~81 MB per session before this change (+1.6 GB for 20).
Prints a table and writes JSON. A benchmark, not a test: nothing here asserts a figure.
"""
from __future__ import annotations

import argparse
import gc
import json
import platform
import time
from pathlib import Path

from playground.checkpoint import checkpoint_bytes
from playground.config import TrainConfig
from playground.pool import TrainingPool

MODEL = TrainConfig.from_dict({
    "dataset": {"name": "digits", "train_images": 256, "test_images": 64},
    "layers": [{"type": "flatten"}, {"type": "linear", "out": 2000}, {"type": "relu"},
               {"type": "linear", "out": 2000}, {"type": "relu"}, {"type": "linear"}],
    "batch_size": 64, "epochs": 1})


def memory_mb() -> dict[str, float]:
    """This process's resident memory (VmRSS) and its anonymous part (RssAnon), in MB."""
    gc.collect()
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {name: int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "RssAnon")}


def finished_run(pool: TrainingPool):
    run = pool.run(MODEL).start()
    run.join(600)
    if run.snapshot().status != "completed":
        raise RuntimeError(f"a run did not complete: {run.snapshot().message}")
    return run


def measure(sessions: int) -> dict:
    pool = TrainingPool(1)
    try:
        warm = finished_run(pool)  # code, data and the first engine's one-off costs are paid here
        checkpoint_bytes(warm.config, warm.engine.model, warm.engine.dataset.class_names, warm.snapshot().final)
        del warm
        base = memory_mb()
        runs = [finished_run(pool) for _ in range(sessions)]
        after_runs = memory_mb()
        engines = [run.engine for run in runs]  # each page's next rerun
        after_engines = memory_mb()
        for run, engine in zip(runs, engines):  # one download click each; Streamlit sends the bytes and lets go
            checkpoint_bytes(run.config, engine.model, engine.dataset.class_names, run.snapshot().final)
        after_downloads = memory_mb()
        parameters = engines[0].plan.parameters
    finally:
        pool.close()
    stages = {"finished handles": after_runs, "+ engines built (page rerun)": after_engines,
              "+ one download clicked each": after_downloads}
    return {"sessions": sessions, "parameters": parameters, "weights_mb": parameters * 4 / 2**20, "base_mb": base,
            "growth_mb": {stage: {name: value - base[name] for name, value in mb.items()}
                          for stage, mb in stages.items()}}


def table(result: dict) -> str:
    n = result["sessions"]
    lines = [f"{n} finished sessions of a {result['parameters']:,}-parameter model "
             f"({result['weights_mb']:.1f} MB of weights each); "
             f"server growth over {result['base_mb']['VmRSS']:.0f} MB:",
             f"{'stage':32s} {'VmRSS MB':>10s} {'per session':>12s} {'RssAnon MB':>11s} {'per session':>12s}"]
    for stage, growth in result["growth_mb"].items():
        lines.append(f"{stage:32s} {growth['VmRSS']:10.0f} {growth['VmRSS'] / n:12.1f} "
                     f"{growth['RssAnon']:11.0f} {growth['RssAnon'] / n:12.1f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/session_memory.json"))
    args = parser.parse_args()
    started = time.perf_counter()
    result = measure(args.sessions)
    result.update(seconds=time.perf_counter() - started, machine=platform.platform(), python=platform.python_version())
    print(table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
