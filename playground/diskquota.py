"""Disk space for what users store on the server: a folder kept under a byte quota by removing the
least recently used entries, and a check that the disk keeps some space free.

An *entry* is the group of files in one folder sharing the part of their name before the first dot
(`abc.csv` + `abc.json`); its size is theirs together and its last use the latest access time among
them. Callers mark a use with `touch` (which sets the access time only, so caches keyed on the
modification time stay valid). Entries used within `protect` seconds count as in use right now and
are never removed. The caller passes the limits (tabular.py reads them from settings.py).
This module knows nothing about tables, CSV, Streamlit or who stores what.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
MB = 2**20
_STORING = threading.Lock()  # one store at a time makes room, so two cannot both count the same free space


class NoRoom(Exception):
    """There is no room to store something; `message` says why in plain words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Limits:
    quota: int  # bytes the folder may hold
    keep_free: int  # bytes the disk must keep free after storing
    protect: float  # seconds after its last use during which an entry counts as in use


@dataclass(frozen=True)
class Entry:
    key: str
    paths: tuple[Path, ...]
    size: int
    last_used: float  # unix time


def touch(path: Path) -> None:
    """Mark `path` as used now: its access time becomes now, its modification time stays."""
    with contextlib.suppress(OSError):
        os.utime(path, ns=(time.time_ns(), path.stat().st_mtime_ns))


def entries(folder: Path) -> list[Entry]:
    """The folder's entries, least recently used first."""
    groups: dict[str, list[Path]] = {}
    with contextlib.suppress(FileNotFoundError):
        for item in folder.iterdir():
            key = item.name if item.name.startswith(".") else item.name.split(".")[0]
            groups.setdefault(key, []).append(item)
    found = [_entry(key, paths) for key, paths in groups.items()]
    return sorted((e for e in found if e is not None), key=lambda e: e.last_used)


def _entry(key: str, paths: list[Path]) -> Entry | None:
    stats = []
    for path in paths:
        with contextlib.suppress(OSError):
            stats.append((path, path.stat()))
    if not stats:
        return None
    return Entry(key, tuple(p for p, _ in stats), sum(s.st_size for _, s in stats),
                 max(max(s.st_atime, s.st_mtime) for _, s in stats))


def make_room(folder: Path, incoming: int, limits: Limits, keep: str = "") -> None:
    """Remove least recently used entries (never `keep`, never ones in use) until `incoming` more bytes fit
    both the quota and the disk's free space; NoRoom (and nothing removed) when they cannot."""
    folder.mkdir(parents=True, exist_ok=True)
    found = entries(folder)
    total, free = sum(e.size for e in found), shutil.disk_usage(folder).free
    free_now, victims, now = free, [], time.time()
    for entry in found:
        if _fits(total, free, incoming, limits):
            break
        if entry.key != keep and now - entry.last_used >= limits.protect:
            victims.append(entry)
            total, free = total - entry.size, free + entry.size
    if free - incoming < limits.keep_free:
        raise NoRoom(f"the server's disk is full ({free_now / MB:,.0f} MB free; {limits.keep_free / MB:,.0f} MB "
                     "must stay free), so nothing more can be stored; tell your teacher")
    if total + incoming > limits.quota:
        raise NoRoom(f"the server's space for uploads ({limits.quota / MB:,.0f} MB) is full of files in use "
                     "right now; try again in a few minutes")
    for entry in victims:
        _remove(entry)


def _fits(total: int, free: int, incoming: int, limits: Limits) -> bool:
    return total + incoming <= limits.quota and free - incoming >= limits.keep_free


def _remove(entry: Entry) -> None:
    log.info("removing %s (%d bytes, least recently used) to make room", entry.key, entry.size)
    for path in entry.paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def store_once(folder: Path, ref: str, suffix: str, data: bytes, name: str, limits: Limits) -> Path:
    """Store `data` as folder/<ref><suffix> beside <ref>.json naming it (`name`: the first name it was
    stored under; the same bytes again keep it), making room first; returns the file's path and marks
    it used. NoRoom when there is none; OSError when the disk refuses."""
    path, meta_path = folder / f"{ref}{suffix}", folder / f"{ref}.json"
    meta = json.dumps({"name": name}).encode()
    with _STORING:
        if not (path.is_file() and path.stat().st_size == len(data)):  # the same bytes again need no room
            make_room(folder, len(data) + len(meta), limits, keep=ref)
            write_atomic(meta_path, meta)
            write_atomic(path, data)
        elif not meta_path.is_file():
            write_atomic(meta_path, meta)
    touch(path)
    return path


def write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
