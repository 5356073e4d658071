"""The Ray actors one server holds between runs: kept warm for a while, so the next run starts at once.

A fresh training actor takes seconds before it trains (Ray starts its process, which imports torch and
the trainer: 3-9 s measured on 2 cores); an actor whose run ended can train the next one within a few
hundredths of a second. So `ray_backend` does not kill an actor whose job ended well: it gives it to its
first run waiting for a place (same GPU need), or keeps it here (`keep`) for `keep_seconds`, where the
next run with the same GPU need takes it (`take`). An actor kept longer is killed (`reap`, run by a timer),
because it holds its CPU (and GPU) on the cluster: runs of other servers cannot be placed there meanwhile.
Each `Actor` counts the jobs it has begun, and a run's `ref` is the actor's name and the job's number
("actor-<hex>/3"), so a reader attached to an earlier job learns it is gone, not the next job's numbers.
Knows nothing about training, queues or Streamlit; Ray is used only to kill an actor.
"""
from __future__ import annotations

import contextlib
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import ray
from ray.exceptions import RayError

KEEP_SECONDS = 30.0  # how long an idle actor is kept for this server's next run


@dataclass(eq=False)
class Actor:
    """A training actor of this server: its Ray handle, its unique name, its GPUs, the jobs begun on it."""

    handle: Any
    gpus: int
    name: str = field(default_factory=lambda: f"actor-{uuid.uuid4().hex}")
    jobs: int = 0
    idle_since: float = 0.0

    def next_job(self) -> str:
        """Count one more job on it; the job's ref."""
        self.jobs += 1
        return f"{self.name}/{self.jobs}"


def split_ref(ref: str) -> tuple[str, int]:
    """(actor name, job number) of a ref; ValueError when it is not one `Actor.next_job` made."""
    name, _, number = ref.rpartition("/")
    if not name.startswith("actor-") or not number.isdigit():
        raise ValueError(f"not a run on the cluster: {ref[:80]!r}")
    return name, int(number)


def kill(actor: Actor | None) -> None:
    """Kill the actor (freeing its CPU and its name); quiet when it is gone already."""
    if actor is not None:
        with contextlib.suppress(RayError, ValueError):
            ray.kill(actor.handle)


class WarmActors:
    """Idle actors, newest last, each killed `keep_seconds` after it became idle unless taken before
    (`kill_actor`: how an actor is killed, `kill` unless given; `clock`: the time idle is measured by)."""

    def __init__(self, keep_seconds: float = KEEP_SECONDS, kill_actor: Callable[[Actor], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.keep_seconds, self._clock = keep_seconds, clock
        self._kill = kill_actor or kill
        self._lock = threading.Lock()
        self._idle: list[Actor] = []
        self._closed = False

    def __len__(self) -> int:
        with self._lock:
            return len(self._idle)

    def take(self, gpus: int) -> Actor | None:
        """The most recently idle actor with `gpus` GPUs, or None."""
        with self._lock:
            for actor in reversed(self._idle):
                if actor.gpus == gpus:
                    self._idle.remove(actor)
                    return actor
        return None

    def keep(self, actor: Actor) -> None:
        """Keep `actor` for the next run (killed at once once closed, or with no time to keep it)."""
        with self._lock:
            keep = not self._closed and self.keep_seconds > 0
            if keep:
                actor.idle_since = self._clock()
                self._idle.append(actor)
        if not keep:
            return self._kill(actor)
        timer = threading.Timer(self.keep_seconds + 0.05, self.reap)
        timer.daemon = True
        timer.start()

    def reap(self) -> None:
        """Kill the actors idle for `keep_seconds` or more."""
        now = self._clock()
        with self._lock:
            old = [actor for actor in self._idle if now - actor.idle_since >= self.keep_seconds]
            self._idle = [actor for actor in self._idle if actor not in old]
        for actor in old:
            self._kill(actor)

    def close(self) -> None:
        """Kill every idle actor; later ones are killed as they come."""
        with self._lock:
            self._closed, idle, self._idle = True, self._idle, []
        for actor in idle:
            self._kill(actor)
