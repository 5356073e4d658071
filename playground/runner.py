"""Runs one training off the caller's thread and exposes immutable snapshots of its progress.

A `TrainingRunner` owns a worker thread that pulls events from `Engine.run()` and obeys commands
(pause, resume, step, stop, set the learning rate or the pace) between them: between batches and
between epochs, in one place (`_wait_for_turn`), which also holds a watched run to its pace (`pace`).
It records history and a prediction frame a few times a second, and a frame at each epoch its
timeline keeps (`timeline`: at most ~120, log-spaced then regular, and where the run ended). The UI
only calls commands and `snapshot()`; everything it receives is frozen and picklable (see `progress`),
so the worker can run in a process pool too. A watchdog pauses a run nobody has looked at for `idle_pause` seconds and
ends it after `idle_end`. `ThreadedRun` is what it shares with `race.Race`. Knows nothing about
Streamlit or Plotly.
"""
from __future__ import annotations

import collections
import copy
import logging
import threading
import time
from dataclasses import replace
from typing import Callable

import torch

from . import download
from .budget import run_problem
from .config import ConfigError, TrainConfig
from .default_model import prepare_start
from .engine import BatchEnd, BatchProgress, Diverged, Engine, EpochEnd
from .frames import frame_for, image_frame
from .pace import FAST, Pacer, frame_seconds
from .progress import (
    ACTIVE,
    COMPLETED,
    DIVERGED,
    FAILED,
    PAUSED,
    RUNNING,
    STARTING,
    STOPPED,
    CurveLists,
    Snapshot,
    hand_over,
)
from .timeline import TimelineRecorder


class ThreadedRun:
    """What the handles that train on a thread of this process (`TrainingRunner`, `Race`) share: the
    daemon worker thread, a lock (a Condition) over the status and message, the watchdog's clock, the
    worker's outer function that turns every error into a FAILED status, and the end of a run, whose
    final snapshot goes to `on_end` before the status says it ended. A subclass says how to train
    (`_train`), what the budget allows (`_budget_problem`) and how its failures read."""

    thread_name = "run"
    refusals: tuple[type[Exception], ...] = (ConfigError,)  # errors saying the config cannot be trained
    refusal_prefix = "Cannot train"  # begins the message of a refusal (its reason follows)
    failure_prefix = "Training failed"  # begins the message of any other error (also logged, with its traceback)

    def __init__(self, on_end: Callable | None, budget_minutes: float | None, torch_threads: int | None):
        self.on_end, self.budget_minutes = on_end, budget_minutes
        self.torch_threads = torch_threads  # small models train fastest on one thread; None leaves torch's setting
        self._lock = threading.Condition()
        self._status, self._message, self._stop = STARTING, "", False
        self._last_seen = time.monotonic()
        self._thread = threading.Thread(target=self._work, name=self.thread_name, daemon=True)

    def start(self) -> "ThreadedRun":
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def active(self) -> bool:
        """Whether the run is starting, running or paused (cheaper than a snapshot)."""
        with self._lock:
            return self._status in ACTIVE

    def seen(self) -> None:
        """Tell the watchdog someone is watching (every command and `snapshot()` does too)."""
        self._command()

    def snapshot(self, touch: bool = True):
        raise NotImplementedError

    def _command(self, **changes) -> None:
        """Set `_<name>` attributes under the lock, note that someone is watching and wake the worker."""
        with self._lock:
            for name, value in changes.items():
                setattr(self, f"_{name}", value)
            self._last_seen = time.monotonic()
            self._lock.notify_all()

    def _work(self) -> None:
        if self.torch_threads:
            torch.set_num_threads(self.torch_threads)
        try:
            problem = self._budget_problem()
            if problem:
                return self._set_status(FAILED, problem)
            self._train()
        except self.refusals as error:  # e.g. a batch too large for memory: the message names the fix
            self._set_status(FAILED, f"{self.refusal_prefix}: {getattr(error, 'message', error)}")
        except Exception as error:  # a bug or a torch error: report it, never crash the app
            logging.getLogger(type(self).__module__).exception(self.failure_prefix.lower())
            self._set_status(FAILED, f"{self.failure_prefix}: {type(error).__name__}: {error}")

    def _budget_problem(self) -> str | None:
        raise NotImplementedError

    def _train(self) -> None:
        raise NotImplementedError

    def _worth_saving(self) -> bool:
        return True

    def _end(self, status: str, message: str) -> None:
        """End the run: first hand its final snapshot to `on_end` (a failure to save is added to the
        message), then set the status that says it ended."""
        if self.on_end is not None and self._worth_saving():
            message = hand_over(self.on_end, replace(self.snapshot(touch=False), status=status, message=message))
        self._set_status(status, message)

    def _set_status(self, status: str, message: str) -> None:
        with self._lock:
            self._status, self._message = status, message
            self._lock.notify_all()


