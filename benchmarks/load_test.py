"""Classroom load test: N students on one server, each training at once (the default spiral, or a scenario).

    python -m benchmarks.load_test [--scenario default|same|seeds|mixed|class] [--sessions 30] [--port auto]
                                   [--workers N | --ray ADDRESS|start] [--timeout 600] [--interactions 5] [--gap 2]
                                   [--out benchmarks/results/load_test[_SCENARIO].json]
    python -m benchmarks.load_test --url http://127.0.0.1:8501 [--pid SERVER_PID] ...

`--scenario` picks the classroom (benchmarks/load_scenarios.py: what each student opens, through a shared
link's query string, at which pace, when they press Train, and the scenario's own checks); `default` is
the test described here, unchanged, so earlier figures stay comparable. In the others every student
presses Train within 2 s of the last page load, and each page's first live boundary is timed from its
click (see load_scenarios for how a live boundary is read). In `class` every student is in a class the
test prepared in the server's runs file (benchmarks/load_class.py; with --url, name that file with
--runs-db) and the teacher's tab watches the Board meanwhile: its refreshes, their round trips (the
fragment rerun sent to that run's end) and the tiles it showed are reported beside the students' numbers.

Starts `streamlit run app.py` on 127.0.0.1 (a free port; PLAYGROUND_OFFLINE=1, PLAYGROUND_DATA and
PLAYGROUND_RUNS_DB in a temp folder; PLAYGROUND_WORKERS=N with --workers, else the app's default;
PLAYGROUND_RAY_ADDRESS with --ray: the server trains on that Ray cluster, or on a loopback head of this
machine's CPUs that `--ray start` runs for the test;
`server.disconnectedSessionTTL` of 5 s instead of 120 so closed tabs are dropped soon) and ends
its process group at the end; or uses the server at --url (memory and CPU only with --pid). Only
loopback is touched. Each session is a websocket client speaking Streamlit's protocol
(benchmarks/st_client.py; far lighter than 30 Chromium tabs on 2 cores). It opens the
Playground (with the scenario's query string, and its pace chosen with the Speed control when it is not
Watch), presses Train, reruns the live fragments at the interval the server asks for (as the
browser's run_every timer does) until its run has ended, whether it ran at once or waited in the
queue, and meanwhile toggles "Teacher mode" on and off a few times: a real widget change, timed
from the BackMsg to the `script_finished` of the full-page run it causes. A page that stops
updating mid-run (no polling, no end, no message for 15 s) is counted and rerun, as a student
would touch it. When the run has ended the page is rerun once more and its "Test accuracy"
metric is read.

Reported (printed as a table, all details in the JSON): trainings completed and their final
test accuracy (the warm-up trains the first student's setup alone twice, the second is "one run alone", at
the same pace, after the first paid the workers' start-up; runs
with its setup must equal its accuracy, same setup and seeds on the CPU; where every student trains the
default setup all must lie in 0.93-0.97); pages that showed a live boundary, how soon after the click,
and pages that said "Queued"; interaction p50/p95/max, overall, while every session had a run going (running or
queued) and while at least half had (with a pool the queue drains one by one, so "all" is a
short window); interactions whose end never came; page load times; frozen pages and pages that
showed stale numbers when their run ended; live fragment runs per second; time until all were
done; server RSS (the server and its worker processes, from /proc) before the sessions (after a
warm-up session trained once and was dropped), at peak and after all were dropped; CPU time of
the server, its workers and the clients; load average and the machine.
Exits 1 when a check fails.

Not measured: the browser's own work (rendering, Plotly, its message cache), network latency
and static files. The clients share the machine's cores with the server (their CPU time is
reported), and so does whatever else runs on it: compare runs only on a quiet machine. RSS is
what the OS sees: freed memory is often kept by the allocator, so "after" is retained memory,
not necessarily a leak. (The shared `timing_args`/`timed` of draw_latency.py are not used: they
import torch, which this client process has no need for.)
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path

import streamlit

from benchmarks.load_class import BoardTab, board_figures, board_rows, class_steps, prepare_class
from benchmarks.load_scenarios import BOUNDARY, SCENARIOS, Scenario, Student, boundary_epoch, scenario_checks
from benchmarks.local_server import ROOT, free_port, healthy, launch
from benchmarks.local_server import stop as stop_server
from benchmarks.st_client import Session

RESULTS = ROOT / "benchmarks" / "results"  # load_test.json for the default scenario, else load_test_NAME.json
PAGE = "Playground"  # the page's URL path; its script hash comes from the server's new_session
TRAIN, TOGGLE, SPEED, ACCURACY = "pg_train", "pg_teacher", "pg_pace", "Test accuracy"
ENDED = {"Completed", "Stopped", "Diverged", "Failed"}  # badges of a run that has ended
SESSION_TTL = 5  # server.disconnectedSessionTTL (default 120 s) so closed sessions go soon
STALL_S = 15.0  # this long without a message, no polling and no finished full run: a frozen page
REFRESH_S, INTERACTION_S = 60.0, 60.0  # the longest wait for the final rerun, for one interaction


# --- the server ---------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=list(SCENARIOS), default="default",
                        help="the classroom (benchmarks/load_scenarios.py); default: today's test")
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--port", default="auto", help="port for the server started here, or 'auto'")
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--pid", type=int, help="with --url: the server's pid, to measure its memory")
    parser.add_argument("--runs-db", type=Path, help="with --url and --scenario class: the server's runs file")
    parser.add_argument("--workers", type=int, help="set PLAYGROUND_WORKERS for the server (default: unset)")
    parser.add_argument("--ray", metavar="ADDRESS", help="set PLAYGROUND_RAY_ADDRESS for the server (train on that "
                        "Ray cluster); 'start': a loopback Ray head of this machine's CPUs, started and ended here")
    parser.add_argument("--interactions", type=int, default=5, help="page interactions per session")
    parser.add_argument("--gap", type=float, default=2.0, help="seconds between a session's interactions")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for the whole test")
    parser.add_argument("--out", type=Path, help="default: benchmarks/results/load_test[_SCENARIO].json")
    args = parser.parse_args()
    if args.url and SCENARIOS[args.scenario].board and not args.runs_db:
        parser.error(f"--scenario {args.scenario} with --url needs --runs-db (the server's PLAYGROUND_RUNS_DB)")
    args.out = args.out or RESULTS / ("load_test.json" if args.scenario == "default" else
                                      f"load_test_{args.scenario}.json")
    return args


def start_server(args, tmp: Path) -> subprocess.Popen:
    """`streamlit run app.py` on 127.0.0.1 in its own process group, data and runs under `tmp`."""
    env = {**os.environ, "PLAYGROUND_OFFLINE": "1", "PLAYGROUND_DATA": str(tmp / "data"),
           "PLAYGROUND_RUNS_DB": str(tmp / "runs.sqlite")}
    if args.workers is not None:
        env["PLAYGROUND_WORKERS"] = str(args.workers)
    if args.ray:
        env["PLAYGROUND_RAY_ADDRESS"] = args.ray
    return launch(args.port, env, tmp / "server.log", "--server.disconnectedSessionTTL", str(SESSION_TTL))


def wait_healthy(url: str, server: subprocess.Popen | None, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
        if healthy(url):
            return
        time.sleep(0.25)
    raise TimeoutError(f"{url} did not become healthy")


def active_sessions(url: str) -> int | None:
    """The server's own count of connected sessions (`active_sessions` in /_stcore/metrics)."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=5) as response:
            lines = response.read().decode().splitlines()
    except OSError:
        return None
    return next((int(float(line.split()[-1])) for line in lines if line.startswith("active_sessions ")), None)


