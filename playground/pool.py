"""Trainings in worker processes: a fixed pool of spawned processes with a queue in front of it.

`TrainingPool(workers)` starts `workers` fresh interpreters (`python -m playground.worker`, spawned
like multiprocessing's "spawn" but without re-running `__main__`, which under Streamlit is a page
script; one torch thread each; torch warmed up before a worker takes its first job). A worker runs
`TrainingRunner`s and `Race`s built from picklable arguments, obeying the same commands as in-process
and sending frozen snapshots back a few times a second (`worker`). It hosts as many as its measured
CPU allows (`schedule`): a fast run or a race has it to itself, runs at the watch pace share it, and
same-shaped fast runs share it as one stack (`stacking`, `stack_group`; `stack=False` or
`PLAYGROUND_STACK=0`: never). `pool.run(...)` / `pool.race(...)` return handles with the runner's /
race's interface, so the UI cannot tell them apart. Jobs that fit no worker wait in a first-come queue
(a later job that fits may pass one that does not, for PATIENCE_SECONDS); their snapshots say "queued"
and their place. A queued job whose page stopped asking about it (a closed tab) is dropped before it
reaches a worker; a job that has held its worker for the pool's turn while others wait is stopped (and
saved); a new job from the same owner (a browser) stops that owner's previous one; a job over the
compute budget is refused before it queues. Workers send a heartbeat every second: a worker found dead
or silent is replaced, and the jobs it was running fail with a message. Saving a finished run
(`on_end`) happens in this process, which keeps a finished run's weights on disk, mapped, rather than
in its own memory. Knows nothing about Streamlit or Plotly.
"""
from __future__ import annotations

import collections
import itertools
import logging
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Callable

from . import settings
from .budget import race_problem, run_problem
from .config import TrainConfig
from .pace import FAST, epochs_per_second
from .progress import (
    FAILED,
    PAUSED,
    QUEUED,
    REPLACED,
    STARTING,
    STOPPED,
    Entrant,
    History,
    Owners,
    RaceSnapshot,
    Snapshot,
    hand_over,
)
from .schedule import CpuMeter, Hosted, may_host
from .stacking import stack_key
from .timeline import Timeline
from .worker import HEARTBEAT_SECONDS, SNAPSHOT_SECONDS  # noqa: F401
from .worker import receive as _receive
from .worker import send as _send

log = logging.getLogger(__name__)

SEEN_SECONDS = 1.0  # the UI's polling is forwarded to the worker's watchdog at most this often
PAUSED_YIELD_SECONDS = 60.0  # a run paused this long while others wait for a worker is stopped
YIELDED = ("Stopped: it stayed paused for over a minute while others were waiting for a training slot. "
           "What it trained is kept.")
SILENT_SECONDS = 10.0  # a worker silent this long is taken as hung: killed, replaced, its run failed
STOP_SILENT_SECONDS = 3.0  # ... or this long after its run was asked to stop
START_SILENT_SECONDS = 120.0  # a starting worker (importing torch, warming up) may be silent this long
START_TRIES = 3  # a worker that fails to start this many times in a row fails its jobs instead
CANNOT_START = "The training workers cannot start on this server (see its log); ask whoever runs it."
TURN_ENDED = ("Stopped: it trained for {minutes:g} minutes while others were waiting for a training slot. "
              "What it trained is kept; press Train to queue again.")
ABANDONED = "Dropped from the queue: its page stopped checking on it (was the tab closed?). Press Train to queue again."
HUNG = ("The training process stopped responding, so this run was ended and the process replaced. "
        "Press Train to try again.")
CRASHED = ("The training process stopped unexpectedly (was it out of memory?). "
           "Try a smaller model or batch size, then Train again.")
LISTEN_SECONDS = 0.1  # a slot's thread waits this long for its worker's next message between its other duties
MESSAGES_PER_TURN = 200  # ... and handles at most this many before it checks turns and admits queued jobs
PATIENCE_SECONDS = 5.0  # a queued job waiting this long is not passed by later ones that would fit sooner


def queue_message(place: int, workers: int, starting: bool = False) -> str:
    ahead = "you are next" if place == 1 else f"{place - 1} ahead of you"
    if starting:  # a fresh server: no worker has finished loading PyTorch yet
        return (f"Waiting for a free training slot: {ahead}. The server's training workers are starting "
                "(PyTorch loads once per server); yours starts by itself.")
    busy = "training worker is" if workers == 1 else f"{workers} training workers are"
    return (f"Waiting for a free training slot: {ahead}. The server's {busy} busy with other trainings; "
            "yours starts by itself.")


