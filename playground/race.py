"""Several configs trained side by side on one worker thread, epoch by epoch: a race.

`Race` builds one `Engine` per entrant and trains them in turn, one epoch each, so their curves
grow together and can be overlaid live. The UI calls `snapshot()` (a frozen, picklable
`progress.RaceSnapshot`) and `stop()`; a watchdog stops a race nobody has looked at for
`idle_end` seconds. An entrant whose loss diverges drops out while the others go on. Each entrant of a
2-D or 1-D dataset keeps a short timeline (`RACE_FRAMES` frames, log-spaced, and where it ended), handed out
only once every entrant has finished (a live snapshot stays small), so a saved entrant's boundary shows and replays on
the Runs page. A race has no
pace (`pace`): it always trains as fast as it can, its entrants taking turns epoch by epoch. The thread,
the lock and the end of a run come from `runner.ThreadedRun`. Knows nothing about Streamlit or Plotly.
"""
from __future__ import annotations

import time
from typing import Callable

from . import download
from .budget import race_problem
from .config import ConfigError, TrainConfig
from .default_model import PREPARING, prepare_start
from .engine import Diverged, Engine, EpochEvent
from .frames import frame_for
from .layers import LayerError
from .progress import ACTIVE, COMPLETED, DIVERGED, RUNNING, STARTING, STOPPED, CurveLists, Entrant, RaceSnapshot
from .runner import ThreadedRun
from .timeline import Timeline, TimelineRecorder

RACE_FRAMES = 40  # frames an entrant's timeline keeps (a race trains fast: few, cheap frames)


class Race(ThreadedRun):
    """Train `entrants` ((name, config) pairs) in turn on one thread. Methods are thread-safe."""

    thread_name = "race"
    refusals = (ConfigError, LayerError)
    refusal_prefix = "Cannot race"
    failure_prefix = "The race failed"

    def __init__(self, entrants: tuple[tuple[str, TrainConfig], ...], idle_end: float = 300.0,
                 on_end: Callable[[RaceSnapshot], None] | None = None, budget_minutes: float | None = None):
        """`budget_minutes`: a race estimated to take longer fails at once, saying why (None: no limit)."""
        super().__init__(on_end, budget_minutes, torch_threads=1)
        self.entrants = tuple(entrants)
        self.epochs = max(config.epochs for _, config in self.entrants)
        self.idle_end = idle_end
        self._epoch = 0
        self._curves = {name: CurveLists() for name, _ in self.entrants}
        self._states = {name: STARTING for name, _ in self.entrants}
        self._finals: dict[str, dict] = {}
        self._timelines: dict[str, TimelineRecorder] = {}

    def stop(self, reason: str = "") -> None:
        """End the race after the current epoch; `reason` becomes its message."""
        self._command(stop=True, **({"message": reason} if reason else {}))

    def snapshot(self, touch: bool = True) -> RaceSnapshot:
        """A frozen copy of every entrant's curves; with `touch`, also tells the watchdog someone is watching."""
        with self._lock:
            if touch:
                self._last_seen = time.monotonic()
            ended = all(state not in ACTIVE for state in self._states.values())  # every entrant has finished
            entrants = tuple(Entrant(name, config, self._states[name], self._curves[name].freeze(),
                                     self._finals.get(name), self._timeline_of(name) if ended else Timeline())
                             for name, config in self.entrants)
            return RaceSnapshot(self._status, self._epoch, self.epochs, entrants, self._message)

    def _timeline_of(self, name: str) -> Timeline:
        recorder = self._timelines.get(name)
        return recorder.timeline() if recorder is not None else Timeline()

    def _budget_problem(self) -> str | None:
        return race_problem(self.entrants, self.budget_minutes)

    def _train(self) -> None:
        with download.reporting(self._preparing):  # a start from the default model it must train first
            for _, config in self.entrants:
                prepare_start(config)
        with self._lock:
            self._message = "" if self._message.startswith(PREPARING) else self._message
        engines = {name: Engine(config) for name, config in self.entrants}
        for name, engine in engines.items():
            self._timelines[name] = TimelineRecorder(engine.config.epochs, not engine.dataset.is_image, RACE_FRAMES)
            self._keep_frame(name, engine)
        with self._lock:
            self._status = RUNNING
        running = dict(engines)
        while running and not self._should_stop():
            for name, engine in list(running.items()):
                if engine.epoch >= engine.config.epochs:
                    self._finish_entrant(name, engine, COMPLETED)
                    del running[name]
                    continue
                if not self._record(name, engine, engine.train_epoch()):
                    self._finish_entrant(name, engine, DIVERGED)
                    del running[name]
            with self._lock:
                self._epoch = max(engine.epoch for engine in engines.values())
        for name, engine in running.items():
            self._finish_entrant(name, engine, STOPPED)
        self._end(STOPPED if self._stop else COMPLETED, self._message or "The race is over.")

    def _preparing(self, text: str) -> None:
        with self._lock:
            self._message = text

    def _record(self, name: str, engine: Engine, event: EpochEvent) -> bool:
        """Add an epoch to `name`'s curves; False when its loss diverged."""
        if isinstance(event, Diverged):
            return False
        with self._lock:
            self._curves[name].add_epoch(event)
            self._states[name] = RUNNING
        self._keep_frame(name, engine)
        return True

    def _keep_frame(self, name: str, engine: Engine, final: bool = False) -> None:
        """Keep the entrant's frame at its epoch when its timeline's schedule wants it (or, with `final`, always)."""
        recorder = self._timelines[name]
        if final and recorder.frame_at(engine.epoch) is None or recorder.wants(engine.epoch):
            recorder.add(frame_for(engine.dataset, engine.predict, engine.epoch), final=final)

    def _finish_entrant(self, name: str, engine: Engine, status: str) -> None:
        self._keep_frame(name, engine, final=True)
        final = engine.final_metrics()
        with self._lock:
            self._states[name], self._finals[name] = status, final

    def _should_stop(self) -> bool:
        with self._lock:
            idle = time.monotonic() - self._last_seen
            if idle > self.idle_end and not self._stop:
                self._stop, self._message = True, f"Stopped: nobody watched this race for {idle:.0f} s."
            return self._stop