# --- memory and CPU of a process tree ------------------------------------------------------------

def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, from each /proc/<pid>/stat's parent pid."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def rss_mb(root: int, tree: bool = True) -> float:
    """Resident memory of `root` (and, with `tree`, its descendants) from VmRSS, in MB."""
    total_kb = 0
    for pid in process_tree(root) if tree else [root]:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total_kb += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total_kb / 1024


def cpu_seconds(root: int, tree: bool = True) -> float:
    """User + system CPU time of `root` (and, with `tree`, its living descendants)."""
    ticks = 0
    for pid in process_tree(root) if tree else [root]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def server_cpu(pid: int | None) -> tuple[float, float]:
    """CPU seconds of the server process alone, and with its worker processes."""
    return (cpu_seconds(pid, tree=False), cpu_seconds(pid)) if pid else (0.0, 0.0)


@dataclass
class Sampler:
    """Samples the server tree's RSS every second while the sessions run; keeps the peak."""

    pid: int | None
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, MB)

    async def run(self, started: float) -> None:
        while self.pid is not None:
            self.samples.append((round(time.monotonic() - started, 1), round(rss_mb(self.pid), 1)))
            await asyncio.sleep(1.0)

    @property
    def peak(self) -> float | None:
        return max((mb for _, mb in self.samples), default=None)


