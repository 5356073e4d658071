"""diskquota: a folder kept under its quota by removing the least recently used entries; a full disk refused."""
import os
import shutil
import time
from collections import namedtuple

import pytest

from playground import diskquota
from playground.diskquota import Limits, NoRoom, make_room

KB = 1024
Usage = namedtuple("Usage", "total used free")


def store(folder, key: str, size: int, used_ago: float) -> None:
    """An entry of two files (key.csv + key.json) last used `used_ago` seconds ago."""
    folder.mkdir(exist_ok=True)
    for suffix, part in ((".csv", size - 10), (".json", 10)):
        path = folder / f"{key}{suffix}"
        path.write_bytes(b"x" * part)
        when = time.time() - used_ago
        os.utime(path, (when, when))


def keys(folder) -> set[str]:
    return {e.key for e in diskquota.entries(folder)}


def test_entries_group_files_and_list_the_least_recently_used_first(tmp_path):
    store(tmp_path, "new", KB, 10)
    store(tmp_path, "old", 2 * KB, 1000)
    found = diskquota.entries(tmp_path)
    assert [e.key for e in found] == ["old", "new"] and [e.size for e in found] == [2 * KB, KB]


def test_room_is_made_by_removing_the_least_recently_used_and_the_total_stays_under_the_quota(tmp_path):
    for i, ago in enumerate((500, 300, 400, 200)):
        store(tmp_path, f"t{i}", 10 * KB, ago)
    make_room(tmp_path, 15 * KB, Limits(quota=40 * KB, keep_free=0, protect=60))
    assert keys(tmp_path) == {"t1", "t3"}  # t0 (500 s) and t2 (400 s) went, the two used last stayed
    assert sum(e.size for e in diskquota.entries(tmp_path)) + 15 * KB <= 40 * KB


def test_a_touch_makes_an_entry_recently_used_without_changing_its_modification_time(tmp_path):
    store(tmp_path, "a", KB, 500)
    store(tmp_path, "b", KB, 400)
    mtime = (tmp_path / "a.csv").stat().st_mtime_ns
    diskquota.touch(tmp_path / "a.csv")
    assert (tmp_path / "a.csv").stat().st_mtime_ns == mtime
    make_room(tmp_path, KB, Limits(quota=2 * KB, keep_free=0, protect=60))
    assert keys(tmp_path) == {"a"}


def test_entries_in_use_are_kept_and_the_refusal_says_so(tmp_path):
    store(tmp_path, "busy", 10 * KB, 5)
    with pytest.raises(NoRoom) as refused:
        make_room(tmp_path, 10 * KB, Limits(quota=15 * KB, keep_free=0, protect=60))
    assert "space for uploads" in refused.value.message and "try again" in refused.value.message
    assert keys(tmp_path) == {"busy"}


def test_a_full_disk_is_refused_and_nothing_is_removed_in_vain(tmp_path, monkeypatch):
    store(tmp_path, "old", 10 * KB, 1000)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(10**12, 10**12 - 50 * 2**20, 50 * 2**20))
    with pytest.raises(NoRoom) as refused:
        make_room(tmp_path, KB, Limits(quota=10**9, keep_free=200 * 2**20, protect=60))
    assert "the server's disk is full" in refused.value.message and "50 MB free" in refused.value.message
    assert keys(tmp_path) == {"old"}  # removing it would not have made room


