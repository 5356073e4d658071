"""A training worker process: runs the jobs its server sends, several at once, each on its own thread.

`pool._Slot` starts it as `python -m playground.worker FD THREADS` (a socket on FD, THREADS torch
threads). It warms torch up, says "ready", then serves the server's messages: "job" starts a
`TrainingRunner` or a `Race` on its own thread (a runner whose start options say "stack" joins this
worker's `stack_group.StackGroup` for its batch key, made on demand and dropped with its last job);
"call" gives one job a command; "fork" asks a runner
for a twin at its next epoch boundary (`TrainingRunner.fork`), started as a new job with its own
commands ("forked" tells the server, "lost" when the runner had already gone; messages for a twin not
made yet wait for it); "exit" stops every job and ends the process once they have ended. It sends
each job's snapshot when it changed, at most every SNAPSHOT_SECONDS (with only the timeline frames
not sent before), and an "end" with the final snapshot and weights as soon as a job ends. A heartbeat
thread says every HEARTBEAT_SECONDS that the process is alive, with the CPU seconds it has used so
far and whether a run falls behind its pace: the server decides from them what else it may host.
Knows nothing about the queue or how jobs are scheduled.
"""
from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time
from dataclasses import replace
from multiprocessing import Pipe
from multiprocessing.connection import Connection, wait

from .timeline import Timeline

SNAPSHOT_SECONDS = 0.1  # a job's changed snapshot is sent at most this often (a watched run: every frame)
HEARTBEAT_SECONDS = 1.0  # the process says it is alive this often, busy or idle
COMMANDS = {"runner": {"pause", "resume", "step", "stop", "set_learning_rate", "set_pace", "seen"},
            "race": {"stop", "seen"}}


def send(conn, message: tuple) -> None:
    """Messages over the socket are plain pickles: tensors travel as bytes, not shared-memory handles."""
    conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def receive(conn) -> tuple:
    return pickle.loads(conn.recv_bytes())


def worker_main(conn, torch_threads: int) -> None:
    """Warm torch up, say "ready", then serve jobs until told to exit or the server goes away.

    It ignores SIGINT and SIGTERM, which a terminal's Ctrl-C or a service manager also sends to the
    server's children: the server stops its jobs (and saves them) as it shuts down, and a worker whose
    server died exits when its socket closes."""
    conn = LockedConnection(conn)
    hosted = HostedJobs(conn)
    threading.Thread(target=_heartbeat, args=(conn, hosted), name="heartbeat", daemon=True).start()
    import torch

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    from .engine import warm_up

    torch.set_num_threads(torch_threads)
    warm_up()
    send(conn, ("ready", os.getpid()))
    hosted.serve()


class LockedConnection:
    """A connection whose sends may come from two threads (the worker's loop and its heartbeat)."""

    def __init__(self, conn: Connection):
        self._conn, self._lock = conn, threading.Lock()

    def send_bytes(self, data: bytes) -> None:
        with self._lock:
            self._conn.send_bytes(data)

    def recv_bytes(self) -> bytes:
        return self._conn.recv_bytes()

    def poll(self, timeout: float = 0.0) -> bool:
        return self._conn.poll(timeout)

    def fileno(self) -> int:
        return self._conn.fileno()


def _heartbeat(conn: LockedConnection, hosted: "HostedJobs") -> None:
    while True:
        time.sleep(HEARTBEAT_SECONDS)
        try:
            send(conn, ("beat", time.process_time(), hosted.behind()))
        except (OSError, ValueError):
            return  # the server went away


def build_job(kind: str, arguments: dict):
    from .race import Race
    from .runner import TrainingRunner

    return TrainingRunner(**arguments) if kind == "runner" else Race(**arguments)


def stack_key(kind: str, arguments: dict, start: dict) -> tuple | None:
    """The batch key of a job the server asked to stack (`start["stack"]`), else None."""
    if kind != "runner" or not start.get("stack"):
        return None
    from .batched import batch_key

    try:
        return batch_key(arguments["config"])
    except ValueError:  # its device is missing here: it trains alone, and says so
        return None