# --- one student ----------------------------------------------------------------------------------

@dataclass
class Board:
    """What the sessions share: how many are training right now (clicked, not yet ended), and the
    open sessions, for the progress line."""

    sessions: int
    training: int = 0
    open: dict[int, Session] = field(default_factory=dict)
    ready: int = 0  # sessions whose page has loaded (or that failed before)
    all_ready: asyncio.Event = field(default_factory=asyncio.Event)

    def loaded(self) -> None:
        self.ready += 1
        if self.ready >= self.sessions:
            self.all_ready.set()

    @property
    def all_training(self) -> bool:
        return self.training == self.sessions

    async def report(self, started: float, label: str = "sessions", every: float = 10.0) -> None:
        """Print a progress line every `every` seconds: open sessions by status."""
        while True:
            await asyncio.sleep(every)
            counts = collections.Counter(s.view.status or "loading" for s in self.open.values())
            print(f"  {label} {time.monotonic() - started:5.0f} s  open {len(self.open):>3}  " +
                  ", ".join(f"{name} {n}" for name, n in sorted(counts.items())), file=sys.stderr, flush=True)


async def open_page(session: Session, timeout: float) -> float:
    """Load the Playground as a browser does on opening its URL; seconds to the end of the first run."""
    sent = await session.rerun()
    took = await session.full_run(sent, timeout)
    if took is None:
        raise TimeoutError("the Playground's first run did not report its end")
    if TRAIN not in session.view.widget_ids:
        raise RuntimeError(f"no Train button on the page; exceptions: {session.view.exceptions}")
    return took


async def choose_pace(session: Session, setup: Student, timeout: float) -> None:
    """Pick the setup's pace with the Speed control, as a student would, unless it is the default."""
    if setup.speed_label == "Watch":
        return
    if await session.full_run(await session.set_strings(SPEED, [setup.speed_label]), timeout) is None:
        raise TimeoutError("the page's run after choosing the pace did not report its end")


async def press_when_told(board: Board, spread_s: float | None, deadline: float) -> None:
    """Wait until every page has loaded, then a moment within `spread_s` (None: press at once)."""
    board.loaded()
    if spread_s is None:
        return
    await asyncio.wait_for(board.all_ready.wait(), max(deadline - time.monotonic(), 0.001))
    await asyncio.sleep(random.uniform(0, spread_s))


def watch_live(session: Session) -> dict:
    """Notes (under "at") when the first boundary the model drew (an epoch above 0) arrives."""
    seen = {"data": None}

    def check() -> None:
        data = session.view.components.get(BOUNDARY)
        if "at" not in seen and data is not seen["data"]:
            seen["data"] = data
            if boundary_epoch(data) > 0:
                seen["at"] = time.monotonic()
    session.on_message.append(check)
    return seen


