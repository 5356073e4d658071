"""Server cost of one class-board refresh: 30 students' tiles and the grid's HTML.

    python -m benchmarks.board_cost [--students 30] [--repeats 200]

A real class store (a temporary SQLite file: a class, its students, a hand-out) and 30 fake run handles
whose snapshots carry what a pooled run's do after a few hundred epochs (histories of 200 to 800
epochs, a 100x100 boundary frame shaped like a spiral's); about half changed the hand-out (activation,
learning rate, width).
One refresh is what `ui/class_board.render` does without Streamlit: read the members, build the tiles
(`board.tiles`, reading each run with `snapshot(touch=False)`), sort them, write the grid
(`board_html.grid`). Three cases: the first refresh (empty caches: every run's parameters and changes,
every thumbnail), later refreshes while nothing moved (all cached), and later refreshes while every run
advanced one frame (every thumbnail drawn again: the worst case of a class all training at once).
Median and 95th percentile in ms, the HTML's size, printed and written to
benchmarks/results/board_cost.json. Issue 18's target: at most 50 ms a refresh for 30 students.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from playground import board, board_html
from playground.class_live import ClassLive
from playground.classroom import ClassStore
from playground.config import OptimizerConfig, TrainConfig
from playground.frames import GRID_SIZE, BoundaryFrame
from playground.kept import Kept
from playground.progress import RUNNING, History, Snapshot
from playground.runstore import RunStore

RESULTS = Path(__file__).resolve().parent / "results" / "board_cost.json"
TARGET_MS = 50.0
FRAMES_EACH = 8  # frames prepared per student, cycled through in the "advanced" case


class FakeRun:
    """A pooled run as the board sees it: its latest snapshot; `advance()` brings a new frame (a later epoch)."""

    def __init__(self, config: TrainConfig, snaps: list[Snapshot]):
        self.config, self._snaps, self._ticks = config, snaps, 0
        self._snap = snaps[0]

    def snapshot(self, touch: bool = True) -> Snapshot:
        return self._snap

    def advance(self) -> None:
        self._ticks += 1
        snap = self._snaps[self._ticks % len(self._snaps)]
        epoch = snap.epoch + self._ticks
        self._snap = replace(snap, epoch=epoch, frame=replace(snap.frame, epoch=epoch))

    @property
    def active(self) -> bool:
        return True


def setups(count: int) -> list[TrainConfig]:
    """The hand-out, then students' variations of it: about half change something."""
    base = TrainConfig()
    variations = [base, base.replace(layers=({"type": "linear", "out": 100}, {"type": "tanh"}, {"type": "linear"})),
                  base, base.replace(optimizer=OptimizerConfig(name="adam", lr=0.03)), base,
                  base.replace(layers=({"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear", "out": 16},
                                       {"type": "relu"}, {"type": "linear"}), epochs=500)]
    return [variations[i % len(variations)] for i in range(count)]


def snapshots(config: TrainConfig, epochs: int, rng: np.random.Generator) -> list[Snapshot]:
    """FRAMES_EACH consecutive snapshots of a run `epochs` epochs in (a new frame each)."""
    made = []
    for step in range(FRAMES_EACH):
        n = epochs + step
        scores = np.clip(np.linspace(0.33, 0.95, n) + rng.normal(0, 0.01, n), 0, 1).round(4)
        ticks = tuple(range(1, n + 1))
        history = History(epochs=ticks, train_loss=tuple(1.1 - scores), eval_epochs=ticks,
                          train_score=tuple(scores), test_loss=tuple(1.2 - scores), test_score=tuple(scores),
                          lr=(0.001,) * n)
        frame = spiral_frame(n, rng.uniform(0, 2 * np.pi))
        made.append(Snapshot(RUNNING, n, config.epochs, 0.001, 300.0, history=history, frame=frame))
    return made


