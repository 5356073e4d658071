"""Runs one training off the caller's thread and exposes immutable snapshots of its progress.

A `TrainingRunner` owns a worker thread that pulls epochs from an `Engine`, obeys commands
(pause, resume, step, stop, set the learning rate) between epochs and records history and a
prediction frame a few times a second. The UI only calls commands and `snapshot()`; everything it
receives is frozen and picklable, so the worker can later move to a process pool. A watchdog
pauses a run nobody has looked at for `idle_pause` seconds and ends it after `idle_end`.
Knows nothing about Streamlit or Plotly.
"""
from __future__ import annotations

import collections
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field, replace
from typing import Callable

import torch

from .budget import run_problem
from .config import ConfigError, TrainConfig
from .engine import BatchProgress, Diverged, Engine, EpochEnd
from .frames import Frame, frame_for, image_frame

log = logging.getLogger(__name__)

# Statuses a run passes through.
QUEUED, STARTING, RUNNING, PAUSED = "queued", "starting", "running", "paused"  # queued: waiting for a worker
COMPLETED, STOPPED, DIVERGED, FAILED = "completed", "stopped", "diverged", "failed"
ACTIVE = (QUEUED, STARTING, RUNNING, PAUSED)
REPLACED = ("Stopped: a newer run from this browser replaced it (one run at a time per browser). "
            "What it trained is kept.")