def ended(session: Session) -> bool:
    """The run has ended and the page settled: no polling left, the last full run finished, no
    run half way through sending its elements."""
    runs = session.runs
    return session.view.status in ENDED and not session.timers and runs.last_finished() and runs.idle()


def frozen(session: Session, poked: float) -> bool:
    """The page stopped updating: no polling timer, the last full run never reported its end, and
    nothing has arrived (or been sent since `poked`) for STALL_S. Seen under load: Streamlit drops
    the events of a script runner that a new request replaced before the event loop read them,
    `script_finished` and `auto_rerun` included (streamlit/runtime/app_session.py, request_rerun)."""
    quiet = min(session.quiet_for(), time.monotonic() - poked)
    return not session.timers and not session.runs.last_finished() and quiet > STALL_S


async def train(session: Session, deadline: float) -> dict:
    """Press Train and follow the run until it has ended; a frozen page is rerun, as a student
    would touch it. Then one more full rerun, and the final accuracy is read from the page
    (`shown_at_end`: what it showed before that rerun)."""
    live = watch_live(session)
    clicked = poked = await session.click(TRAIN)
    stalls, first_stall = 0, None
    while await session.until(lambda: ended(session) or frozen(session, poked), deadline - time.monotonic()):
        if ended(session):
            break
        stalls, first_stall = stalls + 1, first_stall or [" ".join(map(str, entry)) for entry in session.trace]
        poked = await session.rerun()
    done, shown, ended_at = ended(session), session.view.metrics.get(ACCURACY), time.monotonic()
    if done:  # the numbers the page shows after the next rerun, in case the last ones were lost
        await session.full_run(await session.rerun(), min(REFRESH_S, deadline - time.monotonic()))
    accuracy = session.view.metrics.get(ACCURACY, "")
    return {"status": session.view.status if done else f"timed out ({session.view.status or 'no status'})",
            "accuracy": float(accuracy) if accuracy.replace(".", "", 1).isdigit() else None,
            "shown_at_end": shown, "stalls": stalls, **({"trace_at_first_stall": first_stall} if stalls else {}),
            "train_s": round(ended_at - clicked, 2), "ended_at": ended_at, "clicked_at": clicked,
            "live_after_s": round(live["at"] - clicked, 3) if "at" in live else None,
            "queued": "Queued" in session.view.statuses}


async def interact(session: Session, board: Board, args, deadline: float) -> list[dict]:
    """Toggle Teacher mode on and off while this session's run is active; time each full-page run."""
    await session.until(lambda: session.view.status != "", deadline - time.monotonic())
    timings, value = [], True
    for n in range(args.interactions):
        await asyncio.sleep(args.gap * (random.uniform(0.1, 1.0) if n == 0 else random.uniform(0.5, 1.5)))
        if session.view.status in ENDED or session.closed or time.monotonic() > deadline:
            break
        all_before, training = board.all_training, board.training
        sent = await session.set_bool(TOGGLE, value)
        took = await session.full_run(sent, min(INTERACTION_S, deadline - time.monotonic()))
        timings.append({"ms": None if took is None else round(took * 1000, 1),  # None: its end never came
                        "training": min(training, board.training), "all_training": all_before and board.all_training})
        value = not value
    return timings


