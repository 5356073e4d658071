"""Trainings on a Ray cluster: the server's side of `ray_actor`, with the pool's run and race handles' interface.

`RayBackend(address)` connects this process to a running cluster (`ray start`; never started here) in the
"neural-playground" namespace, shipping the `playground` package with the job (`runtime_env` py_modules),
so a node without our code can train. `backend.run(...)` / `backend.race(...)` return handles that
behave as `pool.PooledRunner` / `pool.PooledRace` do (the same `_PoolJob` base, budget and owner rules,
the idle watchdog in the runner, a queued run's place, `on_end` called here with the final snapshot and
weights), but each run, or each race with all its entrants, is a job of a named Ray actor asking for
`cpus_per_run` CPUs and, for an image run on a cluster with GPUs, one GPU. An actor whose job ended well
is not killed: it trains this server's first run waiting for a place, or is kept warm for the next one
(`ray_warm`), because a fresh actor takes seconds to start. A run with no warm actor asks Ray for a new
one and is queued while Ray has no room for it (its place: among this server's runs waiting); then one
thread per run relays it: commands go with the next `update` call, which answers with the changed
snapshot and only the timeline frames not sent before. An actor, its process or its node lost fails only
that run (LOST) and is never reused; new runs go wherever Ray has room. `backend.attach(ref)` reads a run
that another server process started (`AttachedRun`: snapshots, no commands; `ref`: "actor-<hex>/<job>").

As on the pool, at most `live_limit` runs are live at once (`$PLAYGROUND_LIVE_RUNS`; by default as many as
the cluster's CPUs can train): further runs wait in this server's queue before any actor is asked for; and
a run that has trained `turn_minutes` (or stayed paused) while runs of this server wait is stopped. Runs
waiting on other servers are not known here. What is local-only (the pool's, not here): identical runs
computed once and same-shaped runs stacked. A warm actor is this server's:
it goes to this server's waiting runs first, and holds its CPU for up to `ray_warm.KEEP_SECONDS` while
runs of other servers may wait for one. Knows nothing about Streamlit.
"""
from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayError, RayTaskError

from . import settings
from .config import TrainConfig
from .datasets import DATASETS
from .pace import FAST
from .pool import ABANDONED, START_SILENT_SECONDS, JobQueue, PooledRace, PooledRunner, _PoolJob
from .progress import QUEUED, STARTING, STOPPED, Owners, RaceSnapshot, Snapshot
from .ray_actor import GONE, TrainingActor
from .ray_warm import KEEP_SECONDS, Actor, WarmActors, kill, split_ref
from .timeline import Timeline
from .worker import SNAPSHOT_SECONDS

log = logging.getLogger(__name__)

NAMESPACE = "neural-playground"
SILENT_SECONDS = 30.0  # an actor that does not answer an update this long is taken as lost
ATTACHED_SECONDS = 2.0  # an attached handle waits this long for an answer (a queued actor gives none)
PLACE_CHECK_SECONDS = 0.2  # a queued run looks this often whether Ray has placed its actor
LOST = "The Ray worker training this run was lost: {reason}. Train again to start it elsewhere."
CANNOT_CONNECT = ("The training cluster cannot be reached ({problem}), so this run cannot start. "
                  "Ask whoever runs this server.")
CONNECT_SECONDS = 3.0  # how long the head's port may take to answer
WARM_CHECK_SECONDS = 10.0  # how long a warm actor may take to say it still answers (it does in milliseconds)
ELSEWHERE = "This run ended on the server that started it; find it on the Runs page."
_ACTOR = []  # the Ray actor class, made on first use


def connect(address: str) -> None:
    """Join the cluster at `address` (once per process), quietly: Ray's own log lines stay out of ours.
    ConnectionError at once when its head does not answer (`ray.init` would retry for minutes)."""
    if ray.is_initialized():
        return
    if address != "auto":
        host, port = address.removeprefix("ray://").rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS).close()
        except OSError as error:
            raise ConnectionError(f"Ray at {address}: {error.strerror or error}") from error
    package = str(Path(__file__).resolve().parent)
    ray.init(address=address, namespace=NAMESPACE, runtime_env={"py_modules": [package]},
             log_to_driver=False, logging_level=logging.WARNING)


def disconnect() -> None:
    if ray.is_initialized():
        ray.shutdown()


def actor_class():
    if not _ACTOR:
        _ACTOR.append(ray.remote(max_restarts=0, max_task_retries=0)(TrainingActor))
    return _ACTOR[0]


