"""A dataset's download on a background thread of the server, so that no page waits in its script run.

`start(name)` begins reading dataset `name` (`images.load_images`, which downloads what is not here) on a
daemon thread, once per process: every session that asks shares that one download. `job(name)` is the
download under way or finished (None before any), with the last progress report ("Downloading CIFAR-10:
12 of 163 MB"), whether it is done, and its error. A failed download may be started again. Knows nothing
about the UI: the Data section polls it.
"""
from __future__ import annotations

import threading

from . import download
from .images import ImageDataError, load_images


class Job:
    """One dataset's download: `text` (how far it got), `done`, `error` (None when it worked)."""

    def __init__(self, name: str):
        self.name, self.text, self.done, self.error = name, f"{download.PREFIX}: starting", False, None
        self._thread = threading.Thread(target=self._run, name=f"download-{name}", daemon=True)

    def _run(self) -> None:
        with download.reporting(self._heard):
            try:
                load_images(self.name)
            except ImageDataError as error:
                self.error = str(error)
        self.done = True

    def _heard(self, text: str) -> None:
        self.text = text

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)


_JOBS: dict[str, Job] = {}
_LOCK = threading.Lock()


def job(name: str) -> Job | None:
    return _JOBS.get(name)


def start(name: str) -> Job:
    """The download of `name` under way, started now unless one is (a failed one is started again)."""
    with _LOCK:
        current = _JOBS.get(name)
        if current is None or current.error is not None:
            current = _JOBS[name] = Job(name)
            current._thread.start()
        return current