def spiral_frame(epoch: int, turn: float) -> BoundaryFrame:
    """A boundary like a trained spiral's: three arms of classes, surer away from their edges."""
    cells = np.linspace(-1.5, 1.5, GRID_SIZE, dtype=np.float32)
    x, y = np.meshgrid(cells, cells)
    phase = (np.arctan2(y, x) + 4 * np.hypot(x, y) + turn) / (2 * np.pi / 3)
    classes = np.floor(phase).astype(np.int64) % 3
    confidence = np.minimum(7, (16 * np.abs(phase - np.round(phase))).astype(np.int64))
    return BoundaryFrame(epoch, cells, cells, classes.astype(np.uint8), confidence.astype(np.uint8))


def a_class(folder: Path, students: int) -> tuple[ClassStore, str, ClassLive, list[FakeRun]]:
    store = ClassStore(RunStore(folder / "runs.sqlite"))
    new = store.create("bench-teacher", "Benchmark")
    code = new.info.code
    handout = store.hand_out(code, new.secret, "setup", TrainConfig().to_dict())
    live, runs, rng = ClassLive(), [], np.random.default_rng(0)
    for i, config in enumerate(setups(students)):
        member = store.join(code, f"bench-student-{i}", f"Student {i}")
        run = FakeRun(config, snapshots(config, int(rng.integers(200, 801)), rng))
        live.report(code, member.id, run, config.to_dict(), handout.id)
        runs.append(run)
    return store, code, live, runs


def refresh(store: ClassStore, code: str, live: ClassLive) -> str:
    """One board refresh as the page does it, without Streamlit."""
    tiles = board.tiles(live.runs(code), store.members(code), lambda handout: store.handout_by_id(code, handout))
    return board_html.grid(board.sort_tiles(tiles, "accuracy"))


def empty_caches() -> None:
    for name in ("_FACTS", "_THUMBS", "_SPARKS", "_BASES"):
        setattr(board, name, Kept(getattr(board, name).most))
    board_html.spark_svg.cache_clear()


def timed(step: Callable[[], object], repeats: int, before: Callable[[], None] | None = None) -> dict:
    samples = []
    for _ in range(repeats):
        if before is not None:
            before()
        started = time.perf_counter()
        step()
        samples.append((time.perf_counter() - started) * 1000)
    return {"median_ms": float(np.median(samples)), "p95_ms": float(np.percentile(samples, 95)),
            "max_ms": float(np.max(samples))}


def measure(students: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="board-cost-") as folder:
        store, code, live, runs = a_class(Path(folder), students)
        step = lambda: refresh(store, code, live)  # noqa: E731
        page = step()

        def advance() -> None:
            for run in runs:
                run.advance()

        rows = {"first refresh (empty caches)": timed(step, max(10, repeats // 10), before=empty_caches),
                "later refresh, nothing moved": timed(step, repeats),
                "later refresh, every run advanced a frame": timed(step, repeats, before=advance)}
    return {"rows": rows, "html_kb": len(page.encode()) / 1000, "students": students}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    load = Path("/proc/loadavg").read_text().strip() if Path("/proc/loadavg").exists() else "n/a"
    result = measure(args.students, args.repeats)
    print(f"{args.students} students, /proc/loadavg: {load}")
    print(f"{'refresh':<44}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}")
    for name, row in result["rows"].items():
        print(f"{name:<44}{row['median_ms']:>11.2f}{row['p95_ms']:>9.2f}{row['max_ms']:>9.2f}")
    worst = max(row["median_ms"] for name, row in result["rows"].items() if name.startswith("later"))
    print(f"grid HTML: {result['html_kb']:.1f} KB (target <= {TARGET_MS:g} ms a later refresh: "
          f"{'met' if worst <= TARGET_MS else 'MISSED'})")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({**result, "repeats": args.repeats, "target_ms": TARGET_MS, "loadavg": load,
                                   "cpu_count": os.cpu_count(), "platform": platform.platform()}, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
