"""How often live pages may poll so that together they take at most a share of the server's one Python
process: with a class of 30 pages watching runs, a fixed 0.15 s would ask for more than the server has,
and pages would wait ever longer for their polls.

`PollMeter` counts the pages that polled lately and keeps a stretch factor by feedback: every
MEASURE_SECONDS it reads the server process's CPU use (all its threads: the script runs, Streamlit's
serialising and sending, the relays) and, above SHARE of a core, stretches every page's interval by
STEP (also when a page's poll was cut short by its next one: the server could not keep up); well
below it, shrinks the stretch back towards 1 (each page's pace interval). Polls are counted as they
begin, since under overload none ends. Estimating a
poll's cost instead runs away both ways: a poll's own CPU misses most of Streamlit's work for it, its
wall time under load counts the other pages' turns, and the process's CPU per poll grows as polls
get rarer. `drifted` says when a page's interval is far enough from the wanted one to re-arm its
poll. Knows nothing about Streamlit:
the UI's live fragment asks it.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

SHARE = 0.6  # above this much of a core for the server process, polls are stretched
WINDOW_SECONDS = 3.0  # a page that polled this recently counts as live
MEASURE_SECONDS = 1.0  # the process's CPU use is measured over windows of at least this long
STEP = 1.3  # each window over SHARE stretches the intervals by this factor; each calm one shrinks them by it
CALM = 0.6  # below SHARE x this, the stretch shrinks back
MOST_STRETCH = 8.0  # a watched run's page still polls at least every 1.2 s
DRIFT = 2.0  # re-arm a page's poll when the wanted interval differs from its own by this factor


class PollMeter:
    """Live pages of one server process and how far their polls are stretched. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, cpu: Callable[[], float] = time.process_time):
        self.clock, self.cpu = clock, cpu
        self.stretch = 1.0  # every page's interval is its pace's times this
        self._lock = threading.Lock()
        self._last_poll: dict[str, float] = {}  # page -> when it last polled
        self._window = (self.clock(), self.cpu())  # (since, the process's CPU seconds then)
        self._cuts = 0  # polls cut short by the page's next poll in this window

    def record(self, page: str, cut: bool = False) -> None:
        """`page` began a poll (`cut`: its previous one was cut short by this one, so it never ended);
        every MEASURE_SECONDS the stretch follows the process's CPU use and the cut polls.

        Polls are counted as they begin: when the server is overloaded, each page's poll is cut short
        by its next one and none ends, so a count at the end would never see the load."""
        with self._lock:
            now = self.clock()
            self._last_poll[page] = now
            self._cuts += cut
            since, cpu_then = self._window
            if now - since < MEASURE_SECONDS:
                return
            cpu_now = self.cpu()
            self.adjust((cpu_now - cpu_then) / (now - since), self._cuts)
            self._window, self._cuts = (now, cpu_now), 0

    def adjust(self, busy: float, cuts: int = 0) -> None:
        """(Under the lock) follow a measured CPU use of `busy` cores and `cuts` polls cut short."""
        if busy > SHARE or cuts:
            self.stretch = min(MOST_STRETCH, self.stretch * STEP)
        elif busy < SHARE * CALM:
            self.stretch = max(1.0, self.stretch / STEP)

    def live_pages(self) -> int:
        with self._lock:
            cutoff = self.clock() - WINDOW_SECONDS
            for page in [page for page, when in self._last_poll.items() if when < cutoff]:
                del self._last_poll[page]
            return len(self._last_poll)

    def interval(self, base: float) -> float:
        """Seconds between a page's polls: `base` stretched while the server is too busy."""
        return base * self.stretch


def drifted(current: float, wanted: float) -> bool:
    """Whether a page polling every `current` s should switch to `wanted`."""
    return wanted > current * DRIFT or wanted * DRIFT < current