@dataclass(frozen=True)
class History:
    """Curves. Train loss every epoch; scores and test loss on evaluated epochs (`eval_epochs`)."""

    epochs: tuple[int, ...] = ()
    train_loss: tuple[float, ...] = ()
    batch_epochs: tuple[float, ...] = ()  # fractional epochs of the in-epoch reports of long epochs
    batch_loss: tuple[float, ...] = ()  # train loss over the batches since the previous report
    eval_epochs: tuple[int, ...] = ()
    train_score: tuple[float, ...] = ()  # accuracy or R^2
    test_loss: tuple[float, ...] = ()  # empty when the dataset has no test split
    test_score: tuple[float, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    status: str
    epoch: int
    epochs: int
    lr: float  # learning rate of the latest epoch (schedule applied)
    epochs_per_second: float
    samples_per_second: float = 0.0  # training samples (images) per second
    history: History = field(default_factory=History)
    frame: Frame | None = None
    final: dict | None = None  # final metrics once the run has ended
    message: str = ""
    weights: dict | None = None  # a copy of a small flat model's state_dict (CPU), taken with the frame
    place: int = 0  # place in the queue for a worker while queued (1 = next), else 0

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


class _Curves:
    """Mutable lists behind History; only touched under the runner's lock."""

    def __init__(self):
        self.lists = {name: [] for name in History.__dataclass_fields__}

    def add(self, event: EpochEnd) -> None:
        self.lists["epochs"].append(event.epoch)
        self.lists["train_loss"].append(event.train.loss)
        if event.train.score is not None:
            self.lists["eval_epochs"].append(event.epoch)
            self.lists["train_score"].append(event.train.score)
            if event.test is not None:
                self.lists["test_loss"].append(event.test.loss)
                self.lists["test_score"].append(event.test.score)

    def add_progress(self, event: BatchProgress) -> None:
        self.lists["batch_epochs"].append(event.epoch)
        self.lists["batch_loss"].append(event.loss)

    def freeze(self) -> History:
        return History(**{name: tuple(values) for name, values in self.lists.items()})


class TrainingRunner:
    """One training run on a worker thread. All public methods are safe to call from any thread."""

    def __init__(self, config: TrainConfig, frame_interval: float = 0.4,
                 idle_pause: float = 60.0, idle_end: float = 900.0, torch_threads: int | None = 1,
                 initial_state: dict | None = None, on_end: Callable[[Snapshot], None] | None = None,
                 budget_minutes: float | None = None):
        """`initial_state`: a checkpoint's state_dict to continue training from. `on_end` receives the
        final snapshot of a run that trained at least one epoch, on the worker thread (e.g. to save it).
        `budget_minutes`: a run estimated to take longer fails at once, saying why (None: no limit)."""
        self.config = config
        self.budget_minutes = budget_minutes
        self.on_end = on_end
        self.initial_state = initial_state
        self.torch_threads = torch_threads  # small models train fastest on one thread; None leaves torch's setting
        self.frame_interval, self.idle_pause, self.idle_end = frame_interval, idle_pause, idle_end
        self._lock = threading.Condition()
        self._status, self._message = STARTING, ""
        self._paused, self._steps, self._stop = False, 0, False
        self._in_step = False  # the current epoch runs because of a Step: it does not pause mid-way
        self._lr = config.optimizer.lr  # requested base learning rate
        self._lr_in_use = config.optimizer.lr
        self._epoch, self._final, self._frame, self._weights = 0, None, None, None
        self._curves = _Curves()
        self._rate, self._sample_rate = _Rate(), _Rate()
        self._last_seen = time.monotonic()
        self._engine: Engine | None = None
        self._thread = threading.Thread(target=self._work, name="training", daemon=True)

    # --- commands -----------------------------------------------------------------------------

    def start(self, paused: bool = False) -> "TrainingRunner":
        with self._lock:
            self._paused = paused
        self._thread.start()
        return self

    def pause(self) -> None:
        self._command(paused=True)

    def resume(self) -> None:
        self._command(paused=False)

    def step(self, epochs: int = 1) -> None:
        """Train `epochs` more epochs, then stay paused."""
        with self._lock:
            self._paused, self._steps = True, self._steps + epochs
            self._lock.notify_all()

    def stop(self, reason: str = "") -> None:
        """End the run after the current batch; `reason` becomes its message (else "Stopped.")."""
        self._command(stop=True, **({"message": reason} if reason else {}))

    def set_learning_rate(self, lr: float) -> None:
        self._command(lr=float(lr))

    @property
    def active(self) -> bool:
        """Whether the run is starting, running or paused (cheaper than a snapshot)."""
        with self._lock:
            return self._status in ACTIVE

    @property
    def requested_lr(self) -> float:
        """The base learning rate last asked for (it applies from the next epoch)."""
        return self._lr

    @property
    def paused(self) -> bool:
        """Whether the run has been asked to pause (it pauses after the current batch)."""
        return self._paused

    @property
    def engine(self) -> Engine | None:
        """The engine, once built. Read its model only after the run has ended."""
        return self._engine

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _command(self, **changes) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self, f"_{name}", value)
            self._last_seen = time.monotonic()
            self._lock.notify_all()

    # --- what the UI reads --------------------------------------------------------------------

    def seen(self) -> None:
        """Tell the watchdog someone is watching (every command and `snapshot()` does too)."""
        self._command()

    def snapshot(self, touch: bool = True) -> Snapshot:
        """An immutable copy of the run's state; with `touch`, also tells the watchdog someone is watching."""
        with self._lock:
            if touch:
                self._last_seen = time.monotonic()
            return Snapshot(self._status, self._epoch, self.config.epochs, self._lr_in_use, self._rate.value(),
                            self._sample_rate.value(), self._curves.freeze(), self._frame, self._final, self._message,
                            self._weights)

    # --- the worker ---------------------------------------------------------------------------

    def _work(self) -> None:
        if self.torch_threads:
            torch.set_num_threads(self.torch_threads)
        try:
            problem = run_problem(self.config, self.budget_minutes)
            if problem:
                return self._finish(FAILED, problem)
            engine = self._engine = Engine(self.config, initial_state=self.initial_state)
            if self.initial_state is not None:  # a loaded model: show how it does before any training
                engine.evaluate("test")
            self._set_frame(engine)
            self._train(engine)
        except ConfigError as error:  # e.g. a batch too large for memory: the message names the fix
            self._finish(FAILED, f"Cannot train: {error.message}")
        except Exception as error:  # a bug or a torch error: report it, never crash the app
            log.exception("training failed")
            self._finish(FAILED, f"Training failed: {type(error).__name__}: {error}")

    def _report_end(self, status: str, message: str) -> str:
        """Hand the finished run to `on_end` before its status says it ended; returns the final message."""
        if self.on_end is None or self._epoch == 0:
            return message
        return hand_over(self.on_end, replace(self.snapshot(), status=status, message=message))

    def _train(self, engine: Engine) -> None:
        last_frame = time.monotonic()
        while engine.epoch < self.config.epochs:
            if not self._wait_for_turn(engine):
                return self._end(engine, STOPPED, self._message or "Stopped.")
            event = engine.train_epoch(interrupted=self._between_batches, progress=self._progress)
            if isinstance(event, Diverged):
                self._set_frame(engine)
                return self._end(engine, DIVERGED, event.message)
            self._record(event)
            if time.monotonic() - last_frame >= self.frame_interval or self._paused:
                self._set_frame(engine)
                last_frame = time.monotonic()
        self._set_frame(engine)
        self._end(engine, COMPLETED, f"Completed {engine.epoch} epochs.")

    def _wait_for_turn(self, engine: Engine) -> bool:
        """Block while paused; False when the run should end. Applies a changed learning rate."""
        with self._lock:
            while not self._stop:
                self._check_idle()
                if not self._paused or self._steps:
                    self._in_step = self._paused
                    self._steps = max(0, self._steps - 1) if self._paused else 0
                    self._status = RUNNING if not self._paused else PAUSED
                    engine.set_learning_rate(self._lr)
                    return True
                self._status = PAUSED
                self._lock.wait(timeout=1.0)
            return False

    def _between_batches(self) -> bool:
        """Called by the engine after each batch: blocks while paused mid-epoch; True ends the epoch."""
        if not (self._paused or self._stop) and time.monotonic() - self._last_seen <= self.idle_pause:
            return False  # the common case, without the lock
        with self._lock:
            while not self._stop:
                self._check_idle()
                if not self._paused or self._in_step:
                    self._status = RUNNING if not self._paused else PAUSED
                    return False
                if self._steps:  # Step while paused mid-epoch: finish this epoch, then pause
                    self._steps, self._in_step = self._steps - 1, True
                    return False
                self._status = PAUSED
                self._lock.wait(timeout=1.0)
            return True

    def _check_idle(self) -> None:
        """The watchdog (call under the lock): pause a run nobody watches, later stop it."""
        idle = time.monotonic() - self._last_seen
        if idle > self.idle_end:
            self._stop, self._message = True, f"Stopped: nobody watched this run for {idle:.0f} s."
        elif idle > self.idle_pause and not self._paused:
            self._paused, self._message = True, "Paused: nobody was watching. Press Resume to go on."

    def _progress(self, event: BatchProgress) -> None:
        with self._lock:
            self._curves.add_progress(event)
            self._rate.add(event.epoch)
            self._sample_rate.add(event.samples)

    def _record(self, event: EpochEnd) -> None:
        with self._lock:
            self._epoch, self._lr_in_use = event.epoch, event.lr
            self._curves.add(event)
            self._rate.add(event.epoch)
            self._sample_rate.add(self._engine.samples)
            if not (self._paused or self._stop):  # a pause's or the watchdog's message stays
                self._message = ""

    def _set_frame(self, engine: Engine) -> None:
        if engine.dataset.is_image:
            frame = image_frame(engine.epoch, engine.test_predictions, engine.first_conv_filters())
        else:
            frame = frame_for(engine.dataset, engine.predict, engine.epoch)
        weights = _small_weights(engine)
        with self._lock:
            self._frame, self._weights = frame, weights

    def _end(self, engine: Engine, status: str, message: str) -> None:
        final = engine.final_metrics()
        final["epochs_per_second"] = engine.epoch / engine.seconds if engine.seconds else None
        engine.release_training()  # a finished run keeps one copy of its weights
        with self._lock:
            self._epoch, self._final = engine.epoch, final
        self._finish(status, self._report_end(status, message))

    def _finish(self, status: str, message: str) -> None:
        with self._lock:
            self._status, self._message = status, message
            self._lock.notify_all()


class Owners:
    """Which run each owner (a browser) has going: claiming a new one stops the owner's previous run.

    Holds runs weakly, so a forgotten run is not kept alive. Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._runs: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

    def claim(self, owner: str | None, run, reason: str) -> None:
        """Make `run` `owner`'s run; the previous one, if still active, is stopped with `reason`."""
        if owner is None:
            return
        with self._lock:
            previous = self._runs.get(owner)
            self._runs[owner] = run
        if previous is not None and previous is not run and previous.active:
            previous.stop(reason)


def hand_over(on_end: Callable, snapshot) -> str:
    """Call `on_end(snapshot)`; the snapshot's message, plus the reason when that failed (never raises)."""
    try:
        on_end(snapshot)
    except Exception as error:  # e.g. the runs file is unwritable: the run itself still counts
        log.exception("on_end failed")
        return f"{snapshot.message} It could not be saved for the Runs page: {error}"
    return snapshot.message


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
