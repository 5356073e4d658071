"""Whether a worker process may take one more training: by the CPU its trainings use, not by a count.

A run at the fast pace, or a race, takes a worker for itself: it uses all the core it is given. A run
at a slower pace (the watch pace) waits between epochs and needs only part of a core, so one worker
hosts several of them while its measured CPU use, plus what the runs it has just started are
expected to add, stays within WORKER_CORES. The measure comes from the worker's heartbeats (the CPU
seconds its process has used, `CpuMeter`). A worker whose paced runs fall behind their pace takes no
more: its own CPU figure looks low when the machine's other processes starve it. A stack of same-shaped
fast runs (`stacking`) counts as one fast run: a new run with the same stack key joins it while it has
fewer than MAX_STACK runs. What does not fit waits in the pool's queue. Knows nothing about processes,
pipes or runs: the pool asks it with numbers (and stack keys it compares, never reads).
"""
from __future__ import annotations

from dataclasses import dataclass

from .stacking import MAX_STACK

WORKER_CORES = 0.85  # the CPU a worker's trainings may use together (it has one torch thread: one core)
SHARED_CORES = 0.3  # what a new run at a slow pace is expected to use until heartbeats have measured it
SETTLE_SECONDS = 2.5  # a run that started this recently counts by the estimate (two heartbeats measure it)
MOST_JOBS = 12  # a worker hosts at most this many trainings, however little CPU they use (memory)
SMOOTHING = 0.5  # weight of the newest heartbeat's measure in the running estimate


@dataclass(frozen=True)
class Hosted:
    """What the scheduler needs to know of a training a worker runs."""

    shares: bool  # it runs at a slow pace and leaves room for others (a fast run or a race does not)
    started: float  # when the worker took it (time.monotonic())
    stack: tuple | None = None  # the stack it trains in (`stacking.stack_key`), if any


def may_host(new_shares: bool, hosted: list[Hosted], cores: float, now: float, behind: bool = False,
             new_stack: tuple | None = None) -> bool:
    """Whether a worker running `hosted`, measured at `cores` of CPU, may also take a new training;
    never while one of its runs is `behind` its pace (the machine gives it less CPU than it measures).
    A new training with a stack key (`new_stack`) joins a stack of that key with room left."""
    if not hosted:
        return True
    if new_stack is not None and 0 < sum(job.stack == new_stack for job in hosted) < MAX_STACK:
        return True
    if behind or not new_shares or not all(job.shares for job in hosted) or len(hosted) >= MOST_JOBS:
        return False
    settling = sum(now - job.started < SETTLE_SECONDS for job in hosted)
    return cores + (settling + 1) * SHARED_CORES <= WORKER_CORES


class CpuMeter:
    """A worker's CPU use in cores, smoothed over its heartbeats (each says the CPU seconds used so far)."""

    def __init__(self):
        self.cores = 0.0
        self._last: tuple[float, float] | None = None  # (when, CPU seconds) of the previous heartbeat

    def beat(self, cpu_seconds: float, now: float) -> float:
        """Take a heartbeat's figure received at `now`; the new estimate."""
        if self._last is not None and now > self._last[0]:
            used = max(0.0, cpu_seconds - self._last[1]) / (now - self._last[0])
            self.cores = SMOOTHING * used + (1 - SMOOTHING) * self.cores
        self._last = (now, cpu_seconds)
        return self.cores

    def reset(self) -> None:
        """A new process: forget the old one's figures."""
        self.cores, self._last = 0.0, None
