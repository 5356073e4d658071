"""The Ray actor that trains one run, or one race (a batch of runs), on a node of a Ray cluster.

`ray_backend` creates it as a named actor (`num_cpus`, and `num_gpus` for image runs where the cluster has
GPUs) and drives it with three methods: `ready()` answers once Ray has placed the actor, its process is up
and has imported torch and the trainer (until then the run is queued); `begin(kind, arguments, start,
number)` builds the same `TrainingRunner` or `Race` a pool worker does (`worker.build_job`, one torch
thread) and starts it as this actor's job `number` (1, 2, ...); `update(sent_frames, known, wait, commands,
weights, since, number)` first applies the server's commands in order (those the worker accepts,
`worker.COMMANDS`; "seen" tells the watchdog someone watches), then waits up to `wait` seconds for the
snapshot to change and answers ("snapshot", snapshot without its timeline, the frames not sent yet, change
key), ("end", final snapshot, frames, the weights on the CPU) once the job ended, None when nothing changed
(also about a job `number` not begun yet), or ("gone", None, (), None) about an earlier job, replaced since.
One actor trains one job at a time but may be given the next once its job ended (the backend keeps it warm:
a fresh actor's process takes seconds to start and import torch). Saving happens on the server, not here.
Knows nothing about Ray itself (the backend wraps this class with `ray.remote`), queues or Streamlit.
"""
from __future__ import annotations

import importlib
import os
import time

from .worker import COMMANDS, build_job, change_key, final_state, relayed

CHECK_SECONDS = 0.02  # how often `update` looks at the job while it waits for a change
GONE = ("gone", None, (), None)  # what `update` answers about a job this actor no longer has


class TrainingActor:
    """One job (a `TrainingRunner` or a `Race`) hosted by one Ray actor process."""

    def __init__(self, torch_threads: int = 1):
        self.torch_threads = torch_threads
        self.kind, self.job, self.number = "", None, 0
        self.answered = 0.0  # when `update` last answered a changed snapshot

    def ready(self) -> int:
        """The actor's process id, once placed with torch and the trainer imported (ready to train at once)."""
        import torch

        torch.set_num_threads(self.torch_threads)
        for module in ("runner", "race"):
            importlib.import_module(f"{__package__}.{module}")
        return os.getpid()

    def begin(self, kind: str, arguments: dict, start: dict, number: int = 1) -> None:
        """Start the job as this actor's job `number`; RuntimeError while the previous job is still active."""
        if self.job is not None and self.job.snapshot(touch=False).active:
            raise RuntimeError("this actor still trains another run")
        self.ready()
        self.kind, self.job, self.number, self.answered = kind, None, number, 0.0
        self.job = build_job(kind, arguments).start(**start)

    def update(self, sent_frames: int, known: tuple | None, wait: float, commands: tuple = (),
               weights: bool = True, since: float = 0.0, number: int | None = None) -> tuple | None:
        """Apply `commands`, then the job's end (with its weights unless not `weights`), its changed
        snapshot once `since` s have passed since the last one this actor answered (a watched run changes
        every frame: as the worker, at most every SNAPSHOT_SECONDS), or None after `wait` s without one
        (and before `begin`); about job `number` when given: GONE once a later job replaced it, None before it."""
        if number is not None and number != self.number:
            return GONE if number < self.number else None
        if self.job is None:
            return None
        for name, args in commands:
            if name in COMMANDS[self.kind]:
                getattr(self.job, name)(*args)
        deadline = time.monotonic() + wait
        while True:
            snap = self.job.snapshot(touch=False)
            if not snap.active:
                self.job.join()
                return ("end", *relayed(snap, sent_frames), final_state(self.job) if weights else None)
            key, now = change_key(snap), time.monotonic()
            if key != known and now - self.answered >= since:
                self.answered = now
                return ("snapshot", *relayed(snap, sent_frames), key)
            if time.monotonic() >= deadline:
                return None
            time.sleep(CHECK_SECONDS)