class _Hosted:
    """One job this worker runs: the handle, what was last relayed, and a signal for its end."""

    def __init__(self, job_id: int, kind: str, job, stack: tuple | None = None):
        self.id, self.kind, self.job, self.stack = job_id, kind, job, stack
        self.ended = end_signal(job)
        self.sent_key, self.sent_frames, self.sent_at = None, 0, 0.0


class HostedJobs:
    """The jobs of one worker process: starts them, routes commands, relays snapshots and ends."""

    def __init__(self, conn):
        self.conn = conn
        self.jobs: dict[int, _Hosted] = {}
        self.exiting = False
        self.twins: list[tuple] = []  # (parent id, new id, twin, its commands): appended by runner threads
        self.early: dict[int, list[tuple]] = {}  # messages for twins not made yet, by their id
        self.asked: dict[int, int] = {}  # twins not made yet: their id -> the id of the runner asked
        self.groups: dict[tuple, object] = {}  # stack groups by batch key, while a job of theirs is hosted

    def behind(self) -> bool:
        """Whether a run here trains slower than its pace asks (any thread may ask)."""
        return any(getattr(hosted.job, "behind_pace", False) for hosted in list(self.jobs.values()))

    def serve(self) -> None:
        """Until told to exit (and every job ended) or the server goes away."""
        try:
            while not (self.exiting and not self.jobs):
                ends = [hosted.ended for hosted in self.jobs.values()]
                if self.conn in wait([self.conn, *ends], timeout=SNAPSHOT_SECONDS):
                    self.read_messages()
                self.start_twins()
                self.relay()
        except (EOFError, OSError):
            return  # the server went away: the jobs' daemon threads end with the process

    def read_messages(self) -> None:
        """Apply every message waiting on the connection."""
        while self.conn.poll():
            message = receive(self.conn)
            if message[0] == "exit":
                self.exiting = True
                for hosted in self.jobs.values():
                    hosted.job.stop()
            elif message[0] == "job" and not self.exiting:
                self.start(*message[1:])
            elif message[0] in ("call", "fork"):
                self.route(message)

    def start(self, job_id: int, kind: str, arguments: dict, start: dict) -> None:
        """Start a job; one the server asked to stack trains in this worker's group for its batch key."""
        key = stack_key(kind, arguments, start)
        if key is not None:
            from .stack_group import StackGroup
            from .stacking import min_stack

            if key not in self.groups:
                self.groups[key] = StackGroup(min_stack(key))
            arguments = {**arguments, "engine_factory": self.groups[key].join}
        start = {name: value for name, value in start.items() if name != "stack"}
        self.jobs[job_id] = _Hosted(job_id, kind, build_job(kind, arguments).start(**start), key)

    def route(self, message: tuple) -> None:
        """A "call" or "fork" for a job; one for a twin not made yet waits for it."""
        job_id = message[1]
        if job_id in self.early:
            self.early[job_id].append(message)
            return
        hosted = self.jobs.get(job_id)
        if hosted is not None:
            self.apply(hosted.kind, hosted.job, message)
        elif message[0] == "fork":
            send(self.conn, ("lost", message[2]))  # the runner has gone
        # a call for a job that already ended is dropped

    def apply(self, kind: str, job, message: tuple) -> None:
        """Give `job` a command (after the twins asked of it) or ask it for a twin; unknown names are dropped."""
        if message[0] == "call" and message[2] in COMMANDS[kind]:
            _, _, name, args = message
            if kind == "runner":
                job.call_after_forks(name, *args)
            else:
                getattr(job, name)(*args)
        elif message[0] == "fork" and kind == "runner" and not self.exiting:
            self.ask_twin(message[1], job, *message[2:])
        elif message[0] == "fork":
            send(self.conn, ("lost", message[2]))

    def ask_twin(self, job_id: int, runner, new_id: int, twin_calls: tuple, own_calls: tuple) -> None:
        """Ask `runner` for a twin to start as job `new_id` with `twin_calls` applied; the runner applies
        `own_calls` itself right after."""
        self.early[new_id], self.asked[new_id] = [], job_id

        def ready(twin) -> None:  # on the runner's thread: the worker's loop starts it
            self.twins.append((new_id, twin, twin_calls))

        runner.fork(ready, own_calls)

    def start_twins(self) -> None:
        """Start the twins made since the last turn: their commands and what came for them early first."""
        while self.twins:
            new_id, twin, twin_calls = self.twins.pop(0)
            parent = self.asked.pop(new_id)
            for name, args in twin_calls:
                getattr(twin, name)(*args)
            for message in self.early.pop(new_id):
                self.apply("runner", twin, message)  # calls land on the unstarted twin, forks at its first epoch
            twin.start(paused=twin.paused)
            self.jobs[new_id] = _Hosted(new_id, "runner", twin)
            send(self.conn, ("forked", new_id, parent))

    def relay(self) -> None:
        """Send each ended job's end, and each changed snapshot not sent in the last SNAPSHOT_SECONDS."""
        now = time.monotonic()
        for hosted in list(self.jobs.values()):
            snap = hosted.job.snapshot(touch=False)
            if not snap.active:
                self.finish(hosted, snap)
            elif change_key(snap) != hosted.sent_key and now - hosted.sent_at >= SNAPSHOT_SECONDS * 0.9:
                send(self.conn, ("snapshot", hosted.id, *relayed(snap, hosted.sent_frames)))
                hosted.sent_key, hosted.sent_frames = change_key(snap), len(getattr(snap, "timeline", ()))
                hosted.sent_at = now

    def finish(self, hosted: _Hosted, snap) -> None:
        """Send a job's end; first the twins it made, and "lost" for those it never will."""
        self.start_twins()
        for new_id in [new_id for new_id, parent in self.asked.items() if parent == hosted.id]:
            del self.asked[new_id], self.early[new_id]
            send(self.conn, ("lost", new_id))
        hosted.job.join()
        hosted.ended.close()
        del self.jobs[hosted.id]
        if hosted.stack is not None and not any(other.stack == hosted.stack for other in self.jobs.values()):
            del self.groups[hosted.stack]  # the group's last job ended: the next such job starts a new one
        send(self.conn, ("end", hosted.id, *relayed(snap, hosted.sent_frames), final_state(hosted.job)))


