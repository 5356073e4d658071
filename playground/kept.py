"""A few values made once per key and kept, the least recently used dropped first (thread-safe).

`Kept(most).get_or_make(key, make)` returns the value kept under `key`, or calls `make()` (outside the
lock: two threads may both make a value, the later one is kept) and keeps what it returns, None
included. The live charts keep their serialised parts and prepared figures this way, the network
view its figures. Knows nothing about what is kept.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

_MISSING = object()


class Kept:
    """At most `most` values by key; reading one makes it the most recently used."""

    def __init__(self, most: int):
        self.most = most
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], Any]) -> Any:
        with self._lock:
            value = self._values.get(key, _MISSING)
            if value is not _MISSING:
                self._values.move_to_end(key)
                return value
        value = make()
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.most:
                self._values.popitem(last=False)
        return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def __getitem__(self, key: Hashable) -> Any:
        """The value kept under `key` (KeyError if none), without making it the most recently used."""
        with self._lock:
            return self._values[key]

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._values
