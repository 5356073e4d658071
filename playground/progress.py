"""What a run reports, whoever runs it: a thread of this process or a worker process of the pool.

The statuses a run passes through, its curves (`History`, grown in a `CurveLists`), the frozen
snapshots the UI polls (`Snapshot` for one training, `RaceSnapshot` for a race) and the `RunHandle`
protocol every handle offers (`TrainingRunner`, `Race`, `PooledRunner`, `PooledRace`), so the UI
cannot tell them apart. Also what every kind of handle does the same way: one run at a time per
owner (`Owners`) and handing the final snapshot to `on_end` (`hand_over`).
Knows nothing about torch, training, Streamlit or Plotly.
"""
from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Protocol, runtime_checkable

from .config import TrainConfig
from .frames import Frame
from .timeline import Timeline

if TYPE_CHECKING:  # the engine imports torch: only for the annotations
    from .engine import BatchProgress, Engine, EpochEnd

log = logging.getLogger(__name__)

# How often a watcher (a page) asks an active run for a snapshot.
POLL_SECONDS = 0.4  # live charts refresh 2.5 times a second
QUEUED_POLL_SECONDS = 2.0  # a run waiting in the queue for a worker: a class of queued pages must not swamp the server

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
    lr: tuple[float, ...] = ()  # the learning rate each evaluated epoch trained with (schedule applied)


class CurveLists:
    """The growing lists behind a History, one per field, filled from engine events.

    Not thread-safe: its owner guards it (the runner and the race under their locks)."""

    def __init__(self):
        self.lists: dict[str, list] = {name: [] for name in History.__dataclass_fields__}

    def add_epoch(self, event: EpochEnd) -> None:
        self.lists["epochs"].append(event.epoch)
        self.lists["train_loss"].append(event.train.loss)
        if event.train.score is not None:
            self.lists["eval_epochs"].append(event.epoch)
            self.lists["train_score"].append(event.train.score)
            self.lists["lr"].append(event.lr)
            if event.test is not None:
                self.lists["test_loss"].append(event.test.loss)
                self.lists["test_score"].append(event.test.score)

    def add_batch_progress(self, event: BatchProgress) -> None:
        self.lists["batch_epochs"].append(event.epoch)
        self.lists["batch_loss"].append(event.loss)

    def freeze(self) -> History:
        return History(**{name: tuple(values) for name, values in self.lists.items()})

    def copy(self) -> "CurveLists":
        twin = CurveLists()
        twin.lists = {name: list(values) for name, values in self.lists.items()}
        return twin


@dataclass(frozen=True)
class Snapshot:
    """One training's state at a moment, as the UI sees it."""

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
    timeline: Timeline = field(default_factory=Timeline)  # frames kept for replay (shared, never copied per poll)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


@dataclass(frozen=True)
class Entrant:
    """One racer's state in a race's snapshot."""

    name: str
    config: TrainConfig
    status: str
    history: History
    final: dict | None
    timeline: Timeline = field(default_factory=Timeline)  # kept frames, handed out once the race is over


@dataclass(frozen=True)
class RaceSnapshot:
    """A race's state at a moment: every entrant's curves."""

    status: str
    epoch: int  # epochs every entrant still running has completed
    epochs: int
    entrants: tuple[Entrant, ...]
    message: str = ""
    place: int = 0  # place in the queue for a worker while queued (1 = next), else 0

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


@runtime_checkable
class RunHandle(Protocol):
    """What every run handle offers: `TrainingRunner`, `Race` (threads of this process), `PooledRunner`
    and `PooledRace` (the same in a worker process). Methods are safe to call from any thread."""

    def start(self) -> RunHandle:
        """Start the run (queue it, in a pool); returns the handle."""

    def stop(self, reason: str = "") -> None:
        """End the run soon (a training after its current batch); `reason` becomes its message."""

    def join(self, timeout: float | None = None) -> None:
        """Wait until the run has ended (at most `timeout` s)."""

    def snapshot(self, touch: bool = True) -> Snapshot | RaceSnapshot:
        """A frozen copy of the run's state; asking also tells the watchdog someone is watching, unless
        `touch` is False (the class board reads runs without keeping them alive)."""

    @property
    def active(self) -> bool:
        """Whether the run is queued, starting, running or paused."""


@runtime_checkable
class TrainingHandle(RunHandle, Protocol):
    """A single training's handle (`TrainingRunner`, `PooledRunner`): it can also be paused, stepped and steered,
    and kept to a pace. Races have no pace: their entrants take turns epoch by epoch, as fast as they can."""

    config: TrainConfig

    def start(self, paused: bool = False) -> TrainingHandle:
        """Start the run, or with `paused` start it paused before its first epoch."""

    def pause(self) -> None:
        """Pause after the current batch."""

    def resume(self) -> None:
        """Go on training after a pause."""

    def step(self, epochs: int = 1) -> None:
        """Train `epochs` more epochs (finishing the current one first), then stay paused."""

    def set_learning_rate(self, lr: float) -> None:
        """Change the base learning rate from the next epoch on."""

    def set_pace(self, pace: str) -> None:
        """Train at `pace` (a name in `pace.PACES`: "watch" waits between epochs, "fast" never) from now on."""

    @property
    def paused(self) -> bool:
        """Whether the run has been asked to pause."""

    @property
    def requested_lr(self) -> float:
        """The base learning rate last asked for."""

    @property
    def pace(self) -> str:
        """The pace last asked for."""

    @property
    def engine(self) -> Engine | None:
        """The engine holding the model (read its model only once the run has ended)."""


class Owners:
    """Which run each owner (a browser) has going: claiming a new one stops the owner's previous run.

    Holds runs weakly, so a forgotten run is not kept alive. Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._runs: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

    def claim(self, owner: str | None, run: RunHandle, reason: str) -> None:
        """Make `run` `owner`'s run; the previous one, if still active, is stopped with `reason`."""
        if owner is None:
            return
        with self._lock:
            previous = self._runs.get(owner)
            self._runs[owner] = run
        if previous is not None and previous is not run and previous.active:
            previous.stop(reason)


def hand_over(on_end: Callable, snapshot: Snapshot | RaceSnapshot) -> str:
    """Call `on_end(snapshot)`; the snapshot's message, plus the reason when that failed (never raises)."""
    try:
        on_end(snapshot)
    except Exception as error:  # e.g. the runs file is unwritable: the run itself still counts
        log.exception("on_end failed")
        return f"{snapshot.message} It could not be saved for the Runs page: {error}"
    return snapshot.message
