"""The training backend interface: what the UI's run handles need from whoever trains them, and the choice.

`TrainingBackend` is what `pool.TrainingPool` (the default: worker processes on this machine, with
identical runs computed once and same-shaped runs stacked) and `ray_backend.RayBackend` (a Ray cluster,
when `$PLAYGROUND_RAY_ADDRESS` is set) both offer: `run(...)` and `race(...)` return handles with the
`progress.TrainingHandle` / `progress.RunHandle` interface (plus `snapshot().place` while queued),
`ready` / `busy` / `waiting` count workers and runs, `close()` stops everything (saving what trained).
`make_backend()` picks one from the settings; None means no backend: runs train on threads of the
server itself (`PLAYGROUND_WORKERS=0`, the tests' default). Ray is imported only when its address is set.
Knows nothing about Streamlit; nothing here imports torch or Ray at import time.
"""
from __future__ import annotations

from typing import Callable, Protocol

from . import settings
from .config import TrainConfig
from .progress import RaceSnapshot, RunHandle, Snapshot, TrainingHandle


class TrainingBackend(Protocol):
    def run(self, config: TrainConfig, initial_state: dict | None = None,
            on_end: Callable[[Snapshot], None] | None = None, owner: str | None = None,
            budget_minutes: float | None = None, **options) -> TrainingHandle:
        """A handle on a training (`options`: the runner's idle times and pace); `.start()` queues it."""

    def race(self, entrants, on_end: Callable[[RaceSnapshot], None] | None = None, owner: str | None = None,
             budget_minutes: float | None = None, **options) -> RunHandle:
        """A handle on a race of (name, config) entrants; `.start()` queues it."""

    @property
    def ready(self) -> int:
        """How many workers can train now."""

    @property
    def busy(self) -> int:
        """How many workers (or, on Ray, runs) are training."""

    @property
    def waiting(self) -> int:
        """How many runs wait in the queue."""

    def close(self, timeout: float = 5.0) -> None:
        """Stop every run (saving what trained) and let the workers go."""


def make_backend(workers: int | None = None) -> TrainingBackend | None:
    """The Ray backend when `$PLAYGROUND_RAY_ADDRESS` is set; else a pool of `workers` worker processes
    (default `$PLAYGROUND_WORKERS`, one per core), or None for 0 (runs train on the server's threads)."""
    address = settings.ray_address()
    if address:
        from .ray_backend import RayBackend  # imports Ray: only for a cluster

        return RayBackend(address)
    workers = settings.default_workers() if workers is None else workers
    if not workers:
        return None
    from .pool import TrainingPool  # imports torch

    return TrainingPool(workers)