# --- the server's side -----------------------------------------------------------------------------

class JobQueue:
    """A backend's first-come line of jobs (`_queue` under `_lock`): a job's place, and taking one out."""

    def _withdraw(self, job: "_PoolJob") -> bool:
        """Take a job out of the queue; False when it already left it (a worker, or Ray, has it)."""
        with self._lock:
            if job in self._queue:
                self._queue.remove(job)
                return True
            return False

    def _place(self, job: "_PoolJob") -> int:
        with self._lock:
            return self._queue.index(job) + 1 if job in self._queue else 0


class TrainingPool(JobQueue):
    """`workers` spawned processes, each training what its CPU allows, and a first-come queue.

    `turn_minutes`: how long a run may keep a worker while others wait; `abandoned_seconds`: how
    long a queued run keeps its place without its page asking about it; `live_limit`: how many runs may
    be live at once, watchers of a shared computation included (each live page polls several times a
    second; beyond it runs queue, and a queued page polls every 2 s); `stack`: whether same-shaped fast
    runs train stacked in one worker (`stacking`) (defaults from the environment).
    Runs started with an `owner` (a browser) stop that owner's previous run: one run at a time each.
    """

    def __init__(self, workers: int, torch_threads: int = 1, turn_minutes: float | None = None,
                 abandoned_seconds: float | None = None, live_limit: float | None = None, stack: bool | None = None):
        if workers < 1:
            raise ValueError("a pool needs at least one worker")
        self.workers, self.torch_threads = workers, torch_threads
        self.turn_minutes = turn_minutes if turn_minutes is not None else settings.turn_minutes()
        self.abandoned_seconds = abandoned_seconds if abandoned_seconds is not None else settings.abandoned_seconds()
        self.live_limit = live_limit if live_limit is not None else settings.live_runs(workers)
        self.stack = stack if stack is not None else settings.stacking()
        self.owners = Owners()
        self._lock = threading.Condition()
        self._queue: collections.deque[_PoolJob] = collections.deque()
        self._pristine: dict[tuple, PooledRunner] = {}  # runs no command has changed: identical ones may watch
        self._ids = itertools.count(1)
        self._closed = False
        self._slots = [_Slot(self, number) for number in range(workers)]
        for slot in self._slots:
            slot.start()

    def run(self, config: TrainConfig, initial_state: dict | None = None,
            on_end: Callable[[Snapshot], None] | None = None, owner: str | None = None,
            budget_minutes: float | None = None, **options) -> "PooledRunner":
        """A handle on a training; call `.start()` to queue it. `budget_minutes`: refuse a longer run.
        `options` go to the worker's `TrainingRunner` (idle times, `pace`)."""
        return PooledRunner(self, config, initial_state, on_end, options, owner, budget_minutes)

    def race(self, entrants, on_end: Callable[[RaceSnapshot], None] | None = None, owner: str | None = None,
             budget_minutes: float | None = None, **options) -> "PooledRace":
        return PooledRace(self, tuple(entrants), on_end, options, owner, budget_minutes)

    @property
    def ready(self) -> int:
        """How many workers have warmed up."""
        return sum(slot.ready.is_set() for slot in self._slots)

    @property
    def busy(self) -> int:
        """How many workers have at least one job."""
        return sum(bool(slot.jobs) for slot in self._slots)

    @property
    def waiting(self) -> int:
        with self._lock:
            self._drop_abandoned()
            return len(self._queue)

    def close(self, timeout: float = 5.0) -> None:
        """Stop every job, end the workers and wait for them (at most `timeout` s each)."""
        with self._lock:
            self._closed = True
            queued, self._queue = list(self._queue), collections.deque()
            self._lock.notify_all()
        for job in queued:
            job._cancel("The server is shutting down.")
        for slot in self._slots:
            slot.close(timeout)

    # --- used by jobs and slots ---------------------------------------------------------------

    def _submit(self, job: "_PoolJob") -> int:
        with self._lock:
            if self._closed:
                raise RuntimeError("the training pool is closed")
            self._queue.append(job)
            self._lock.notify_all()
            return next(self._ids)

    def _live(self) -> int:
        """(Under the lock) the runs live now: those the workers run and those watching one."""
        running = [job for slot in self._slots for job in list(slot.jobs.values())]
        return len(running) + sum(len(getattr(job, "_followers", ())) for job in running)

    def _admit_now(self) -> None:
        """Hand queued jobs to the workers that have room now, without waiting for their threads' turn."""
        for slot in self._slots:
            slot._admit()

    def _submit_behind(self, job: "_PoolJob", leader: "_PoolJob") -> int:
        """Queue `job` right behind `leader` (at the end when the leader has left the queue)."""
        with self._lock:
            index = self._queue.index(leader) + 1 if leader in self._queue else len(self._queue)
            self._queue.insert(index, job)
            job.queued_at = time.monotonic()
            self._lock.notify_all()
            return next(self._ids)

    def _requeue(self, job: "_PoolJob") -> None:
        """Put a job back at the head of the queue (its worker was found dead before it started)."""
        with self._lock:
            self._queue.appendleft(job)
            self._lock.notify_all()

    def _next(self, timeout: float) -> "_PoolJob | bool":
        """The first queued job that someone still watches; False after `timeout` s without one;
        None once the pool is closed. Abandoned jobs are dropped on the way."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._closed:
                self._drop_abandoned()
                if self._queue:
                    return self._queue.popleft()
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return None

    def _take(self, fits: Callable[["_PoolJob"], bool]) -> "_PoolJob | None":
        """The first queued job (that someone still watches) that `fits` a worker; None if none does or
        the pool is closed. No job passes one that has waited PATIENCE_SECONDS: that one goes next."""
        with self._lock:
            if self._closed or self._live() >= self.live_limit:
                return None
            self._drop_abandoned()
            now = time.monotonic()
            for index, job in enumerate(self._queue):
                if fits(job):
                    del self._queue[index]
                    return job
                if now - job.queued_at > PATIENCE_SECONDS:
                    return None
            return None

    def _unmark_pristine(self, run: "PooledRunner") -> None:
        """(Under the lock) `run` may no longer be joined."""
        if run._key is not None and self._pristine.get(run._key) is run:
            del self._pristine[run._key]

    def _drop_abandoned(self) -> None:
        """(Under the lock) cancel the queued jobs whose page has not asked about them for a while."""
        now = time.monotonic()
        for job in [job for job in self._queue if now - job.polled > self.abandoned_seconds]:
            self._queue.remove(job)
            job._cancel(ABANDONED)


class _Slot:
    """One worker process and the server thread that feeds it jobs (as many as its CPU allows, see
    `schedule`), relays their snapshots and watches its heartbeat: a dead or silent worker is replaced,
    and only the jobs it was running fail."""

    def __init__(self, pool: TrainingPool, number: int):
        self.pool, self.number = pool, number
        self.ready = threading.Event()
        self.jobs: dict[int, _PoolJob] = {}  # by job id; only this slot's thread changes it
        self.cpu = CpuMeter()
        self.behind = False  # a run here trains slower than its pace asks (the worker's last heartbeat)
        self.failed_starts = 0
        self._send_lock = threading.Lock()
        self._conn: Connection | None = None
        self._process: subprocess.Popen | None = None
        self._heard = 0.0  # when the worker last said anything
        self._thread = threading.Thread(target=self._serve, name=f"training-pool-{number}", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def _spawn(self) -> None:
        """Start a worker process on one end of a socket pair; it warms up and says "ready"."""
        self.ready.clear()
        self.cpu.reset()
        here, there = socket.socketpair()
        root = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        with there:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "playground.worker", str(there.fileno()), str(self.pool.torch_threads)],
                pass_fds=(there.fileno(),), cwd=root, env=env, stdin=subprocess.DEVNULL)
        self._conn = Connection(here.detach())
        self._heard = time.monotonic()

    def _serve(self) -> None:
        while not (self.pool._closed and not self.jobs):
            if not self.ready.is_set():
                self._start_or_refuse()
                continue
            self._listen(LISTEN_SECONDS)
            if self._worker_lost():
                continue
            self._watch_turns()
            self._admit()

    def _start_or_refuse(self) -> None:
        """Wait for a starting worker; once it has failed START_TRIES times, fail each job that comes."""
        if self.failed_starts < START_TRIES:
            self._await_ready()
            return
        job = self.pool._next(timeout=HEARTBEAT_SECONDS)
        if job:
            job._fail(CANNOT_START)

    def _listen(self, seconds: float) -> None:
        """Handle what the worker says, waiting up to `seconds` for its first message."""
        try:
            for _ in range(MESSAGES_PER_TURN):
                message = self._receive(seconds)
                if message is None:
                    return
                self._handle(message)
                seconds = 0.0
        except (EOFError, OSError, pickle.UnpicklingError):
            self._lose(CRASHED, "died")

    def _handle(self, message: tuple) -> None:
        kind = message[0]
        if kind == "beat" and len(message) > 2:
            self.cpu.beat(message[1], time.monotonic())
            self.behind = message[2]
        elif kind == "snapshot" and message[1] in self.jobs:
            self.jobs[message[1]]._update(message[2], message[3])
        elif kind == "end" and message[1] in self.jobs:
            self.jobs.pop(message[1])._end(message[2], message[4], message[3])
        elif kind == "forked" and message[1] in self.jobs:
            self.jobs[message[1]]._forked()
        elif kind == "lost" and message[1] in self.jobs:
            self.jobs.pop(message[1])._lost()

    def _worker_lost(self) -> bool:
        """Whether the worker died or fell silent (then it was replaced and its jobs failed)."""
        if self._process.poll() is not None:
            self._lose(CRASHED, "died")
            return True
        allowed = min((job._silence_allowed() for job in self.jobs.values()), default=SILENT_SECONDS)
        if time.monotonic() - self._heard > allowed:
            self._lose(HUNG, "stopped responding")
            return True
        return False

    def _lose(self, message: str, what: str) -> None:
        """Kill and replace the worker; the jobs it ran fail with `message`."""
        log.error("training worker %d %s %s; starting another", self.number, what,
                  f"during {len(self.jobs)} job(s)" if self.jobs else "while idle")
        with self.pool._lock:  # no job goes to it any more (a new job's thread admits too)
            self.ready.clear()
            jobs, self.jobs = list(self.jobs.values()), {}
        self._process.kill()  # SIGKILL ends a stopped process too
        for job in jobs:
            job._fail(message)
        self._restart()

    def _watch_turns(self) -> None:
        waiting, now = self.pool.waiting, time.monotonic()
        for job in list(self.jobs.values()):
            job._yield_if_blocking(waiting, now - job.started_at)

    def _admit(self) -> None:
        """Take queued jobs while this worker has room for them (`schedule.may_host`). The slot's thread
        calls it every turn, and a new job's thread at once (so a job that fits never shows as queued)."""
        with self.pool._lock:
            while self.ready.is_set() and self._process.poll() is None:  # a dead worker is replaced first
                job = self.pool._take(self._fits)
                if job is None:
                    return
                if job._dispatch(self):
                    self.jobs[job._id] = job

    def _fits(self, job: "_PoolJob") -> bool:
        hosted = [Hosted(other.shares, other.started_at, other.stack) for other in self.jobs.values()]
        return may_host(job.shares, hosted, self.cpu.cores, time.monotonic(), behind=self.behind, new_stack=job.stack)

    def _await_ready(self) -> bool:
        try:
            message = self._receive(START_SILENT_SECONDS) or ("silent",)
        except (EOFError, OSError, pickle.UnpicklingError):
            message = ("died",)
        if message[0] in ("silent", "died"):
            self.failed_starts += 1
            log.error("training worker %d died while starting (%d/%d)", self.number, self.failed_starts, START_TRIES)
            self._process.kill()
            if self.failed_starts < START_TRIES:
                self._restart()
            return False
        elif message[0] == "ready":
            self.ready.set()
            self.failed_starts = 0
            self.cpu.reset()  # the warm-up's CPU says nothing about the jobs to come
            self.behind = False
        return self.ready.is_set()

    def _receive(self, silence: float) -> tuple | None:
        """The worker's next message; None when it says nothing for `silence` s."""
        if not self._conn.poll(silence):
            return None
        message = _receive(self._conn)
        self._heard = time.monotonic()
        return message

    def _restart(self) -> None:
        self._reap(timeout=1.0)
        self._conn.close()
        if not self.pool._closed:  # no new worker while the server shuts down
            self._spawn()

    def _reap(self, timeout: float) -> None:
        """Wait for the worker process to end, killing it after `timeout` s."""
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def send(self, message: tuple) -> None:
        with self._send_lock:
            try:
                _send(self._conn, message)
            except (OSError, ValueError):
                pass  # the worker just died: the slot's thread notices and fails its jobs

    def close(self, timeout: float) -> None:
        for job in list(self.jobs.values()):
            job.stop()
        self.send(("exit",))
        self._reap(timeout)
        self._thread.join(timeout)  # it saves the stopped jobs, then finds the pool closed


