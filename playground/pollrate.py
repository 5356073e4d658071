"""How often live pages may poll so that together they take at most a share of the server's one Python
process: with a class of 30 pages watching runs, a fixed 0.15 s would ask for more than the server has,
and Streamlit cancels a fragment's poll still running when the next comes, so no page would update.

`PollMeter` records each poll's CPU time per page (its script thread's: a poll's wall time under load
counts the other pages' turns too, so stretching by it would count them twice and run away) and counts
the pages that polled lately; `interval(base)` is the pace's own interval, stretched so that live
pages x mean poll time stays within SHARE of a second per second. `drifted` says when a page's
interval is far enough from the wanted one to register its poll again. Knows nothing about Streamlit:
the UI's live fragment asks it.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

SHARE = 0.5  # of the server's process, at most this much goes to live pages' polls together
WINDOW_SECONDS = 3.0  # a page that polled this recently counts as live
SMOOTHING = 0.1  # weight of each new poll's time in the running mean
FIRST_GUESS = 0.005  # seconds per poll before any was measured (the default spiral's, issue 16)
DRIFT = 1.5  # re-register a page's poll when the wanted interval differs from its own by this factor


class PollMeter:
    """Poll times and live pages of one server process. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.seconds = FIRST_GUESS  # running mean CPU time of a poll
        self._lock = threading.Lock()
        self._last_poll: dict[str, float] = {}  # page -> when it last polled

    def record(self, page: str, seconds: float) -> None:
        """A poll of `page` took `seconds`."""
        with self._lock:
            self.seconds = (1 - SMOOTHING) * self.seconds + SMOOTHING * max(0.0, seconds)
            self._last_poll[page] = self.clock()

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