async def student(number: int, url: str, board: Board, args, deadline: float, setup: Student = Student(),
                  spread_s: float | None = None) -> dict:
    """One session: open the page with `setup`, choose its pace, press Train when told (`spread_s`), train,
    interact meanwhile; returns what it saw."""
    result, counted = {"session": number, "query": setup.query, "pace": setup.pace,
                       **({"lr": setup.lr} if setup.lr else {})}, False
    try:
        async with Session(url, PAGE, setup.query, {"Cookie": setup.cookie} if setup.cookie else None) as session:
            board.open[number] = session
            result["page_load_s"] = round(await open_page(session, deadline - time.monotonic()), 3)
            await class_steps(session, setup, deadline - time.monotonic())
            await choose_pace(session, setup, deadline - time.monotonic())
            counted = True
            await press_when_told(board, spread_s, deadline)
            board.training += 1
            try:
                clicks = asyncio.create_task(interact(session, board, args, deadline))
                result.update(await train(session, deadline))
            finally:
                board.training -= 1
            result["interactions"] = await clicks
            lost = any(i["ms"] is None for i in result["interactions"])
            if lost or result.get("stalls") or result.get("status") != "Completed" or \
                    result.get("shown_at_end") != session.view.metrics.get(ACCURACY):
                result["trace"] = [" ".join(map(str, entry)) for entry in session.trace]  # for diagnosis
            result.update(statuses=session.view.statuses, fragment_runs=session.runs.fragment_runs,
                          poll_intervals=sorted(session.intervals),
                          received_mb=round(session.received_bytes / 2**20, 1), exceptions=session.view.exceptions)
    except Exception as error:  # noqa: BLE001 - a failed session is reported, the others go on
        result["error"] = f"{type(error).__name__}: {error}"
    finally:
        board.open.pop(number, None)
        if not counted:  # the others do not wait for a page that never loaded
            board.loaded()
    return result


# --- the test ------------------------------------------------------------------------------------

async def settled_memory(url: str, pid: int | None, deadline: float) -> dict:
    """Server RSS once closed sessions are gone: wait out the session TTL, then open and close one
    probe session (Streamlit drops expired sessions lazily, when the next closed one is stored)."""
    await asyncio.sleep(min(SESSION_TTL + 2, max(deadline - time.monotonic(), 0)))
    async with Session(url, PAGE) as probe:
        await open_page(probe, deadline - time.monotonic())
    await asyncio.sleep(3)
    return {"rss_mb": round(rss_mb(pid), 1) if pid else None, "active_sessions": active_sessions(url),
            "server_process_rss_mb": round(rss_mb(pid, tree=False), 1) if pid else None}


async def warm_up(url: str, setup: Student, deadline: float) -> dict:
    """One session trains `setup` alone, then a second one: the first pays imports, worker start-up and
    first-run costs before "before"; the second's time is "one run alone" at the scenario's pace
    (`train_s`; the first's is kept as `first_train_s`)."""
    first = await solo(url, setup, deadline, "warm-up")
    result = await solo(url, setup, deadline, "one run alone")
    return {**result, "first_train_s": first["train_s"], "first_accuracy": first["accuracy"]}


async def solo(url: str, setup: Student, deadline: float, label: str) -> dict:
    """One session trains `setup` with nobody else on the server."""
    board, started = Board(sessions=1), time.monotonic()
    progress = asyncio.create_task(board.report(started, label=label))
    result = await student(0, url, board, argparse.Namespace(interactions=0, gap=0), deadline, setup)
    progress.cancel()
    if "error" in result or result.get("status") != "Completed":
        raise RuntimeError(f"the {label} session failed: {result}")
    return result


