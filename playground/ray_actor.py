"""The Ray actor that trains one run, or one race (a batch of runs), on a node of a Ray cluster.

`ray_backend` creates it as a named actor (`num_cpus`, and `num_gpus` for image runs where the cluster
has GPUs) and drives it with three methods: `ready()` answers once Ray has placed the actor and its
process is up (until then the run is queued); `begin(kind, arguments, start)` builds the same
`TrainingRunner` or `Race` a pool worker does (`worker.build_job`, one torch thread) and starts it;
`update(sent_frames, known, wait, commands, weights, since)` first applies the server's commands in
order (those the worker accepts, `worker.COMMANDS`; "seen" tells the watchdog someone watches), then
waits up to `wait` seconds for the snapshot to change and answers ("snapshot", snapshot without its timeline,
the frames not sent yet, change key), ("end", final snapshot, frames, the weights on the CPU) once
the job ended, or None when nothing changed. Saving happens on the server, not here.
Knows nothing about Ray itself (the backend wraps this class with `ray.remote`), queues or Streamlit.
"""
from __future__ import annotations

import os
import time

from .worker import COMMANDS, build_job, change_key, final_state, relayed

CHECK_SECONDS = 0.02  # how often `update` looks at the job while it waits for a change


class TrainingActor:
    """One job (a `TrainingRunner` or a `Race`) hosted by one Ray actor process."""

    def __init__(self, torch_threads: int = 1):
        self.torch_threads = torch_threads
        self.kind, self.job = "", None
        self.answered = 0.0  # when `update` last answered a changed snapshot

    def ready(self) -> int:
        """The actor's process id: it has been placed and its process runs."""
        return os.getpid()

    def begin(self, kind: str, arguments: dict, start: dict) -> None:
        import torch

        torch.set_num_threads(self.torch_threads)
        self.kind, self.job = kind, build_job(kind, arguments).start(**start)

    def update(self, sent_frames: int, known: tuple | None, wait: float, commands: tuple = (),
               weights: bool = True, since: float = 0.0) -> tuple | None:
        """Apply `commands`, then the job's end (with its weights unless not `weights`), its changed
        snapshot once `since` s have passed since the last one this actor answered (a watched run changes
        every frame: as the worker, at most every SNAPSHOT_SECONDS), or None after `wait` s without one
        (and before `begin`)."""
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

