"""Which run each student of a class has going on this server, for the teacher's board.

When a member of a class starts a run on the Playground, their page `report`s the run's handle here,
with the config and the hand-out it started from (if the student opened one). The board asks for
`runs(code)`: the latest run of each member. Only the newest run of a member is kept, and a class
keeps at most MAX_MEMBERS_KEPT entries (the oldest go). One registry per server process: runs live in
this process's pool; another server's runs are not here (issue 19's shared store will hold them).
A run that has ended is kept as an `EndedRun`: its final snapshot without the replay timeline and weights
(a finished watched run's handle holds ~1-3 MB of frames; the student's page may be long gone), settled
when the board reads the class and, at most every SETTLE_SECONDS, for every class when a run is reported.
Knows nothing about Streamlit or rendering; thread-safe.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from .timeline import Timeline

MAX_CLASSES_KEPT = 1000
MAX_MEMBERS_KEPT = 500
SETTLE_SECONDS = 10.0  # how often a report also settles every class's ended runs


@dataclass(frozen=True)
class LiveRun:
    member: int  # member id in the class store
    handle: Any  # the run's handle (a TrainingHandle): read it without touching its watchdog
    config: dict  # the run's config as a dict (TrainConfig.to_dict())
    handout: int | None  # the hand-out id the run started from, if the student opened one
    started: float  # unix time


class EndedRun:
    """What the board needs of a run that has ended: its config and final snapshot, lighter (no timeline, no
    weights); it answers like the run's handle (`active`, `snapshot(touch=False)`, `config`, and `ref` where
    the handle has one: a board on another server may still hold an attached copy of the run)."""

    active = False

    def __init__(self, handle: Any):
        self.config, self.ref = getattr(handle, "config", None), getattr(handle, "ref", None)
        self._snapshot = replace(handle.snapshot(touch=False), timeline=Timeline(), weights=None)

    def snapshot(self, touch: bool = False):
        return self._snapshot

    def join(self, timeout: float | None = None) -> None:
        return None


class ClassLive:
    """The latest run of each member of each class, on this server."""

    def __init__(self):
        self._lock = threading.Lock()
        self._classes: dict[str, dict[int, LiveRun]] = {}
        self._settled = time.monotonic()

    def report(self, code: str, member: int, handle: Any, config: dict, handout: int | None = None) -> None:
        """Member `member` of class `code` started the run `handle` (replacing their previous one)."""
        entry = LiveRun(int(member), handle, dict(config), handout, time.time())
        with self._lock:
            runs = self._classes.pop(code, {})
            self._classes[code] = runs  # the class goes to the end: the least recently used go first
            runs.pop(entry.member, None)
            runs[entry.member] = entry
            _trim(runs, MAX_MEMBERS_KEPT)
            _trim(self._classes, MAX_CLASSES_KEPT)
            if time.monotonic() - self._settled >= SETTLE_SECONDS:
                self._settled = time.monotonic()
                for kept in self._classes.values():
                    _settle(kept)

    def runs(self, code: str) -> dict[int, LiveRun]:
        """Member id -> their latest run, for the class `code` (a copy; ended runs as `EndedRun`s)."""
        with self._lock:
            runs = self._classes.get(code, {})
            _settle(runs)
            return dict(runs)

    def codes(self) -> list[str]:
        """The classes with a run on this server, least recently reported first."""
        with self._lock:
            return list(self._classes)

    def forget(self, code: str, member: int | None = None) -> None:
        """Drop one member's run (None: the whole class's)."""
        with self._lock:
            if member is None:
                self._classes.pop(code, None)
            else:
                self._classes.get(code, {}).pop(int(member), None)


def _settle(runs: dict[int, LiveRun]) -> None:
    """Replace every ended run's handle in `runs` by its lighter `EndedRun`."""
    for member, run in runs.items():
        if not isinstance(run.handle, EndedRun) and not run.handle.active:
            runs[member] = replace(run, handle=EndedRun(run.handle))


def _trim(table: dict, most: int) -> None:
    while len(table) > most:
        table.pop(next(iter(table)))