async def load(url: str, pid: int | None, args, deadline: float) -> dict:
    """Warm up, measure, run all sessions at once while sampling memory, measure again."""
    scenario = SCENARIOS[args.scenario]
    setups = scenario.students(args.sessions)
    warm = await warm_up(url, replace(setups[0], cookie="", open_handout=False), deadline)  # not in the class
    before = await settled_memory(url, pid, deadline)
    sessions_deadline = deadline - SESSION_TTL - 20  # time left to measure after the sessions
    teacher = BoardTab(url, prepare_class(args.runs_db, setups), sessions_deadline) if scenario.board else None
    sampler, board, started = Sampler(pid), Board(args.sessions), time.monotonic()
    sampling, progress = asyncio.create_task(sampler.run(started)), asyncio.create_task(board.report(started))
    load_before, client_cpu, cpu_before = os.getloadavg(), time.process_time(), server_cpu(pid)
    results = await asyncio.gather(*(student(i + 1, url, board, args, sessions_deadline, setup, scenario.spread_s)
                                     for i, setup in enumerate(setups)))
    client_cpu, load_after = time.process_time() - client_cpu, os.getloadavg()
    extra = {"board": await teacher.close()} if teacher is not None else {}
    cpu = [round(after - before, 1) for before, after in zip(cpu_before, server_cpu(pid))] if pid else [None, None]
    sampling.cancel()
    progress.cancel()
    busy_s = time.monotonic() - started
    after = await settled_memory(url, pid, deadline)
    for result in results:
        result["ended_s"] = round(result.pop("ended_at", started) - started, 2)
        result["clicked_s"] = round(result.pop("clicked_at", started) - started, 2)
    return {"warm_up": warm, "before": before, "after": after, "peak_rss_mb": sampler.peak,
            "rss_samples": sampler.samples, "sessions": results, "load_s": round(busy_s, 2),
            "client_cpu_s": round(client_cpu, 1), "server_cpu_s": cpu[0], "server_and_workers_cpu_s": cpu[1],
            "loadavg_start": load_before, "loadavg_end": load_after, **extra}


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]  # nearest rank
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered), 1), "p95_ms": p95,
            "max_ms": ordered[-1]}


def accuracy_checks(run: dict, scenario: Scenario) -> dict[str, bool]:
    """Runs with the warm-up's setup end with its accuracy; with the scenario's range, every run lies in it."""
    warm, results = run["warm_up"], run["sessions"]
    done = [r for r in results if r.get("status") == "Completed" and r.get("accuracy") is not None]
    same = [r["accuracy"] for r in done if (r.get("query"), r.get("lr")) == (warm.get("query"), warm.get("lr"))]
    checks = {"runs with the warm-up's setup equal its accuracy": bool(same) and set(same) == {warm["accuracy"]}}
    if scenario.accuracy_range is not None:
        low, high = scenario.accuracy_range
        checks[f"accuracy in {low}-{high}"] = bool(done) and all(low <= r["accuracy"] <= high for r in done)
    return checks


def live_figures(results: list[dict], warm_up_s: float) -> dict:
    """Pages that showed a live boundary and how soon after the click; pages that said Queued; the time
    from the first click to the last end, and its ratio to one run alone."""
    clicked = [r["clicked_s"] for r in results if "train_s" in r]
    ended = [r["ended_s"] for r in results if "train_s" in r]
    done = round(max(ended) - min(clicked), 2) if clicked else None
    live = [r["live_after_s"] * 1000 for r in results if r.get("live_after_s") is not None]
    return {"pages_live": len(live), "live_after": percentiles(live),
            "pages_queued": sum(bool(r.get("queued")) for r in results),
            "done_after_clicks_s": done, "clicks_spread_s": round(max(clicked) - min(clicked), 2) if clicked else None,
            "done_ratio": round(done / warm_up_s, 2) if done is not None and warm_up_s else None}