def end_signal(job) -> Connection:
    """A connection that becomes readable when `job` has ended."""
    readable, writable = Pipe(duplex=False)

    def watch() -> None:
        job.join()
        with writable:
            try:
                writable.send_bytes(b"")
            except OSError:  # BrokenPipeError: the worker stopped listening (its server went away)
                pass

    threading.Thread(target=watch, name="job-end", daemon=True).start()
    return readable


def change_key(snap) -> tuple:
    """What tells two snapshots apart cheaply (frames are new objects when they change)."""
    history = getattr(snap, "history", None)
    return (snap.status, snap.epoch, snap.message, id(getattr(snap, "frame", None)),
            len(history.batch_loss) if history else 0, getattr(snap, "lr", None), len(getattr(snap, "timeline", ())))


def relayed(snap, sent_frames: int) -> tuple:
    """(the snapshot without its timeline, the timeline frames not sent yet): a poll carries only new frames,
    the server puts the timeline back together (`pool._PoolJob._update`). A race's snapshot has no timeline."""
    timeline = getattr(snap, "timeline", None)
    if timeline is None:
        return snap, ()
    return replace(snap, timeline=Timeline()), timeline.since(sent_frames)


def final_state(job) -> dict | None:
    """A CPU copy of a finished runner's weights (the server rebuilds the model from it)."""
    engine = getattr(job, "engine", None)
    if engine is None:
        return None
    return {name: value.detach().to("cpu", copy=True) for name, value in engine.model.state_dict().items()}


if __name__ == "__main__":  # started by pool._Slot._spawn: python -m playground.worker FD THREADS
    worker_main(Connection(int(sys.argv[1])), int(sys.argv[2]))