class _PoolJob:
    """What the server holds for one job: its latest snapshot, and commands forwarded to its worker."""

    kind = ""

    def __init__(self, pool: TrainingPool, arguments: dict, on_end: Callable | None, owner: str | None,
                 budget_minutes: float | None):
        self.pool, self.on_end, self._arguments = pool, on_end, arguments
        self.owner, self.budget_minutes = owner, budget_minutes
        self.polled = time.monotonic()  # when its page last asked for a snapshot
        self.queued_at = self.started_at = 0.0  # when it joined the queue, when a worker took it
        self._stop_asked: float | None = None
        self._turn_over = False
        self._lock = threading.Lock()
        self._id = 0
        self._slot: _Slot | None = None
        self._pending: list[tuple] = []  # commands given while queued, replayed when a worker takes it
        self._start: dict = {}
        self._snapshot = None
        self._timeline = Timeline()  # the frames the worker relayed so far (`_relayed`)
        self._seen_sent = 0.0
        self._paused_since: float | None = None
        self._done = threading.Event()

    def _queue(self, **start) -> "_PoolJob":
        """Queue the job for a worker, unless it is over the budget; stops the owner's previous run."""
        self._start = start
        problem = self._budget_problem()
        if problem:
            self._fail(problem)
            return self
        self.pool.owners.claim(self.owner, self, REPLACED)
        self.polled = self.queued_at = time.monotonic()
        self._id = self.pool._submit(self)
        self.pool._admit_now()
        return self

    def _budget_problem(self) -> str | None:
        raise NotImplementedError

    @property
    def shares(self) -> bool:
        """Whether it leaves room on its worker for others (see `schedule`): a race never does."""
        return False

    @property
    def stack(self) -> tuple | None:
        """The stack it trains in, or may join (`stacking.stack_key`); a race never stacks."""
        return None

    # --- commands -----------------------------------------------------------------------------

    def stop(self, reason: str = "") -> None:
        """Leave the queue, or end the job after its current batch (`reason`: its message)."""
        if self.pool._withdraw(self):
            return self._cancel(reason or "Stopped before it started.")
        self._stop_asked = self._stop_asked or time.monotonic()
        self._call("stop", reason)

    def _silence_allowed(self) -> float:
        """Seconds its worker may stay silent before it counts as hung (less once Stop was pressed)."""
        return SILENT_SECONDS if self._stop_asked is None else STOP_SILENT_SECONDS

    def _yield_if_blocking(self, waiting: int, held: float) -> None:
        """While others wait for a worker: stop a run that has held its worker for the pool's turn
        (`held` s so far), or has stayed paused for PAUSED_YIELD_SECONDS."""
        if waiting and not self._turn_over and held > self.pool.turn_minutes * 60:
            self._turn_over = True  # once
            return self.stop(TURN_ENDED.format(minutes=self.pool.turn_minutes))
        with self._lock:
            paused = self._snapshot is not None and self._snapshot.status == PAUSED
        if not (paused and waiting):
            self._paused_since = None
            return
        self._paused_since = self._paused_since or time.monotonic()
        if time.monotonic() - self._paused_since > PAUSED_YIELD_SECONDS:
            self._paused_since = float("inf")  # once
            self.stop(YIELDED)

    def _call(self, name: str, *args) -> None:
        with self._lock:
            if self._done.is_set():
                return
            if self._slot is None:
                self._pending.append((name, args))
                return
            slot = self._slot
        slot.send(("call", self._id, name, args))

    @property
    def active(self) -> bool:
        return not self._done.is_set()

    def join(self, timeout: float | None = None) -> None:
        self._done.wait(timeout)

    def snapshot(self, touch: bool = True):
        """The latest snapshot from the worker (or a queued one with the place in line).

        Asking keeps a queued job's place: one nobody asks about is dropped before it gets a worker; and it
        tells the worker's watchdog someone is watching. Without `touch` (the class board) it does neither."""
        if touch:
            self.polled = time.monotonic()
        with self._lock:
            snap, slot = self._snapshot, self._slot
        if snap is None and slot is not None:  # a worker has it and has not reported yet
            return replace(self._queued_snapshot(0), status=STARTING)
        if snap is None or snap.status == QUEUED:
            return self._queued_snapshot(self.pool._place(self))
        if touch and slot is not None and time.monotonic() - self._seen_sent > SEEN_SECONDS:
            self._seen_sent = time.monotonic()
            self._call("seen")
        return snap

    def _queued_snapshot(self, place: int):
        raise NotImplementedError

    # --- called by the slot's thread ----------------------------------------------------------

    def _dispatch(self, slot: _Slot) -> bool:
        """Hand the job to `slot`'s worker with the commands given meanwhile; False if already ended."""
        with self._lock:
            if self._done.is_set():
                return False
            start = {**self._start, "stack": True} if self.stack is not None else self._start
            slot.send(("job", self._id, self.kind, self._arguments, start))
            self.started_at = time.monotonic()
            for name, args in self._pending:
                slot.send(("call", self._id, name, args))
            self._pending, self._slot = [], slot
        return True

    def _update(self, snap, new_frames: tuple = ()) -> None:
        with self._lock:
            self._snapshot = self._with_timeline(snap, new_frames)

    def _with_timeline(self, snap, new_frames: tuple):
        """`snap` with the run's whole timeline: the frames relayed before and `new_frames`."""
        if not hasattr(snap, "timeline"):
            return snap
        self._timeline = self._timeline.extended(new_frames)
        return replace(snap, timeline=self._timeline)

    def _end(self, snap, state: dict | None, new_frames: tuple = ()) -> None:
        """The worker finished: save the run (on_end) before the snapshot says it ended."""
        with self._lock:
            snap = self._with_timeline(snap, new_frames)
        self._final_state = _on_disk(state) if state is not None else None
        if self.on_end is not None and self._worth_saving(snap):
            snap = replace(snap, message=hand_over(self.on_end, snap))
        self._finish(snap)

    def _worth_saving(self, snap) -> bool:
        return snap.epoch > 0

    def _crashed(self) -> None:
        self._fail(CRASHED)

    def _fail(self, message: str) -> None:
        with self._lock:
            last = self._snapshot
        self._finish(self._ended_snapshot(last, FAILED, message))

    def _cancel(self, message: str) -> None:
        self._finish(self._ended_snapshot(None, STOPPED, message))

    def _ended_snapshot(self, last, status: str, message: str):
        base = last if last is not None and last.status != QUEUED else self._queued_snapshot(0)
        return replace(base, status=status, message=message, place=0)

    def _finish(self, snap) -> None:
        with self._lock:
            self._snapshot, self._slot = snap, None
            self._done.set()