def summarize(run: dict, sessions: int, scenario: Scenario = SCENARIOS["default"]) -> dict:
    """The table's numbers and the checks: every run completed, accuracies right, the scenario's own."""
    results = run["sessions"]
    accuracies = [r["accuracy"] for r in results if r.get("status") == "Completed" and r.get("accuracy") is not None]
    clicks = [i for r in results for i in r.get("interactions", []) if i["ms"] is not None]
    stale = sum(r.get("shown_at_end") != f"{r['accuracy']:.4f}" for r in results if r.get("accuracy") is not None)
    checks = {
        "all completed": sum(r.get("status") == "Completed" for r in results) == sessions,
        **accuracy_checks(run, scenario),
        "no exceptions on the pages": not any(r.get("exceptions") or r.get("error") for r in results),
        "no page froze mid-run": not any(r.get("stalls") for r in results),
        "every page showed its final accuracy when the run ended": stale == 0,
    }
    before, after = run["before"]["rss_mb"], run["after"]["rss_mb"]
    summary = {"scenario": scenario.name, "sessions": sessions,
               "completed": sum(r.get("status") == "Completed" for r in results),
               "accuracy_min": min(accuracies, default=None), "accuracy_max": max(accuracies, default=None),
               "warm_up_accuracy": run["warm_up"]["accuracy"], "warm_up_train_s": run["warm_up"]["train_s"],
               "warm_up_first_train_s": run["warm_up"].get("first_train_s"),
               "interaction": percentiles([i["ms"] for i in clicks]),
               "interactions_lost": sum(i["ms"] is None for r in results for i in r.get("interactions", [])),
               "stalls": sum(r.get("stalls", 0) for r in results), "stale_at_end": stale,
               "interaction_all_training": percentiles([i["ms"] for i in clicks if i["all_training"]]),
               "interaction_half_training": percentiles([i["ms"] for i in clicks if 2 * i["training"] >= sessions]),
               "page_load": percentiles([r["page_load_s"] * 1000 for r in results if "page_load_s" in r]),
               "all_done_s": max((r["ended_s"] for r in results if "status" in r), default=None),
               "train_s_median": statistics.median([r["train_s"] for r in results if "train_s" in r] or [0]),
               "rss_before_mb": before, "rss_peak_mb": run["peak_rss_mb"], "rss_after_mb": after,
               "rss_growth_mb": round(after - before, 1) if before and after else None,
               "server_process_growth_mb": round(run["after"]["server_process_rss_mb"] -
                                                 run["before"]["server_process_rss_mb"], 1) if before else None,
               "cpu": {"load_s": run["load_s"], "server_s": run["server_cpu_s"],
                       "server_and_workers_s": run["server_and_workers_cpu_s"], "clients_s": run["client_cpu_s"],
                       "polls": sum(r.get("fragment_runs", 0) for r in results),
                       "loadavg_start": run["loadavg_start"], "loadavg_end": run["loadavg_end"]},
               "polls_per_s": round(sum(r.get("fragment_runs", 0) for r in results) /
                                    max(sum(r.get("train_s", 0) for r in results), 1e-9), 2),
               "poll_intervals": sorted({i for r in results for i in r.get("poll_intervals", [])}),
               **live_figures(results, run["warm_up"]["train_s"]),
               **({"board": board_figures(run["board"], percentiles)} if "board" in run else {})}
    summary["checks"] = {**checks, **scenario_checks(scenario, summary)}
    return summary