def lost_reason(error: Exception) -> str:
    """A short reason from Ray's long error text."""
    text = str(error).lower()
    if "killed by `ray.kill`" in text:
        return "it was stopped on the cluster"
    if "node" in text and "worker process has died" not in text:
        return "its machine left the cluster"
    return "its process ended (out of memory, or its machine went away?)"


class RayBackend(JobQueue):
    """Runs and races as Ray actors on the cluster at `address` (`settings.ray_address()` by default).

    `cpus_per_run`: the CPUs each actor asks for; `abandoned_seconds`: how long a queued run keeps its
    place without its page asking about it; `warm_seconds`: how long an idle actor is kept for the next
    run (0: never, each run a fresh actor); `turn_minutes`, `live_limit`: as the pool's (defaults from the
    environment; the live limit's from the cluster's CPUs). One run at a time per owner, as on the pool."""

    def __init__(self, address: str | None = None, cpus_per_run: float = 1, torch_threads: int = 1,
                 abandoned_seconds: float | None = None, warm_seconds: float = KEEP_SECONDS,
                 turn_minutes: float | None = None, live_limit: float | None = None):
        self.address = address or settings.ray_address()
        self.cpus_per_run, self.torch_threads = cpus_per_run, torch_threads
        self.abandoned_seconds = abandoned_seconds if abandoned_seconds is not None else settings.abandoned_seconds()
        self.turn_minutes = turn_minutes if turn_minutes is not None else settings.turn_minutes()
        self._live_limit, self.live_limit = live_limit, live_limit or 1
        self.gpus = False
        self._connect()
        self.owners = Owners()
        self._lock = threading.Lock()
        self._queue: list[_RayJob] = []  # waiting for the live limit or for Ray to place their actor, first come first
        self._jobs: set[_RayJob] = set()  # active: held back, asking Ray, or training
        self._ids = itertools.count(1)
        self._closed = False
        self._warm = WarmActors(warm_seconds)

    def run(self, config: TrainConfig, initial_state: dict | None = None,
            on_end: Callable[[Snapshot], None] | None = None, owner: str | None = None,
            budget_minutes: float | None = None, **options) -> "RayRun":
        return RayRun(self, config, initial_state, on_end, options, owner, budget_minutes)

    def race(self, entrants, on_end: Callable[[RaceSnapshot], None] | None = None, owner: str | None = None,
             budget_minutes: float | None = None, **options) -> "RayRace":
        return RayRace(self, tuple(entrants), on_end, options, owner, budget_minutes)

    def attach(self, ref: str) -> "AttachedRun":
        """A read-only handle on the run named `ref` (started by any server process on this cluster);
        ValueError when `ref` names no run or the cluster has no such actor (any more)."""
        name, number = split_ref(ref)
        return AttachedRun(ref, ray.get_actor(name, namespace=NAMESPACE), number)

    def _connect(self) -> str | None:
        """None once connected to the cluster; else what went wrong (tried again at the next run)."""
        try:
            connect(self.address)
        except (ConnectionError, RuntimeError, ValueError) as error:
            log.error("cannot connect to the Ray cluster: %s", error)
            return str(error)
        resources = ray.cluster_resources()
        self.gpus = resources.get("GPU", 0) >= 1
        slots = self._slots(resources)
        self.live_limit = self._live_limit if self._live_limit is not None else settings.live_runs(slots)
        return None

    def _slots(self, resources: dict) -> int:
        """How many runs `resources` could train at once (their CPUs over each run's), at least one."""
        return max(1, int(resources.get("CPU", 0) // self.cpus_per_run))

    @property
    def workers(self) -> int:
        """How many runs the cluster could train at once."""
        return self._slots(ray.cluster_resources()) if ray.is_initialized() else 1

    def free_slots(self) -> int:
        """How many more runs the cluster has CPUs for now."""
        if not ray.is_initialized():
            return 0
        return int(ray.available_resources().get("CPU", 0) // self.cpus_per_run)

    @property
    def ready(self) -> int:
        return self.workers

    @property
    def busy(self) -> int:
        with self._lock:
            return len(self._jobs) - len(self._queue)

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def warm(self) -> int:
        """How many idle actors this server keeps for its next runs."""
        return len(self._warm)

    def close(self, timeout: float = 5.0) -> None:
        """Stop every run (those that trained are saved) and wait for them, at most `timeout` s each."""
        with self._lock:
            self._closed = True
            jobs = list(self._jobs)
        for job in jobs:
            job.stop("The server is shutting down.")
        for job in jobs:
            job.join(timeout)
        self._warm.close()

    # --- what `_PoolJob` asks of its pool -----------------------------------------------------

    def _submit(self, job: "_RayJob") -> int:
        with self._lock:
            if self._closed:
                raise RuntimeError("the training backend is closed")
        problem = self._connect()
        if problem:
            job._fail(CANNOT_CONNECT.format(problem=problem))
            return next(self._ids)
        with self._lock:
            self._jobs.add(job)
            self._queue.append(job)
        self._launch_waiting()
        return next(self._ids)

    def _launch_waiting(self) -> None:
        """Launch held runs, first come first, while fewer than `live_limit` are launched: each on a warm
        actor if one fits (it leaves the queue), else on a new actor (it stays queued until Ray places it)."""
        self._drop_abandoned()
        while True:
            with self._lock:
                job = next((held for held in self._queue if not held._launched), None)
                launched = sum(other._launched for other in self._jobs)
                if job is None or self._closed or launched >= self.live_limit:
                    return
                job._launched = True
                actor = self._warm.take(job._gpus())
                if actor is not None:
                    self._queue.remove(job)
            job._launch(actor)

    def _drop_abandoned(self) -> None:
        """Cancel the held runs whose page has not asked about them for `abandoned_seconds`."""
        now = time.monotonic()
        with self._lock:
            gone = [job for job in self._queue if not job._launched and now - job.polled > self.abandoned_seconds]
            self._queue = [job for job in self._queue if job not in gone]
        for job in gone:
            job._cancel(ABANDONED)

    def _admit_now(self) -> None:
        """Ray places the actors: nothing to do here."""

    def _forget(self, job: "_RayJob") -> None:
        with self._lock:
            self._jobs.discard(job)
            if job in self._queue:
                self._queue.remove(job)
        self._launch_waiting()

    def _release(self, actor: Actor) -> None:
        """An actor that can train again: to the first waiting run with its GPU need (one held back is
        launched on it, one asking Ray takes it instead), else kept warm."""
        with self._lock:
            taker = None if self._closed else next(
                (job for job in self._queue if job._gpus() == actor.gpus and job._offered is None), None)
            if taker is not None:
                self._queue.remove(taker)
                held, taker._launched = not taker._launched, True
                if not held:
                    taker._offered = actor
        if taker is None:
            self._warm.keep(actor)
        elif held:
            taker._launch(actor)


class _RayJob(_PoolJob):
    """What the server holds for one actor's job: the pool job's snapshot, end and saving; commands wait
    in `_commands` for the relay thread's next update."""

    def __init__(self, backend: RayBackend, arguments: dict, on_end: Callable | None, owner: str | None,
                 budget_minutes: float | None):
        super().__init__(backend, arguments, on_end, owner, budget_minutes)
        self.ref: str | None = None  # "actor-<hex>/<job>" once an actor has it
        self._commands: list[tuple] = []
        self._actor: Actor | None = None
        self._offered: Actor | None = None  # an actor another run let go, for this queued run (`_release`)
        self._spare: Actor | None = None  # its own new actor, ready but not needed after all
        self._ended_well = False  # its actor answered its end: it may train another run
        self._launched = False  # it has an actor, or has asked Ray for one (`RayBackend._launch_waiting`)

    def _gpus(self) -> int:
        raise NotImplementedError

    def snapshot(self, touch: bool = True):
        """The pool job's snapshot, but a run with an actor not training yet (a warm one, or a new one the
        cluster has room for: Ray is starting it) says "starting", not "queued"; a held one drops the
        abandoned runs held."""
        snap = super().snapshot(touch)
        if snap.status == QUEUED and not self._launched:
            self.pool._drop_abandoned()  # runs held back have no thread of their own to notice
        if snap.status == QUEUED and self._launched and (not snap.place or snap.place <= self.pool.free_slots()):
            return replace(self._queued_snapshot(0), status=STARTING)
        return snap

    def _call(self, name: str, *args) -> None:
        with self._lock:
            if not self._done.is_set():
                self._commands.append((name, args))

    def _launch(self, warm: Actor | None) -> None:
        """Train on `warm` (an idle actor of this server) or ask Ray for a new actor; relay it on a thread."""
        try:
            self._actor = warm or self._new_actor()
        except (RayError, ValueError) as error:  # e.g. the cluster went away
            self.pool._forget(self)
            return self._lost(f"the cluster did not take it ({type(error).__name__})")
        threading.Thread(target=self._serve, args=(warm is not None,), name=f"ray-{self._actor.name}",
                         daemon=True).start()

    def _new_actor(self) -> Actor:
        actor = Actor(None, self._gpus())
        options = {"name": actor.name, "namespace": NAMESPACE, "num_cpus": self.pool.cpus_per_run,
                   "num_gpus": actor.gpus}
        actor.handle = actor_class().options(**options).remote(self.pool.torch_threads)
        return actor

    def _serve(self, warm: bool) -> None:
        try:
            if self._placed() if warm and self._warm_answers() else self._await_place():
                self._begin()
                self._relay()
        except RayActorError as error:
            self._lost(lost_reason(error))
        except GetTimeoutError:
            self._lost("it stopped responding")
        except RayTaskError as error:
            self._fail(f"The run could not start: {error.cause}")
        except RayError as error:
            self._lost(type(error).__name__)
        finally:
            self._let_go()  # first: its actor may go to the next waiting run
            self.pool._forget(self)

    def _warm_answers(self) -> bool:
        """Whether the warm actor it took still answers; if it died while idle (its node left?), the run
        asks Ray for a new one, first in the queue."""
        try:
            ray.get(self._actor.handle.ready.remote(), timeout=WARM_CHECK_SECONDS)
            return True
        except (RayActorError, GetTimeoutError):
            kill(self._actor)
        self._actor = self._new_actor()
        with self.pool._lock:
            self.pool._queue.insert(0, self)
        return False

    def _let_go(self) -> None:
        """Its actor back to the backend if its job ended well (else killed); any actor it did not need too."""
        for actor in (self._spare, self._offered):
            if actor is not None:
                self.pool._release(actor)
        self._spare = self._offered = None
        if self._ended_well:
            self.pool._release(self._actor)
        else:
            kill(self._actor)

    def _lost(self, reason: str) -> None:
        log.error("Ray actor %s lost: %s", self._actor.name if self._actor else "(none)", reason)
        if self.active:
            self._fail(LOST.format(reason=reason))

    def _await_place(self) -> bool:
        """Wait while Ray has no room for its new actor (or another run lets one go to it); False when the
        run left the queue meanwhile."""
        ready = self._actor.handle.ready.remote()
        while not ray.wait([ready], timeout=PLACE_CHECK_SECONDS)[0]:
            if self._offered is not None:
                return self._adopt_offered(own_ready=False)
            if self._done.is_set():
                return False
            if time.monotonic() - self.polled > self.pool.abandoned_seconds and self.pool._withdraw(self):
                self._cancel(ABANDONED)
                return False
        ray.get(ready)
        if self._offered is None and not self.pool._withdraw(self):
            self._spare, self._actor = self._actor, None
            return False  # stopped just before it was placed
        return self._adopt_offered(own_ready=True) if self._offered is not None else self._placed()

    def _adopt_offered(self, own_ready: bool) -> bool:
        """Train on the actor offered instead of its own new one (kept as a spare if ready, else killed)."""
        own, self._actor, self._offered = self._actor, self._offered, None
        if own_ready:
            self._spare = own
        else:
            kill(own)
        return self._placed()

    def _placed(self) -> bool:
        with self._lock:
            self.ref = self._actor.next_job()
            self._slot, self.started_at = self.ref, time.monotonic()  # placed: `snapshot` says starting
        return True

    def _begin(self) -> None:
        call = self._actor.handle.begin.remote(self.kind, self._arguments, self._start, self._actor.jobs)
        ray.get(call, timeout=START_SILENT_SECONDS)

    def _relay(self) -> None:
        """Give the actor the commands, take its changes, until its job ends (then save it, `_end`)."""
        sent, known = 0, None
        while True:
            with self._lock:
                commands, self._commands = tuple(self._commands), []
            update = self._actor.handle.update.remote(sent, known, SNAPSHOT_SECONDS, commands, True,
                                                      SNAPSHOT_SECONDS * 0.9)
            reply = ray.get(update, timeout=SILENT_SECONDS)
            self._yield_if_blocking(self.pool.waiting, time.monotonic() - self.started_at)
            if reply is None:
                continue
            kind, snap, frames, extra = reply
            if kind == "end":
                self._ended_well = True
                return self._end(snap, extra, frames)
            self._update(snap, frames)
            sent, known = sent + len(frames), extra


class RayRun(_RayJob):
    """A `TrainingRunner` in a Ray actor, seen from the server (a `progress.TrainingHandle`)."""

    kind = "runner"

    def __init__(self, backend: RayBackend, config: TrainConfig, initial_state: dict | None,
                 on_end: Callable | None, options: dict, owner: str | None = None, budget_minutes: float | None = None):
        super().__init__(backend, {"config": config, "initial_state": initial_state, **options}, on_end, owner,
                         budget_minutes)
        self.config, self.initial_state = config, initial_state
        self._paused, self._lr, self._pace = False, config.optimizer.lr, options.get("pace", FAST)
        self._final_state: dict | None = None
        self._engine = None

    def start(self, paused: bool = False) -> "RayRun":
        self._paused = paused
        return self._queue(paused=paused)

    def _gpus(self) -> int:
        return int(self.pool.gpus and needs_gpu([self.config]))

    # The pool's runner handle's commands, properties and queued snapshot: they use only what this class has too.
    pause, resume, step = PooledRunner.pause, PooledRunner.resume, PooledRunner.step
    set_learning_rate, set_pace = PooledRunner.set_learning_rate, PooledRunner.set_pace
    paused, requested_lr, pace = PooledRunner.paused, PooledRunner.requested_lr, PooledRunner.pace
    engine = PooledRunner.engine
    _budget_problem, _queued_snapshot = PooledRunner._budget_problem, PooledRunner._queued_snapshot


class RayRace(_RayJob):
    """A `Race` in one Ray actor, all its entrants together (a `progress.RunHandle`)."""

    kind = "race"

    def __init__(self, backend: RayBackend, entrants: tuple, on_end: Callable | None, options: dict,
                 owner: str | None = None, budget_minutes: float | None = None):
        super().__init__(backend, {"entrants": entrants, **options}, on_end, owner, budget_minutes)
        self.entrants = entrants
        self.epochs = max(config.epochs for _, config in entrants)

    def start(self) -> "RayRace":
        return self._queue()

    def _gpus(self) -> int:
        return int(self.pool.gpus and needs_gpu([config for _, config in self.entrants]))

    _budget_problem, _queued_snapshot = PooledRace._budget_problem, PooledRace._queued_snapshot
    _worth_saving = PooledRace._worth_saving


def needs_gpu(configs) -> bool:
    """Whether any of these runs trains on images and may use a GPU (its device is not "cpu")."""
    return any(DATASETS[config.dataset.name].is_image and config.device != "cpu" for config in configs)


class AttachedRun:
    """A run another server process started, read from its actor: `snapshot(touch=False)` and `active`.

    It neither commands the run nor keeps it alive (the watchdog counts only its own server's polls).
    Once the actor has gone or trains a later job (its server saved the run), the last snapshot read
    stays, and one that was still active says the run ended elsewhere."""

    def __init__(self, ref: str, actor, number: int):
        self.ref, self._actor, self._number = ref, actor, number
        self._lock = threading.Lock()
        self._snapshot, self._timeline = None, Timeline()

    def snapshot(self, touch: bool = False):
        with self._lock:
            if self._snapshot is not None and not self._snapshot.active:
                return self._snapshot
            sent = len(self._timeline)
        try:
            call = self._actor.update.remote(sent, None, 0.0, (), False, 0.0, self._number)
            reply = ray.get(call, timeout=ATTACHED_SECONDS)
        except GetTimeoutError:
            reply = None  # still waiting for a place on the cluster
        except RayError:
            return self._gone()
        if reply == GONE:
            return self._gone()
        with self._lock:
            if reply is not None:
                self._timeline = self._timeline.extended(reply[2])
                snap = reply[1]
                self._snapshot = replace(snap, timeline=self._timeline) if hasattr(snap, "timeline") else snap
            return self._snapshot or Snapshot(QUEUED if reply is None else STARTING, 0, 0, 0.0, 0.0)

    def _gone(self):
        with self._lock:
            last = self._snapshot or Snapshot(STOPPED, 0, 0, 0.0, 0.0)
            if last.active:
                last = replace(last, status=STOPPED, message=ELSEWHERE)
            self._snapshot = last
            return last

    @property
    def active(self) -> bool:
        return self.snapshot(touch=False).active
