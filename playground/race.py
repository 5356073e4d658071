"""Several configs trained side by side on one worker thread, epoch by epoch: a race.

`Race` builds one `Engine` per entrant and trains them in turn, one epoch each, so their curves
grow together and can be overlaid live. The UI calls `snapshot()` (frozen, picklable) and
`stop()`; a watchdog stops a race nobody has looked at for `idle_end` seconds. An entrant whose
loss diverges drops out while the others go on. Knows nothing about Streamlit or Plotly.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable

import torch

from .budget import race_problem
from .config import ConfigError, TrainConfig
from .engine import Diverged, Engine
from .layers import LayerError
from .runner import ACTIVE, COMPLETED, DIVERGED, FAILED, RUNNING, STARTING, STOPPED, History, _Curves, hand_over

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entrant:
    """One racer's state in a snapshot."""

    name: str
    config: TrainConfig
    status: str
    history: History
    final: dict | None


@dataclass(frozen=True)
class RaceSnapshot:
    status: str
    epoch: int  # epochs every entrant still running has completed
    epochs: int
    entrants: tuple[Entrant, ...]
    message: str = ""
    place: int = 0  # place in the queue for a worker while queued (1 = next), else 0

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


class Race:
    """Train `entrants` ((name, config) pairs) in turn on one thread. Methods are thread-safe."""

    def __init__(self, entrants: tuple[tuple[str, TrainConfig], ...], idle_end: float = 300.0,
                 on_end: Callable[[RaceSnapshot], None] | None = None, budget_minutes: float | None = None):
        """`budget_minutes`: a race estimated to take longer fails at once, saying why (None: no limit)."""
        self.entrants = tuple(entrants)
        self.budget_minutes = budget_minutes
        self.epochs = max(config.epochs for _, config in self.entrants)
        self.idle_end, self.on_end = idle_end, on_end
        self._lock = threading.Lock()
        self._status, self._message, self._epoch, self._stop = STARTING, "", 0, False
        self._curves = {name: _Curves() for name, _ in self.entrants}
        self._states = {name: STARTING for name, _ in self.entrants}
        self._finals: dict[str, dict] = {}
        self._last_seen = time.monotonic()
        self._thread = threading.Thread(target=self._work, name="race", daemon=True)

    def start(self) -> "Race":
        self._thread.start()
        return self

    def stop(self, reason: str = "") -> None:
        """End the race after the current epoch; `reason` becomes its message."""
        with self._lock:
            self._stop = True
            self._message = reason or self._message

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def active(self) -> bool:
        with self._lock:
            return self._status in ACTIVE

    def seen(self) -> None:
        """Tell the watchdog someone is watching (`snapshot()` does too)."""
        with self._lock:
            self._last_seen = time.monotonic()

    def snapshot(self, touch: bool = True) -> RaceSnapshot:
        """A frozen copy of every entrant's curves; with `touch`, also tells the watchdog someone is watching."""
        with self._lock:
            if touch:
                self._last_seen = time.monotonic()
            entrants = tuple(Entrant(name, config, self._states[name], self._curves[name].freeze(),
                                     self._finals.get(name)) for name, config in self.entrants)
            return RaceSnapshot(self._status, self._epoch, self.epochs, entrants, self._message)

    def _work(self) -> None:
        torch.set_num_threads(1)
        try:
            problem = race_problem(self.entrants, self.budget_minutes)
            if problem:
                return self._set(status=FAILED, message=problem)
            engines = {name: Engine(config) for name, config in self.entrants}
            self._set(status=RUNNING)
            self._run(engines)
        except (ConfigError, LayerError) as error:
            self._set(status=FAILED, message=f"Cannot race: {getattr(error, 'message', error)}")
        except Exception as error:  # never let a worker crash the app: report it
            log.exception("race failed")
            self._set(status=FAILED, message=f"The race failed: {type(error).__name__}: {error}")

    def _run(self, engines: dict[str, Engine]) -> None:
        running = dict(engines)
        while running and not self._should_stop():
            for name, engine in list(running.items()):
                if engine.epoch >= engine.config.epochs:
                    self._finish(name, engine, COMPLETED)
                    del running[name]
                    continue
                if not self._record(name, engine.train_epoch()):
                    self._finish(name, engine, DIVERGED)
                    del running[name]
            with self._lock:
                self._epoch = max(engine.epoch for engine in engines.values())
        for name, engine in running.items():
            self._finish(name, engine, STOPPED)
        status, message = STOPPED if self._stop else COMPLETED, self._message or "The race is over."
        self._set(status=status, message=self._report_end(status, message))

    def _report_end(self, status: str, message: str) -> str:
        """Hand the finished race to `on_end` before its status says it ended; returns the final message."""
        if self.on_end is None:
            return message
        return hand_over(self.on_end, replace(self.snapshot(), status=status, message=message))

    def _record(self, name: str, event) -> bool:
        """Add an epoch to `name`'s curves; False when its loss diverged."""
        if isinstance(event, Diverged):
            return False
        with self._lock:
            self._curves[name].add(event)
            self._states[name] = RUNNING
        return True

    def _finish(self, name: str, engine: Engine, status: str) -> None:
        final = engine.final_metrics()
        with self._lock:
            self._states[name], self._finals[name] = status, final

    def _should_stop(self) -> bool:
        with self._lock:
            idle = time.monotonic() - self._last_seen
            if idle > self.idle_end and not self._stop:
                self._stop, self._message = True, f"Stopped: nobody watched this race for {idle:.0f} s."
            return self._stop

    def _set(self, **changes) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self, f"_{name}", value)