def table(summary: dict) -> str:
    def ms(stats: dict) -> str:
        if not stats["n"]:
            return "–"
        return f"{stats['p50_ms']:.0f} / {stats['p95_ms']:.0f} / {stats['max_ms']:.0f} (n={stats['n']})"

    def mb(value) -> str:
        return "not measured" if value is None else f"{value:,.0f} MB"

    cpu = summary["cpu"]
    rows = [("scenario", summary["scenario"]), ("sessions", summary["sessions"]),
            ("trainings completed", summary["completed"]),
            ("final test accuracy min / max", f"{summary['accuracy_min']} / {summary['accuracy_max']}"
             f" (alone: {summary['warm_up_accuracy']})"),
            ("interaction p50 / p95 / max ms", ms(summary["interaction"])),
            ("  while all were training (or queued)", ms(summary["interaction_all_training"])),
            ("  while at least half were", ms(summary["interaction_half_training"])),
            ("  no end seen (lost, or over 60 s)", summary["interactions_lost"]),
            ("page load p50 / p95 / max ms", ms(summary["page_load"])),
            ("pages frozen mid-run (then rerun)", summary["stalls"]),
            ("pages showing stale numbers at end", summary["stale_at_end"]),
            ("time until all done", f"{summary['all_done_s']} s (one run alone: {summary['warm_up_train_s']} s,"
             f" the very first: {summary['warm_up_first_train_s']} s;"
             f" median here {summary['train_s_median']:.1f} s)"),
            ("  first click to last end", f"{summary['done_after_clicks_s']} s = {summary['done_ratio']}x one run"
             f" alone (clicks within {summary['clicks_spread_s']} s)"),
            ("pages showing a live boundary", f"{summary['pages_live']}; after the click p50 / p95 / max ms: "
             f"{ms(summary['live_after'])}"),
            ('pages that showed "Queued"', summary["pages_queued"]),
            ("server RSS before / peak / after", f"{mb(summary['rss_before_mb'])} / {mb(summary['rss_peak_mb'])}"
             f" / {mb(summary['rss_after_mb'])}"),
            ("growth after - before", f"{mb(summary['rss_growth_mb'])} (server process alone: "
             f"{mb(summary['server_process_growth_mb'])})"),
            ("CPU s: server / +workers / clients", f"{cpu['server_s']} / {cpu['server_and_workers_s']} / "
             f"{cpu['clients_s']} in {cpu['load_s']} s wall; load avg {cpu['loadavg_start'][0]:.1f} -> "
             f"{cpu['loadavg_end'][0]:.1f}"),
            ("live fragment runs seen", f"{cpu['polls']} ({summary['polls_per_s']} per session-second of"
             f" training; intervals asked: {', '.join(f'{i:g} s' for i in summary['poll_intervals'])})")]
    rows += board_rows(summary["board"], ms) if "board" in summary else []
    rows += [(f"check: {name}", "ok" if ok else "FAILED") for name, ok in summary["checks"].items()]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def machine() -> dict:
    return {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "streamlit": streamlit.__version__, "loadavg_at_exit": os.getloadavg()}


async def run_test(args, url: str, pid: int | None, deadline: float) -> dict:
    run = await load(url, pid, args, deadline)
    return {"summary": summarize(run, args.sessions, SCENARIOS[args.scenario]), **run}


def server_log(tmp: str) -> str:
    path = Path(tmp) / "server.log"
    return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def ray_cluster(args):
    """With `--ray start`: a Ray head on loopback (tests/ray_cluster.py) for the server, ended afterwards."""
    if args.ray != "start":
        yield
        return
    from tests.ray_cluster import RayNode

    head = RayNode.head(num_cpus=os.cpu_count() or 1)
    args.ray = head.address
    try:
        yield
    finally:
        head.remove()


def main() -> None:
    args = parse_args()
    deadline = time.monotonic() + args.timeout
    with tempfile.TemporaryDirectory(prefix="load-test-") as tmp, ray_cluster(args):
        server = None
        if args.url:
            url, pid = args.url.rstrip("/"), args.pid
        else:
            args.port = free_port() if args.port == "auto" else int(args.port)
            args.runs_db = Path(tmp) / "runs.sqlite"  # start_server's PLAYGROUND_RUNS_DB
            server, url = start_server(args, Path(tmp)), f"http://127.0.0.1:{args.port}"
            pid = server.pid
        try:
            wait_healthy(url, server, deadline)
            report = asyncio.run(asyncio.wait_for(run_test(args, url, pid, deadline), deadline - time.monotonic() + 10))
        except BaseException:
            print(f"--- end of the server's log ---\n{server_log(tmp)[-3000:]}", file=sys.stderr)
            raise
        finally:
            log = server_log(tmp)
            if server is not None:
                stop_server(server)
    report.update(machine=machine(), options={k: str(v) for k, v in vars(args).items()},
                  session_ttl_s=SESSION_TTL, server_log_tail=log[-4000:])
    print(table(report["summary"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")
    sys.exit(0 if all(report["summary"]["checks"].values()) else 1)


if __name__ == "__main__":
    main()
