"""What the shared store costs a page: save a run, list a workspace's runs (the Runs page), read a class's
members, on the old SQLite code (raw sqlite3, main's runstore.py/classroom.py) and the SQLAlchemy store on
the same kind of file, and on PostgreSQL.

    python -m benchmarks.store_cost [--repeats 200] [--runs 50] [--members 30] [--base main]

The old code is read from git (`git show BASE:playground/runstore.py`, and classroom.py) into a temporary
module, so both run side by side in one process on equal files. PostgreSQL is a throwaway server on
127.0.0.1 (tests/pg_server.py: initdb into a temp folder; skipped when not installed). Each store holds
`--runs` runs of 300 epochs in the workspace listed and a class of `--members` students. Median and 95th
percentile in ms per operation, the new/old ratio for SQLite; printed and written to
benchmarks/results/store_cost.json.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "store_cost.json"
sys.path.insert(0, str(ROOT / "tests"))  # pg_server: the tests' throwaway PostgreSQL

from playground.classroom import ClassStore  # noqa: E402
from playground.config import TrainConfig  # noqa: E402
from playground.progress import History  # noqa: E402
from playground.runstore import RunStore  # noqa: E402

EPOCHS = 300
HISTORY = History(epochs=tuple(range(1, EPOCHS + 1)), train_loss=tuple(1 / e for e in range(1, EPOCHS + 1)),
                  eval_epochs=tuple(range(5, EPOCHS + 1, 5)), train_score=(0.9,) * (EPOCHS // 5),
                  test_loss=(0.3,) * (EPOCHS // 5), test_score=(0.8,) * (EPOCHS // 5), lr=(0.01,) * (EPOCHS // 5))
FINAL = {"epochs": EPOCHS, "train_loss": 0.01, "test_loss": 0.3, "test_accuracy": 0.8}


def old_modules(base: str, folder: Path):
    """main's RunStore and ClassStore, imported from git as the modules old_runstore and old_classroom."""
    for name in ("runstore", "classroom"):
        source = subprocess.run(["git", "show", f"{base}:playground/{name}.py"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout
        source = source.replace("from .runstore import", "from old_runstore import")
        (folder / f"old_{name}.py").write_text(re.sub(r"^from \.(\w+)", r"from playground.\1", source, flags=re.M))
    sys.path.insert(0, str(folder))
    loaded = {}
    for name in ("old_runstore", "old_classroom"):
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        loaded[name] = sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded[name])
    return loaded["old_runstore"].RunStore, loaded["old_classroom"].ClassStore


def timed(call: Callable[[], object], repeats: int) -> dict:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"median_ms": times[len(times) // 2], "p95_ms": times[int(len(times) * 0.95)]}


def measure(store, classes, repeats: int, runs: int, members: int) -> dict:
    """ms per save, per listing of `runs` runs (with curves, as the Runs page reads them), per members read."""
    config = TrainConfig()
    for _ in range(runs):
        store.save("listed", config, HISTORY, FINAL, "completed")
    code = classes.create("teacher").info.code
    for i in range(members):
        classes.join(code, f"student{i}", f"Student {i}")
    return {"save": timed(lambda: store.save("saver", config, HISTORY, FINAL, "completed"), repeats),
            "list runs page": timed(lambda: store.runs("listed"), repeats),
            "class members": timed(lambda: classes.members(code), repeats),
            "newest hand-out": timed(lambda: classes.newest_handout("student0"), repeats)}


def postgres():
    """A started throwaway PostgreSQL server, or None when it is not installed."""
    from pg_server import PostgresServer, binaries

    if binaries() is None:
        return None
    server = PostgresServer(binaries())
    server.start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--members", type=int, default=30)
    parser.add_argument("--base", default="main", help="the git revision of the old code")
    args = parser.parse_args()
    sizes = (args.repeats, args.runs, args.members)
    with tempfile.TemporaryDirectory(prefix="store-cost-") as temp:
        folder = Path(temp)
        OldRunStore, OldClassStore = old_modules(args.base, folder)
        old = OldRunStore(folder / "old.sqlite")
        new = RunStore(folder / "new.sqlite")
        result = {"sqlite old": measure(old, OldClassStore(old), *sizes),
                  "sqlite new": measure(new, ClassStore(new), *sizes)}
        server = postgres()
        if server is not None:
            try:
                name = server.new_database()
                pg = RunStore(server.url(name))
                result["postgresql new"] = measure(pg, ClassStore(pg), *sizes)
            finally:
                from playground.database import dispose_all

                dispose_all()
                server.close()
    report(result, args)


def report(result: dict, args) -> None:
    load = Path("/proc/loadavg").read_text().strip() if Path("/proc/loadavg").exists() else "n/a"
    print(f"{args.runs} runs of {EPOCHS} epochs listed, {args.members} members, {args.repeats} repeats, "
          f"/proc/loadavg: {load}")
    print(f"{'operation':<18}" + "".join(f"{kind + ' ms':>22}" for kind in result) + f"{'sqlite new/old':>16}")
    ratios = {}
    for operation in result["sqlite old"]:
        cells = "".join(f"{row[operation]['median_ms']:>12.3f} (p95 {row[operation]['p95_ms']:>6.2f})"
                        for row in result.values())
        ratios[operation] = result["sqlite new"][operation]["median_ms"] / result["sqlite old"][operation]["median_ms"]
        print(f"{operation:<18}{cells}{ratios[operation]:>16.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"medians_p95_ms": result, "sqlite_new_over_old": ratios, "runs": args.runs,
                                   "epochs": EPOCHS, "members": args.members, "repeats": args.repeats,
                                   "base": args.base, "loadavg": load, "cpu_count": os.cpu_count(),
                                   "platform": platform.platform()}, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
