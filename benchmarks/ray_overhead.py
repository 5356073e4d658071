"""Per-run overhead of training on Ray vs the local pool, and what a second Ray node adds.

    python -m benchmarks.ray_overhead [--repeats 3] [--runs 4] [--out benchmarks/results/ray_overhead.json]

Part 1, side by side in one process: a one-worker `TrainingPool` (warmed up), a `RayBackend` as it is
configured by default ("ray": an actor whose run ended is kept warm for the next run) and one that kills
every actor after its run ("ray-fresh": `warm_seconds=0`), on a loopback Ray head of two CPUs
(tests/ray_cluster.py; one CPU a run, and each run is measured alone) train the default spiral
(`TrainConfig()`, 1000 epochs) at the fast pace and 300 epochs of it at the watch pace, `--repeats` times
each, polled as a page would (every 0.1 s here, to time it finely). Per backend and pace: time to first
snapshot (start() until a snapshot says it trains: a pool worker is warm, so is a kept Ray actor; a fresh
actor is a new process that imports torch), epochs/s (epochs over the seconds from that first snapshot to
the end) and its ratio to the pool's, and snapshot latency: a command's round trip as a page sees it (pause()
until a snapshot says paused, resume() until it says running; median of 10 on a watch-pace run).

Part 2: `--runs` fast default-spiral runs at once on one Ray node of one CPU, then on two (that head and a
second `ray start --address` node of one CPU on this machine): wall seconds until all ended. Both nodes
share this machine's cores, so this is a projection of what a second machine adds: with one CPU each,
the second node doubles the runs trained at once; a real second machine adds its own cores on top of
this one's instead of sharing them. Then a Ray node is lost: two endless runs, one on each node, and
the second node's processes are killed (SIGKILL to its process group): how soon its run fails and with
what message, whether the other run trains on, and whether a new run completes. Prints a table and
writes JSON with the load average. A benchmark, not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import time
from pathlib import Path

from playground.config import TrainConfig
from playground.pool import TrainingPool
from playground.progress import COMPLETED, PAUSED, RUNNING
from tests.ray_cluster import RayNode

POLL_SECONDS = 0.1
PACES = (("fast", 1000), ("watch", 300))


def wait(handle, until, poll: float = POLL_SECONDS) -> float:
    """Poll `handle` (touching it, as a page) until `until(snapshot)`; the monotonic time it held."""
    while not until(snap := handle.snapshot()):
        if not snap.active:
            raise RuntimeError(f"the run ended early: {snap.status} {snap.message}")
        time.sleep(poll)
    return time.monotonic()


def one_run(backend, pace: str, epochs: int) -> dict:
    started = time.monotonic()
    run = backend.run(TrainConfig().replace(epochs=epochs), pace=pace).start()
    first = wait(run, lambda snap: snap.status == RUNNING and snap.epoch > 0, poll=0.01)
    ended = wait(run, lambda snap: not snap.active)
    snap = run.snapshot()
    return {"first_snapshot_s": first - started, "epochs_per_s": snap.epoch / (ended - first),
            "completed": snap.status == COMPLETED}


def command_round_trips(backend, count: int = 10) -> list[float]:
    """pause() until paused, resume() until running, on a watch-pace run: seconds each."""
    run = backend.run(TrainConfig().replace(epochs=100_000), pace="watch").start()
    wait(run, lambda snap: snap.status == RUNNING and snap.epoch > 0)
    seconds = []
    for _ in range(count):
        for command, status in ((run.pause, PAUSED), (run.resume, RUNNING)):
            asked = time.monotonic()
            command()
            seconds.append(wait(run, lambda snap, status=status: snap.status == status, poll=0.005) - asked)
    run.stop()
    run.join(60)
    return seconds


def side_by_side(backends: dict, repeats: int) -> list[dict]:
    rows = []
    for pace, epochs in PACES:
        for name, backend in backends.items():
            runs = [one_run(backend, pace, epochs) for _ in range(repeats)]
            rows.append({"backend": name, "pace": pace, "epochs": epochs,
                         "first_snapshot_s": statistics.median(r["first_snapshot_s"] for r in runs),
                         "epochs_per_s": statistics.median(r["epochs_per_s"] for r in runs),
                         "completed": all(r["completed"] for r in runs)})
    for name, backend in backends.items():
        trips = command_round_trips(backend)
        for row in rows:
            if row["backend"] == name:
                row["command_round_trip_s"] = statistics.median(trips)
    for row in rows:
        pool = next(r for r in rows if r["backend"] == "pool" and r["pace"] == row["pace"])
        row["epochs_per_s_ratio"] = row["epochs_per_s"] / pool["epochs_per_s"]
    return rows


def many_at_once(address: str, runs: int) -> dict:
    """`runs` fast default-spiral runs started together on the cluster at `address`: wall seconds to the end."""
    from playground.ray_backend import RayBackend, connect, disconnect

    connect(address)
    backend = RayBackend(address)
    try:
        started = time.monotonic()
        handles = [backend.run(TrainConfig(), pace="fast").start() for _ in range(runs)]
        for handle in handles:
            wait(handle, lambda snap: not snap.active, poll=0.2)
        return {"runs": runs, "nodes_cpus": backend.workers, "wall_s": time.monotonic() - started,
                "completed": sum(handle.snapshot().status == COMPLETED for handle in handles)}
    finally:
        backend.close()
        disconnect()


def part_one(repeats: int) -> list[dict]:
    from playground.ray_backend import RayBackend, disconnect

    head = RayNode.head(num_cpus=2)  # the kept actor holds one CPU, a fresh one takes the other
    pool = TrainingPool(1, abandoned_seconds=3600)
    backends = {"pool": pool}
    try:
        while not pool.ready:
            time.sleep(0.05)
        backends["ray"] = RayBackend(head.address, abandoned_seconds=3600)
        backends["ray-fresh"] = RayBackend(head.address, abandoned_seconds=3600, warm_seconds=0)
        for backend in backends.values():  # Ray's first connection and package upload are not a run's overhead
            backend.run(TrainConfig().replace(epochs=10)).start().join(120)
        return side_by_side(backends, repeats)
    finally:
        for backend in backends.values():
            backend.close()
        disconnect()  # before its head ends: a driver that loses its cluster ends its own process
        head.remove()


def part_two(runs: int) -> tuple[list[dict], dict]:
    """One node, then two; then the second node is killed with a run on each node."""
    head = RayNode.head(num_cpus=1)
    try:
        one = many_at_once(head.address, runs)
        second = RayNode.worker(head, num_cpus=1)
        try:
            two = many_at_once(head.address, runs)
            lost = node_lost(head.address, second)
        finally:
            second.stop()
        return [{"nodes": 1, **one}, {"nodes": 2, **two}], lost
    finally:
        head.remove()


def node_lost(address: str, node: RayNode) -> dict:
    """Two endless runs (one per node); the second node's processes are killed (SIGKILL to its group):
    how soon its run fails and with what message, whether the other trains on, and whether a new run
    (after the other stopped) completes on the node left."""
    from playground.ray_backend import RayBackend, connect, disconnect

    connect(address)
    backend = RayBackend(address)
    try:
        endless = TrainConfig().replace(epochs=1_000_000)
        runs = [backend.run(endless, pace="watch").start() for _ in range(2)]
        for run in runs:
            wait(run, lambda snap: snap.status == RUNNING)
        killed = time.monotonic()
        os.killpg(node.process.pid, signal.SIGKILL)
        failed = wait_any_end(runs)
        detected = time.monotonic() - killed
        survivor = next(run for run in runs if run is not failed)
        survived = survivor.snapshot().status == RUNNING
        survivor.stop()
        survivor.join(60)
        after = backend.run(TrainConfig().replace(epochs=100)).start()
        wait(after, lambda snap: not snap.active, poll=0.2)
        return {"detected_s": detected, "message": failed.snapshot().message, "other_trained_on": survived,
                "new_run": after.snapshot().status}
    finally:
        backend.close()
        disconnect()


def wait_any_end(runs: list):
    while True:
        for run in runs:
            if not run.snapshot().active:
                return run
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/ray_overhead.json"))
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows = part_one(args.repeats)
    scaling, lost = part_two(args.runs)
    result = {"cpus": os.cpu_count(), "machine": platform.machine(), "loadavg_before": load_before,
              "loadavg_after": os.getloadavg(), "repeats": args.repeats, "rows": rows, "scaling": scaling,
              "second_node_speedup": scaling[0]["wall_s"] / scaling[1]["wall_s"], "node_lost": lost}
    print(table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


def table(result: dict) -> str:
    lines = [f"load {result['loadavg_before'][0]:.2f} -> {result['loadavg_after'][0]:.2f}, {result['cpus']} CPUs",
             f"{'backend':9} {'pace':6} {'epochs':>6} {'first snap s':>12} {'epochs/s':>9} {'ratio':>6} "
             f"{'cmd trip s':>10} {'ok':>4}"]
    for r in result["rows"]:
        lines.append(f"{r['backend']:9} {r['pace']:6} {r['epochs']:6d} {r['first_snapshot_s']:12.2f} "
                     f"{r['epochs_per_s']:9.1f} {r['epochs_per_s_ratio']:6.2f} {r['command_round_trip_s']:10.3f} "
                     f"{str(r['completed']):>4}")
    lines.append(f"{'nodes':>5} {'runs':>4} {'wall s':>7} {'completed':>9}")
    for r in result["scaling"]:
        lines.append(f"{r['nodes']:5d} {r['runs']:4d} {r['wall_s']:7.2f} {r['completed']:9d}")
    lines.append(f"a second 1-CPU node: {result['second_node_speedup']:.2f}x the runs per minute (projection of a "
                 "second machine; here both nodes share this machine's cores)")
    lost = result["node_lost"]
    lines.append(f"second node killed: its run failed after {lost['detected_s']:.2f} s ({lost['message']!r}); "
                 f"the other trained on: {lost['other_trained_on']}; a new run: {lost['new_run']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