class TrainingRunner(ThreadedRun):
    """One training run on a worker thread. All public methods are safe to call from any thread."""

    thread_name = "training"

    def __init__(self, config: TrainConfig, frame_interval: float | None = None,
                 idle_pause: float = 60.0, idle_end: float = 900.0, torch_threads: int | None = 1,
                 initial_state: dict | None = None, on_end: Callable[[Snapshot], None] | None = None,
                 budget_minutes: float | None = None, pace: str = FAST,
                 pace_clock: Callable[[], float] = time.monotonic,
                 engine_factory: Callable[["TrainingRunner"], Engine] | None = None):
        """`initial_state`: a checkpoint's state_dict to continue training from. `on_end` receives the
        final snapshot of a run that trained at least one epoch, on the worker thread (e.g. to save it).
        `budget_minutes`: a run estimated to take longer fails at once, saying why (None: no limit).
        `pace`: a name in `pace.PACES`; the default "fast" never waits (the CLI's and benchmarks' path),
        the Playground asks for "watch". `pace_clock`: the clock the pace is kept by (tests inject one).
        `frame_interval`: seconds between boundary frames (None: the current pace's, `pace.frame_seconds`).
        `engine_factory(runner)`: builds the run's engine instead of `Engine(config, initial_state=...)`
        (a worker's stack group gives a stacked member, `stack_group.StackGroup.join`)."""
        super().__init__(on_end, budget_minutes, torch_threads)
        self.config = config
        self.initial_state = initial_state
        self.frame_interval, self.idle_pause, self.idle_end = frame_interval, idle_pause, idle_end
        self._paused, self._steps = False, 0
        self._in_step = False  # the current epoch runs because of a Step: it does not pause mid-way
        self._lr = config.optimizer.lr  # requested base learning rate
        self._lr_in_use = config.optimizer.lr
        self._epoch, self._final, self._frame, self._weights = 0, None, None, None
        self._curves = CurveLists()
        self._timeline = TimelineRecorder(enabled=False)  # replaced once the engine knows the data
        self._timeline_seconds, self._started = 0.0, time.monotonic()  # time spent on timeline frames, since
        self._rate, self._sample_rate = _Rate(), _Rate()
        self._engine: Engine | None = None
        self.engine_factory = engine_factory
        self._pacer = Pacer(pace, pace_clock)
        self._forks: list[tuple[Callable, tuple]] = []  # fork requests: (on_ready, commands to apply after)

    # --- commands -----------------------------------------------------------------------------

    def start(self, paused: bool = False) -> "TrainingRunner":
        with self._lock:
            self._paused = paused
        return super().start()

    def pause(self) -> None:
        self._command(paused=True)

    def resume(self) -> None:
        self._command(paused=False)

    def step(self, epochs: int = 1) -> None:
        """Train `epochs` more epochs (the one in progress counts as the first), then stay paused."""
        with self._lock:
            self._paused, self._steps = True, self._steps + epochs
            self._lock.notify_all()

    def stop(self, reason: str = "") -> None:
        """End the run after the current batch; `reason` becomes its message (else "Stopped.")."""
        self._command(stop=True, **({"message": reason} if reason else {}))

    def set_learning_rate(self, lr: float) -> None:
        self._command(lr=float(lr))

    def set_pace(self, pace: str) -> None:
        """Train at `pace` (a name in `pace.PACES`) from the next epoch on; "fast" ends a wait at once."""
        with self._lock:
            self._pacer.set(pace)  # an unknown name raises here, in the caller's thread
        self._command()

    def fork(self, on_ready: Callable[["TrainingRunner"], None], then: tuple = ()) -> None:
        """Ask for a twin of this run, made at its next epoch boundary (or where it ends): a new, unstarted
        runner that goes on from this run's state (weights, optimizer, RNG, curves, timeline, frame) exactly
        as this run would, with this run's requested learning rate, pace and pause as they are now.
        `on_ready(twin)` gets it on this run's thread; then this run applies `then`, its own commands given
        as (name, args) pairs (so a command meant for this run lands after the twin was taken)."""
        with self._lock:
            self._forks.append((on_ready, list(then), (self._lr, self._pacer.pace, self._paused, self._message)))
            self._lock.notify_all()

    def call_after_forks(self, name: str, *args) -> None:
        """Apply the command `name` now, or, while twins are asked for, after them (in the order given)."""
        with self._lock:
            if self._forks:
                self._forks[-1][1].append((name, args))
                return
        getattr(self, name)(*args)

    @property
    def requested_lr(self) -> float:
        """The base learning rate last asked for (it applies from the next epoch)."""
        return self._lr

    @property
    def pace(self) -> str:
        """The pace last asked for."""
        return self._pacer.pace

    @property
    def paused(self) -> bool:
        """Whether the run has been asked to pause (it pauses after the current batch)."""
        return self._paused

    @property
    def behind_pace(self) -> bool:
        """Whether it trains, unpaused, slower than its pace asks (it gets less CPU than it needs)."""
        with self._lock:
            return self._status == RUNNING and not self._paused and self._pacer.behind

    @property
    def trains_on(self) -> bool:
        """Whether it will ask for its next epoch without waiting: at the fast pace, not paused, not
        stopping, its thread alive. Read without the lock (a stack group asks again while it waits)."""
        return not (self._paused or self._stop) and self._pacer.pace == FAST and self._thread.is_alive()

    @property
    def engine(self) -> Engine | None:
        """The engine, once built. Read its model only after the run has ended."""
        return self._engine

    # --- what the UI reads --------------------------------------------------------------------

    def snapshot(self, touch: bool = True) -> Snapshot:
        """An immutable copy of the run's state; with `touch`, also tells the watchdog someone is watching."""
        with self._lock:
            if touch:
                self._last_seen = time.monotonic()
            return Snapshot(self._status, self._epoch, self.config.epochs, self._lr_in_use, self._rate.value(),
                            self._sample_rate.value(), self._curves.freeze(), self._frame, self._final, self._message,
                            self._weights, timeline=self._timeline.timeline())

    # --- the worker ---------------------------------------------------------------------------

    def _budget_problem(self) -> str | None:
        return run_problem(self.config, self.budget_minutes)

    def _worth_saving(self) -> bool:
        return self._epoch > 0

    def _train(self) -> None:
        engine = self._engine or self._new_engine()  # a twin has its engine already
        events, event, last_frame = engine.run(), None, time.monotonic()
        while engine.epoch < self.config.epochs:
            mid_epoch = isinstance(event, BatchEnd)
            if not mid_epoch:
                self._make_forks(engine)
            if not self._wait_for_turn(engine, mid_epoch):
                if not mid_epoch:
                    return self._end_training(engine, STOPPED, self._message or "Stopped.")
                engine.cut_epoch_short()  # the batch just trained ends its epoch, recorded before the run ends
            event = next(events)
            if isinstance(event, Diverged):
                self._set_frame(engine)
                return self._end_training(engine, DIVERGED, event.message)
            if isinstance(event, BatchProgress):
                self._record_batch_progress(event)
            elif isinstance(event, EpochEnd):
                self._record_epoch(event)
                if time.monotonic() - last_frame >= self._frame_seconds() or self._paused:
                    self._set_frame(engine)
                    last_frame = time.monotonic()
        self._set_frame(engine)
        self._end_training(engine, COMPLETED, f"Completed {engine.epoch} epochs.")

    def _new_engine(self) -> Engine:
        heard = []  # a download (or the default model's training) says how far it got while the engine is built
        def starting(text: str) -> None:
            heard.append(text)
            self._set_status(STARTING, text)

        with download.reporting(starting):
            if self.engine_factory is None and self.initial_state is None:
                prepare_start(self.config)  # the default model, when a start needs it and this machine has none
            engine = self._engine = (self.engine_factory(self) if self.engine_factory is not None
                                     else Engine(self.config, initial_state=self.initial_state))
        if heard and self._message == heard[-1]:
            self._set_status(STARTING, "")
        with self._lock:
            self._timeline = TimelineRecorder(self.config.epochs, enabled=not engine.dataset.is_image)
            self._started = time.monotonic()
        if self.initial_state is not None:  # a loaded model: show how it does before any training
            engine.evaluate("test")
        self._set_frame(engine)
        return engine

    def _make_forks(self, engine: Engine) -> None:
        """(On this run's thread, between epochs, without the lock) hand out the twins asked for, each
        followed by the commands that were to follow it (`call_after_forks` may add to them meanwhile)."""
        while True:
            with self._lock:
                if not self._forks:
                    return
                on_ready, then, requested = self._forks[0]
            on_ready(self._twin(engine, requested))
            while True:
                with self._lock:
                    if not then:
                        self._forks.pop(0)
                        break
                    name, args = then.pop(0)
                getattr(self, name)(*args)

    def _twin(self, engine: Engine, requested: tuple) -> "TrainingRunner":
        """A new runner going on from this one's state (see `fork`), with the settings `requested`."""
        lr, pace, paused, message = requested
        twin = TrainingRunner(self.config, self.frame_interval, self.idle_pause, self.idle_end, self.torch_threads,
                              pace=pace, pace_clock=self._pacer.clock)
        twin._engine = engine.fork()
        with self._lock:
            twin._epoch, twin._lr_in_use, twin._frame, twin._weights = (self._epoch, self._lr_in_use, self._frame,
                                                                        self._weights)
            twin._curves, twin._timeline = self._curves.copy(), copy.copy(self._timeline)
            twin._timeline_seconds, twin._started, twin._last_seen = (self._timeline_seconds, self._started,
                                                                      self._last_seen)
        twin._lr, twin._paused, twin._message = lr, paused, message
        return twin

    def _frame_seconds(self) -> float:
        """Seconds between boundary frames: the interval asked for, else the current pace's."""
        return self.frame_interval if self.frame_interval is not None else frame_seconds(self._pacer.pace)

    def _wait_for_turn(self, engine: Engine, mid_epoch: bool) -> bool:
        """Before each batch: block while paused; False once the run should end. A Step lets one epoch
        through (finishing the one in progress), then pauses again. Between epochs, a run ahead of its
        pace waits here too, and a changed learning rate is handed to the engine. Every wait is on the
        condition, so a command takes effect at once."""
        if mid_epoch and not (self._paused or self._stop) and time.monotonic() - self._last_seen <= self.idle_pause:
            return True  # the common case between batches, without the lock
        with self._lock:
            if not mid_epoch:
                self._in_step = False  # a Step's epoch is over
            while not self._stop:
                self._check_idle()
                if not self._may_train(mid_epoch):
                    self._status = PAUSED
                    if self._forks and not mid_epoch:  # a twin asked for while paused between epochs
                        self._lock.release()
                        try:
                            self._make_forks(engine)
                        finally:
                            self._lock.acquire()
                        continue
                    self._lock.wait(timeout=1.0)
                    continue
                ahead = 0.0 if mid_epoch else self._pacer.delay()
                if ahead <= 0:
                    if not mid_epoch:
                        engine.set_learning_rate(self._lr)
                        self._pacer.started()
                    return True
                self._lock.wait(timeout=ahead)  # ahead of the pace
            return False

    def _may_train(self, mid_epoch: bool) -> bool:
        """(Under the lock) whether the next batch may train now, taking a waiting Step if needed."""
        if not self._paused:
            self._status = RUNNING
            if not mid_epoch:
                self._steps = 0
            return True
        if self._in_step:
            self._status = PAUSED
            return True
        if self._steps:
            self._steps, self._in_step = self._steps - 1, True
            if not mid_epoch:  # mid-epoch the status stays as it was until the Step's epoch ends
                self._status = PAUSED
            return True
        return False

    def _check_idle(self) -> None:
        """The watchdog (call under the lock): pause a run nobody watches, later stop it."""
        idle = time.monotonic() - self._last_seen
        if idle > self.idle_end:
            self._stop, self._message = True, f"Stopped: nobody watched this run for {idle:.0f} s."
        elif idle > self.idle_pause and not self._paused:
            self._paused, self._message = True, "Paused: nobody was watching. Press Resume to go on."

    def _record_batch_progress(self, event: BatchProgress) -> None:
        with self._lock:
            self._curves.add_batch_progress(event)
            self._rate.add(event.epoch)
            self._sample_rate.add(event.samples)

    def _record_epoch(self, event: EpochEnd) -> None:
        with self._lock:
            self._epoch, self._lr_in_use = event.epoch, event.lr
            self._curves.add_epoch(event)
            self._rate.add(event.epoch)
            self._sample_rate.add(self._engine.samples)
            if not (self._paused or self._stop):  # a pause's or the watchdog's message stays
                self._message = ""
            kept = self._timeline.wants(event.epoch) and self._timeline_affordable()
        if kept:  # an epoch the timeline keeps: its frame is made now (and shown live too)
            started = time.monotonic()
            self._set_frame(self._engine)
            self._timeline_seconds += time.monotonic() - started

    def _timeline_affordable(self) -> bool:
        """(Under the lock) whether a scheduled timeline frame may be made now. A watched run makes every one
        (its pace's waits absorb them); a fast run spends at most TIMELINE_SHARE of its time on them, so a
        short fast run keeps fewer frames (the first, the last and some between)."""
        if self._pacer.pace != FAST:
            return True
        return self._timeline_seconds <= TIMELINE_SHARE * (time.monotonic() - self._started)

    def _set_frame(self, engine: Engine) -> None:
        """Make the live frame of the engine's epoch (the timeline's, if it kept one) and keep it in the
        timeline when its epoch is on the schedule."""
        with self._lock:
            frame = self._timeline.frame_at(engine.epoch)
        if frame is None and engine.dataset.is_image:
            frame = image_frame(engine.epoch, engine.test_predictions, engine.first_conv_filters())
        elif frame is None:
            frame = frame_for(engine.dataset, engine.predict, engine.epoch)
        weights = _small_weights(engine)
        with self._lock:
            self._frame, self._weights = frame, weights
            self._timeline.add(frame)

    def _end_training(self, engine: Engine, status: str, message: str) -> None:
        self._make_forks(engine)  # where the run ends is a boundary too: twins asked for now start from it
        final = engine.final_metrics()  # evaluates the test split: an image frame made after it is current
        if engine.epoch and (self._frame is None or self._frame.epoch != engine.epoch):
            self._set_frame(engine)  # e.g. stopped between frames: the final frame shows the final epoch
        if self._frame is not None:
            with self._lock:
                self._timeline.add(self._frame, final=True)  # the timeline ends where the run ended
        final["epochs_per_second"] = engine.epoch / engine.seconds if engine.seconds else None
        engine.release_training()  # a finished run keeps one copy of its weights
        with self._lock:
            self._epoch, self._final = engine.epoch, final
        self._end(status, message)


TIMELINE_SHARE = 0.1  # at the fast pace, timeline frames take at most this share of a run's time
MAX_LIVE_WEIGHTS = 50_000  # flat models up to this many parameters share their weights with the UI


def _small_weights(engine: Engine) -> dict | None:
    """A CPU copy of a small flat model's weights (for the network view), else None."""
    if engine.dataset.is_image or engine.plan.parameters > MAX_LIVE_WEIGHTS:
        return None
    return {name: value.detach().to("cpu", copy=True) for name, value in engine.model.state_dict().items()}


class _Rate:
    """Growth per second of a counter (epochs, samples) over the last couple of seconds of training."""

    def __init__(self, window: float = 2.0):
        self.window = window
        self.marks: collections.deque[tuple[float, float]] = collections.deque()

    def add(self, epoch: float) -> None:
        now = time.monotonic()
        self.marks.append((now, epoch))
        while len(self.marks) > 2 and now - self.marks[0][0] > self.window:
            self.marks.popleft()

    def value(self) -> float:
        if len(self.marks) < 2:
            return 0.0
        (t0, e0), (t1, e1) = self.marks[0], self.marks[-1]
        return (e1 - e0) / (t1 - t0) if t1 > t0 else 0.0
