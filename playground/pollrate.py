"""How often live pages may poll so that together they take at most a share of the server's one Python
process: with a class of 30 pages watching runs, a fixed 0.15 s would ask for more than the server has,
and Streamlit cancels a fragment's poll still running when the next comes, so no page would update.

`PollMeter` counts polls per page and measures what they cost the whole server process: its CPU
seconds (all threads: the script runs, Streamlit's serialising and sending, the relays) per poll over
the last second or so. A poll's own CPU misses most of what Streamlit does for it, and its wall time
under load counts the other pages' turns too (stretching by it would count them twice and run away).
`interval(base)` is the pace's own interval, stretched so that live pages x cost per poll stays
within SHARE of a second per second. `drifted` says when a page's interval is far enough from the
wanted one to register its poll again. Knows nothing about Streamlit:
the UI's live fragment asks it.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

SHARE = 0.5  # of the server's process, at most this much goes to live pages' polls together
WINDOW_SECONDS = 3.0  # a page that polled this recently counts as live
SMOOTHING = 0.5  # weight of each new measure in the running mean of the cost per poll
MEASURE_SECONDS = 1.0  # the cost per poll is measured over windows of at least this long
FIRST_GUESS = 0.005  # seconds per poll before any was measured (the default spiral's, issue 16)
DRIFT = 1.5  # re-register a page's poll when the wanted interval differs from its own by this factor


class PollMeter:
    """Polls and live pages of one server process, and what a poll costs it. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, cpu: Callable[[], float] = time.process_time):
        self.clock, self.cpu = clock, cpu
        self.seconds = FIRST_GUESS  # running mean of the process's CPU seconds per poll
        self._lock = threading.Lock()
        self._last_poll: dict[str, float] = {}  # page -> when it last polled
        self._window = (self.clock(), self.cpu(), 0)  # (since, CPU seconds then, polls since)

    def record(self, page: str) -> None:
        """`page` polled; every MEASURE_SECONDS the cost per poll is measured again."""
        with self._lock:
            now = self.clock()
            self._last_poll[page] = now
            since, cpu_then, polls = self._window
            polls += 1
            if now - since < MEASURE_SECONDS:
                self._window = (since, cpu_then, polls)
                return
            cpu_now = self.cpu()
            per_poll = max(0.0, cpu_now - cpu_then) / polls
            self.seconds = (1 - SMOOTHING) * self.seconds + SMOOTHING * per_poll
            self._window = (now, cpu_now, 0)

    def live_pages(self) -> int:
        with self._lock:
            cutoff = self.clock() - WINDOW_SECONDS
            for page in [page for page, when in self._last_poll.items() if when < cutoff]:
                del self._last_poll[page]
            return len(self._last_poll)

    def interval(self, base: float) -> float:
        """Seconds between a page's polls: `base`, or longer when the live pages together would take more
        than SHARE of the server (the page asking counts itself even before its first poll)."""
        pages = max(1, self.live_pages())
        return max(base, pages * self.seconds / SHARE)


def drifted(current: float, wanted: float) -> bool:
    """Whether a page polling every `current` s should switch to `wanted`."""
    return wanted > current * DRIFT or wanted * DRIFT < current