def _on_disk(state: dict) -> dict:
    """`state` as tensors mapped from a file in the data folder, which is unlinked at once (the mapping
    keeps it until the tensors are freed): weights that wait for a download cost no server memory.
    Where the disk refuses, `state` itself."""
    import torch

    from .images import data_root

    try:
        folder = data_root() / "finished-runs"
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".pt", delete=False) as file:
            path = file.name
            torch.save(state, file)
        try:
            return torch.load(path, mmap=True, weights_only=True)
        finally:
            os.unlink(path)
    except (OSError, RuntimeError) as error:  # e.g. the disk is full: keep the weights in memory
        log.warning("kept a finished run's weights in memory: %s", error)
        return state


class PooledRunner(_PoolJob):
    """A `TrainingRunner` in a worker process, seen from the server (same methods and properties: a
    `progress.TrainingHandle`).

    Identical runs are computed once: a run started (not paused, from no checkpoint) whose whole setup
    equals one that is queued or running and that no command has changed yet (`pristine`) does not queue:
    it watches that computation (`_leader`), sharing its snapshots, its end and its weights, and is saved
    as its own run. A watcher's first command makes its run its own: the worker takes a twin of the
    computation at its next epoch boundary (`TrainingRunner.fork`) and the command applies to the twin,
    so the numbers are those of a solo run given the same command at that epoch. When the computation's
    own run is commanded, its watchers get the twin instead (the first becomes its run, the rest watch
    it) and the command applies to the computation. Forks, hand-overs and the registry of pristine runs
    change under the pool's lock."""

    kind = "runner"

    def __init__(self, pool: TrainingPool, config: TrainConfig, initial_state: dict | None,
                 on_end: Callable | None, options: dict, owner: str | None = None, budget_minutes: float | None = None):
        super().__init__(pool, {"config": config, "initial_state": initial_state, **options}, on_end, owner,
                         budget_minutes)
        self.config, self.initial_state = config, initial_state
        self._paused, self._lr = False, config.optimizer.lr
        self._pace = options.get("pace", FAST)  # the worker's TrainingRunner gets it with the other options
        self._final_state: dict | None = None
        self._engine = None
        self._key = setup_key(config, options) if initial_state is None else None
        self._stack: tuple | None = None  # set at start when it may stack (`stacking.stack_key`)
        self._leader: PooledRunner | None = None  # the computation this run watches, until it forks
        self._followers: list[PooledRunner] = []  # the runs watching this one's computation
        self._forking = False  # a twin was asked for, to go on as this run (it has an id and a slot)
        self._commanded = False  # a command has changed this run: nothing may join it
        self._end_message: str | None = None  # the worker's message at a proper end (watchers are saved then)

    def start(self, paused: bool = False) -> "PooledRunner":
        self._paused = paused
        if self.pool.stack:
            self._stack = stack_key(self.config, self._arguments, self.initial_state, paused)
        if paused or not self._watch_identical():
            self._queue(paused=paused)
            with self.pool._lock:
                if not paused and self._key is not None and self.active:
                    self.pool._pristine.setdefault(self._key, self)
        return self

    def _watch_identical(self) -> bool:
        """Watch a pristine computation of the same setup, if there is one; False if not."""
        if self._key is None or self._budget_problem():
            return False
        with self.pool._lock:
            leader = self.pool._pristine.get(self._key)
            if leader is None or not leader.active or self.pool._live() >= self.pool.live_limit:
                return False
            self._leader = leader
            leader._followers.append(self)
        self.pool.owners.claim(self.owner, self, REPLACED)
        self.polled = time.monotonic()
        return True

    # --- commands -----------------------------------------------------------------------------

    def pause(self) -> None:
        self._paused = True
        self._call("pause")

    def resume(self) -> None:
        self._paused = False
        self._call("resume")

    def step(self, epochs: int = 1) -> None:
        self._paused = True
        self._call("step", epochs)

    def set_learning_rate(self, lr: float) -> None:
        self._lr = float(lr)
        self._call("set_learning_rate", float(lr))

    def set_pace(self, pace: str) -> None:
        epochs_per_second(pace)  # an unknown name fails here, not in the worker
        self._pace = pace
        self._call("set_pace", pace)

    def stop(self, reason: str = "") -> None:
        if not self._diverge("stop", (reason,)):
            super().stop(reason)

    def _call(self, name: str, *args) -> None:
        if name == "seen" or not self._diverge(name, args):
            super()._call(name, *args)

    def _diverge(self, name: str, args: tuple) -> bool:
        """Before a command: a watcher forks off with it (True: done); a computation with watchers hands
        them a twin (True when the command went with the fork, False when the caller still applies it)."""
        with self.pool._lock:
            self._commanded = True
            self.pool._unmark_pristine(self)
            if self._done.is_set():
                return False
            if self._leader is not None and not self._forking:
                return self._fork_off(name, args)
            if self._followers:
                return self._hand_over(name, args)
            return False

    def _fork_off(self, name: str, args: tuple) -> bool:
        """(Under the pool's lock) leave the watched computation with the command `name`."""
        leader = self._leader
        if leader._slot is None:  # it has not started: nothing to take a twin of
            leader._followers.remove(self)
            self._leader = None
            if name == "stop":
                self._cancel(args[0] or "Stopped before it started.")
                return True
            self._pending.append((name, args))
            self._start, self._id = {"paused": False}, self.pool._submit_behind(self, leader)
            return True
        self._adopt_twin(leader, twin_calls=((name, args),), own_calls=())
        return True

    def _hand_over(self, name: str, args: tuple) -> bool:
        """(Under the pool's lock) give this computation's watchers a twin of it, the first as its run."""
        heir, rest = self._followers[0], self._followers[1:]
        heir._followers = rest
        for follower in rest:
            follower._leader = heir
        if self._slot is None:  # queued: the heir queues right behind, the command stays with this run
            self._followers, heir._leader = [], None
            heir._start, heir._id = {"paused": False}, self.pool._submit_behind(heir, self)
            self.pool._pristine.setdefault(self._key, heir)
            return False
        self._followers = [heir]
        heir._adopt_twin(self, twin_calls=(), own_calls=((name, args),))
        return True

    def _adopt_twin(self, leader: "PooledRunner", twin_calls: tuple, own_calls: tuple) -> None:
        """(Under the pool's lock) ask `leader`'s worker for a twin to go on as this run."""
        self._id, self._slot, self._forking = next(self.pool._ids), leader._slot, True
        self.started_at = time.monotonic()
        leader._slot.jobs[self._id] = self
        leader._slot.send(("fork", leader._id, self._id, twin_calls, own_calls))

    # --- called by the slot's thread ----------------------------------------------------------

    def _forked(self) -> None:
        """The twin runs in the worker: from now on this run shows its own snapshots."""
        with self.pool._lock:
            leader, self._leader, self._forking = self._leader, None, False
            if leader is not None and self in leader._followers:
                leader._followers.remove(self)
            if self._snapshot is None and leader is not None:
                self._snapshot = leader._snapshot  # until the twin's first snapshot comes
            if not self._commanded and self.active:
                self.pool._pristine.setdefault(self._key, self)

    def _lost(self) -> None:
        """The worker had no runner to take a twin of (it had just ended): this run watches on, and ends
        with it (its command came too late)."""
        with self.pool._lock:
            self._forking, self._slot = False, None

    def _end(self, snap, state: dict | None, new_frames: tuple = ()) -> None:
        self._end_message = snap.message
        super()._end(snap, state, new_frames)

    def _finish(self, snap) -> None:
        """End this run, then its watchers with the same snapshot (each saved as its own run)."""
        if self._done.is_set():
            return
        with self.pool._lock:
            followers, self._followers = self._followers, []
            self.pool._unmark_pristine(self)
        state, message = self._final_state, self._end_message
        super()._finish(snap)
        for follower in followers:
            follower._end_watching(snap if message is None else replace(snap, message=message), state,
                                   saved=message is not None)

    def _end_watching(self, snap, state: dict | None, saved: bool) -> None:
        """The computation this run watched ended with `snap`: so does this run; when the computation was
        `saved` (a proper end, not a failure), this run is saved too, as its own."""
        with self.pool._lock:
            self._leader = None
            if self._forking and self._slot is not None:
                self._slot.jobs.pop(self._id, None)
            self._forking = False
        self._final_state = state
        if saved:
            self._end_message = snap.message
            if self.on_end is not None and self._worth_saving(snap):
                snap = replace(snap, message=hand_over(self.on_end, snap))
        self._finish(snap)

    # --- what the UI reads --------------------------------------------------------------------

    def snapshot(self, touch: bool = True):
        leader = self._leader
        if leader is not None and not self._done.is_set():
            if touch:
                self.polled = time.monotonic()
            return leader.snapshot(touch)
        return super().snapshot(touch)

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def shares(self) -> bool:
        """A run at a slow pace uses part of a core: its worker may host others beside it."""
        return self._pace != FAST

    @property
    def stack(self) -> tuple | None:
        return self._stack

    @property
    def requested_lr(self) -> float:
        return self._lr

    @property
    def pace(self) -> str:
        return self._pace

    @property
    def engine(self):
        """An engine holding the finished run's weights (built here on first use); None while active.

        The weights the worker sent were written to disk and mapped back (`_on_disk`); the engine uses
        them as they are and keeps nothing for training. So a finished session costs the server one
        copy of its model, in file-backed pages the kernel can drop and reread, not in its own memory
        (runs that watched one computation share that copy)."""
        with self._lock:
            if self._engine is None and self._final_state is not None and self._done.is_set():
                from .engine import Engine

                self._engine = Engine(self.config, initial_state=self._final_state, trained=True)
                self._final_state = None
            return self._engine

    def _budget_problem(self) -> str | None:
        return run_problem(self.config, self.budget_minutes)

    def _queued_snapshot(self, place: int) -> Snapshot:
        message = queue_message(place, self.pool.workers, starting=not self.pool.ready) if place else ""
        return Snapshot(QUEUED, 0, self.config.epochs, self._lr, 0.0, message=message, place=place)


