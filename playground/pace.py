"""How fast a run trains: the paces a user can pick, and the clock that holds a run to one.

A pace is not part of a run's `TrainConfig`: it changes no result, only how long the run takes.
"watch" keeps a run slow enough to follow (the default spiral's 1,000 epochs take about 10 s);
"fast" trains as fast as the machine allows, never waiting (the CLI's and the benchmarks' path).
`Pacer` says how long to wait before the next epoch; the runner does the waiting (on its condition,
so its commands still take effect at once). Knows nothing about torch, threads, training or Streamlit.
"""
from __future__ import annotations

import time
from typing import Callable

WATCH, FAST = "watch", "fast"
WATCH_EPOCHS_PER_SECOND = 100.0  # the default spiral's 1,000 epochs in about 10 s
PACES: dict[str, float | None] = {WATCH: WATCH_EPOCHS_PER_SECOND, FAST: None}  # name -> epochs/s (None: no limit)
LABELS = {WATCH: "Watch", FAST: "Fast"}  # what a control shows for each pace
# How often a run at each pace makes a boundary frame, and how often a page watching it asks for the
# newest: a watched run makes frames faster than its page asks, so every poll finds a new one, and the
# page asks about 6 times a second (a poll also costs its own time): >= 4 new boundaries a second,
# >= 30 in the default spiral's 10 s. "fast" keeps its cheaper rates.
FRAME_SECONDS: dict[str, float] = {WATCH: 0.1, FAST: 0.4}
POLL_SECONDS: dict[str, float] = {WATCH: 0.15, FAST: 0.4}


def frame_seconds(pace: str) -> float:
    """Seconds between a run's boundary frames at `pace`; FAST's for an unknown name."""
    return FRAME_SECONDS.get(pace, FRAME_SECONDS[FAST])


def poll_seconds(pace: str) -> float:
    """Seconds between a page's polls of a run at `pace`; FAST's for an unknown name."""
    return POLL_SECONDS.get(pace, POLL_SECONDS[FAST])


def epochs_per_second(pace: str) -> float | None:
    """The most epochs a second `pace` allows (None: no limit); a readable error for an unknown name."""
    if pace not in PACES:
        raise ValueError(f"unknown pace {pace!r}: choose one of {', '.join(PACES)}")
    return PACES[pace]


LATE_WEIGHT = 0.05  # how much each epoch moves `Pacer.on_time` (about the last 20 epochs count)


class Pacer:
    """When the next epoch may begin at a pace. `started()` as each epoch begins, `delay()` before it.

    Keeps to the pace on average (a late wake-up is made up at the next epoch), but never makes up
    more than one epoch: after a pause or a slow epoch the schedule starts again from now, with no burst.
    Not thread-safe: its owner guards it."""

    def __init__(self, pace: str = FAST, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._next = float("-inf")  # when the next epoch may begin
        self.on_time = 1.0  # a running share of epochs that began on time (not over an epoch late)
        self.set(pace)

    def set(self, pace: str) -> None:
        rate = epochs_per_second(pace)
        self.pace, self.interval = pace, (1.0 / rate if rate else None)

    def delay(self) -> float:
        """Seconds to wait before the next epoch may begin (0.0 at once; "fast" never reads the clock)."""
        if self.interval is None:
            return 0.0
        return max(0.0, self._next - self.clock())

    def started(self) -> None:
        """Note that an epoch begins now."""
        if self.interval is None:
            return
        now = self.clock()
        behind = now - self._next
        if self._next != float("-inf"):
            self.on_time = (1 - LATE_WEIGHT) * self.on_time + LATE_WEIGHT * (behind <= self.interval)
        self._next = (now if behind > self.interval else self._next) + self.interval

    @property
    def behind(self) -> bool:
        """Whether most recent epochs began over an epoch late: the run gets less CPU than its pace needs."""
        return self.interval is not None and self.on_time < 0.5
