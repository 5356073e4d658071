"""The server's cost of a class challenge's standings: one read of a class of 30 or 200 members.

    python -m benchmarks.challenge_cost [--members 30 200] [--since 5] [--older 10] [--epochs 300]
                                        [--repeats 5] [--out benchmarks/results/challenge_cost.json]

A fresh runs file in a temporary folder holds one class per row: each member has `--older` runs saved
before the challenge and `--since` runs saved after it (a spiral with its own hidden width, so every
member's parameter count differs), each with `--epochs`-point curves as a finished run stores them. A row
times `challenge_rank.read_standings` (the class's info, its members, each member's runs since the
challenge, judging and ranking them): "cold" with an empty parameter cache (the first read after the
challenge is set), "warm" with the configs already counted (every later refresh), and, for comparison,
"all runs" reading each member's whole workspace with its curves (`RunStore.runs(workspace)`) and
filtering in Python. Medians of `--repeats`. The `StandingsCache` reuses one read for CACHE_SECONDS, so a teacher's
board and every student's page together cost about one warm read per class per CACHE_SECONDS.
Writes the table and the machine's load to the JSON. A benchmark, not a test: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from unittest import mock

from playground import challenge
from playground.challenge import PRESETS
from playground.challenge_rank import CACHE_SECONDS, read_standings
from playground.classroom import ClassStore
from playground.config import TrainConfig
from playground.progress import History
from playground.runstore import RunStore
from playground.settings import class_members


def spiral(width: int) -> dict:
    return TrainConfig.from_dict({"dataset": {"name": "spiral"}, "layers": [
        {"type": "linear", "out": width}, {"type": "relu"}, {"type": "linear"}], "epochs": 300}).to_dict()


def curves(epochs: int) -> History:
    steps = tuple(range(1, epochs + 1))
    values = tuple(1.0 / step for step in steps)
    return History(epochs=steps, train_loss=values, eval_epochs=steps, train_score=values, test_loss=values,
                   test_score=values, lr=values)


def fill(classes: ClassStore, members: int, older: int, since: int, epochs: int) -> str:
    new = classes.create("bench-teacher")
    history, final = curves(epochs), {"epochs": epochs, "test_accuracy": 0.95, "test_loss": 0.1}
    workspaces = [f"bench-{members}-{i}" for i in range(members)]
    for i, workspace in enumerate(workspaces):
        for j in range(older):
            classes.runs.save(workspace, spiral(8 + i + j), history, final, "completed")
        classes.join(new.info.code, workspace, f"Student {i}")
    classes.set_challenge(new.info.code, new.secret, PRESETS["spiral_fewest_parameters"].to_dict())
    for i, workspace in enumerate(workspaces):
        for j in range(since):
            classes.runs.save(workspace, spiral(8 + i * since + j), history, final, "completed")
    return new.info.code


def timed(action, repeats: int, cold: bool = False) -> float:
    seconds = []
    for _ in range(repeats):
        if cold:
            challenge._count.cache_clear()
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def whole_workspaces(classes: ClassStore):
    """The same read as a plain `RunStore.runs(workspace)` would do it: each member's whole workspace, curves
    and all, filtered in Python."""
    runs = classes.runs.runs
    return mock.patch.object(classes.runs, "runs", lambda workspace, since=None, curves=True: [
        run for run in runs(workspace) if since is None or run.created > since])


def row(folder: Path, members: int, args) -> dict:
    classes = ClassStore(RunStore(folder / f"runs-{members}.sqlite"))
    code = fill(classes, members, args.older, args.since, args.epochs)
    read = lambda: read_standings(classes, code)  # noqa: E731
    cold, warm = timed(read, args.repeats, cold=True), timed(read, args.repeats)
    with whole_workspaces(classes):
        whole = timed(read, args.repeats)
    ranked = len(read().rows)
    return {"members": members, "runs since": members * args.since, "older runs": members * args.older,
            "ranked": ranked, "cold ms": round(cold * 1000, 1), "warm ms": round(warm * 1000, 1),
            "all runs ms": round(whole * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[30, 200])
    parser.add_argument("--since", type=int, default=5)
    parser.add_argument("--older", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results/challenge_cost.json")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="challenge-cost-") as folder, \
            mock.patch.dict(os.environ, {"PLAYGROUND_CLASS_MEMBERS": str(max(args.members + [class_members()]))}):
        for members in args.members:
            rows.append(row(Path(folder), members, args))
            print(" | ".join(f"{key} {value}" for key, value in rows[-1].items()), flush=True)
    result = {"rows": rows, "cache_seconds": CACHE_SECONDS, "settings": vars(args), "loadavg": os.getloadavg()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
