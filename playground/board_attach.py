"""The class board's read-only handles on runs that another server of a school trains, kept while it looks.

Behind a load balancer a student's run may train on another replica; on a training cluster its published
record names it (`board_publish.Remote`: an opaque `ref`, and its config). A server's one `Attachments`
keeps the handle `attach(ref)` gave (the training backend's `attach`: snapshots, no commands; the board
reads with `touch=False`, so watching never keeps a run alive) per ref: at most MOST_KEPT, the least
recently read dropped first, and any not read for IDLE_SECONDS (the board stopped looking) dropped at the
next read. `snapshot(attach, ref)` reads the run through it; None when the run cannot be attached or read
(the cluster has no such run any more: ValueError; any error of the cluster's, Ray's `RayError`, recognised
without importing Ray). `Seen` is one such snapshot with the run's config, as the board's large view reads a
run's handle. Knows nothing about Streamlit, Ray itself, the ref's format or where refs come from.
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

log = logging.getLogger(__name__)
MOST_KEPT = 8  # attached runs a server keeps (a teacher opens one run large at a time)
IDLE_SECONDS = 60.0  # an attached run nobody read this long is let go


def attach_errors() -> tuple[type[BaseException], ...]:
    """What attaching or reading an attached run raises when it cannot: no such run (ValueError), a connection
    that failed, and Ray's errors where Ray is loaded (it is, wherever a backend can attach)."""
    ray_errors = sys.modules.get("ray.exceptions")
    found = getattr(ray_errors, "RayError", None)
    return (ValueError, ConnectionError, TimeoutError) + ((found,) if isinstance(found, type) else ())


class Attachments:
    """Attached runs by ref, a few, while they are read (thread-safe)."""

    def __init__(self, most: int = MOST_KEPT, idle_seconds: float = IDLE_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.most, self.idle_seconds, self.clock = most, idle_seconds, clock
        self._kept: OrderedDict[str, tuple[Any, float]] = OrderedDict()  # ref -> (handle, last read)
        self._lock = threading.Lock()

    def snapshot(self, attach: Callable[[str], Any], ref: str) -> Any | None:
        """The snapshot of the run `ref`, read with `touch=False` through the handle `attach(ref)` gave (once,
        then kept); None when it cannot be attached or read (then nothing is kept for it)."""
        handle = self._handle(attach, ref)
        if handle is None:
            return None
        try:
            return handle.snapshot(touch=False)
        except attach_errors() as error:
            log.warning("the attached run %s cannot be read: %s", ref[:60], type(error).__name__)
            self.forget(ref)
            return None

    def _handle(self, attach: Callable[[str], Any], ref: str) -> Any | None:
        now = self.clock()
        with self._lock:
            for old in [key for key, (_, read) in self._kept.items() if now - read > self.idle_seconds]:
                del self._kept[old]
            kept = self._kept.get(ref)
            if kept is not None:
                self._kept[ref] = (kept[0], now)
                self._kept.move_to_end(ref)
                return kept[0]
        try:
            handle = attach(ref)  # outside the lock: a cluster's answer may take a moment
        except attach_errors() as error:
            log.info("the run %s cannot be attached: %s", ref[:60], type(error).__name__)
            return None
        with self._lock:
            self._kept[ref] = (handle, now)
            self._kept.move_to_end(ref)
            while len(self._kept) > self.most:
                self._kept.popitem(last=False)
        return handle

    def forget(self, ref: str) -> None:
        with self._lock:
            self._kept.pop(ref, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)

    def __contains__(self, ref: str) -> bool:
        with self._lock:
            return ref in self._kept


class Seen:
    """One snapshot of an attached run and its config (a `TrainConfig`), answering as a run's handle does for
    the board's large view (`snapshot(touch=False)`, `active`, `config`); no commands."""

    def __init__(self, snapshot: Any, config: Any):
        self._snapshot, self.config = snapshot, config

    def snapshot(self, touch: bool = False) -> Any:
        return self._snapshot

    @property
    def active(self) -> bool:
        return self._snapshot.active