def setup_key(config: TrainConfig, options: dict) -> tuple:
    """What makes two runs the same computation: the whole config and the runner's options (pace, idle times)."""
    return (config.to_json(indent=None), config.dataset.data_version,  # a class's drawings: as the run pinned them
            tuple(sorted((name, repr(value)) for name, value in options.items())))


class PooledRace(_PoolJob):
    """A `Race` in a worker process, seen from the server (a `progress.RunHandle`, as the race is). Like
    the race, it has no pace: its entrants take turns epoch by epoch, as fast as they can."""

    kind = "race"

    def __init__(self, pool: TrainingPool, entrants: tuple, on_end: Callable | None, options: dict,
                 owner: str | None = None, budget_minutes: float | None = None):
        super().__init__(pool, {"entrants": entrants, **options}, on_end, owner, budget_minutes)
        self.entrants = entrants
        self.epochs = max(config.epochs for _, config in entrants)

    def _budget_problem(self) -> str | None:
        return race_problem(self.entrants, self.budget_minutes)

    def start(self) -> "PooledRace":
        return self._queue()

    def _worth_saving(self, snap) -> bool:
        return True  # the race saves only entrants that trained

    def _queued_snapshot(self, place: int) -> RaceSnapshot:
        message = queue_message(place, self.pool.workers, starting=not self.pool.ready) if place else ""
        entrants = tuple(Entrant(name, config, QUEUED, History(), None) for name, config in self.entrants)
        return RaceSnapshot(QUEUED, 0, self.epochs, entrants, message, place=place)
