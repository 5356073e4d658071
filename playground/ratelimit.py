"""How often one person may do something costly: at most `count` times and `size` bytes within a
sliding window of `window` seconds.

The caller keeps the history (a list of (time, bytes) pairs), e.g. in a browser session's state, and
asks `wait` before acting and `record`s what it did. This module knows nothing about Streamlit,
files or tables.
"""
from __future__ import annotations

from dataclasses import dataclass

History = list  # of (time in seconds, bytes) pairs, oldest first


@dataclass(frozen=True)
class RateLimit:
    count: int  # actions per window
    size: int  # bytes per window
    window: float = 60.0  # seconds

    def wait(self, history: History, size: int, now: float) -> float:
        """Seconds until one more action of `size` bytes fits (0: it fits now); forgets what left the window."""
        history[:] = [(when, used) for when, used in history if now - when < self.window]
        waits = [0.0]
        if len(history) >= self.count:
            waits.append(history[len(history) - self.count][0] + self.window - now)
        total = sum(used for _, used in history) + size
        for when, used in history:  # the oldest leave the window first
            if total <= self.size:
                break
            total -= used
            waits.append(when + self.window - now)
        return max(waits)

    def record(self, history: History, size: int, now: float) -> None:
        history.append((now, size))
