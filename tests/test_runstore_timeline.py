"""Saved runs keep their timeline: a compressed column, read per run; files from before it keep working."""
import sqlite3

import numpy as np
import pytest

from playground import runstore
from playground.config import TrainConfig
from playground.frames import BoundaryFrame
from playground.progress import History
from playground.runstore import RunStore
from playground.schema import runs
from playground.timeline import Timeline

HISTORY = History(epochs=(1, 2), train_loss=(1.0, 0.5))
FINAL = {"epochs": 2, "test_accuracy": 0.9}
SCHEMA_1 = """
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT NOT NULL, created REAL NOT NULL,
    name TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, config TEXT NOT NULL, history TEXT NOT NULL,
    final TEXT NOT NULL);
CREATE INDEX runs_by_workspace ON runs (workspace, id);
PRAGMA user_version = 1;
"""


def timeline(epochs=(0, 1, 2)) -> Timeline:
    axis = np.linspace(-1, 1, 100, dtype=np.float32)
    rng = np.random.default_rng(0)
    return Timeline(tuple(BoundaryFrame(e, axis, axis, rng.integers(0, 3, (100, 100), dtype=np.uint8),
                                        rng.integers(0, 8, (100, 100), dtype=np.uint8)) for e in epochs))


@pytest.fixture
def store(store_location) -> RunStore:
    return RunStore(store_location)  # SQLite, then PostgreSQL


def test_a_run_saved_with_its_timeline_reads_it_back(store):
    kept = timeline()
    run_id = store.save("ws", TrainConfig(), HISTORY, FINAL, "completed", timeline=kept)
    assert store.get("ws", run_id).has_timeline and store.runs("ws")[0].has_timeline
    back = store.timeline("ws", run_id)
    assert back.epochs == kept.epochs
    assert all(np.array_equal(a.classes, b.classes) and np.array_equal(a.confidence, b.confidence)
               for a, b in zip(kept.frames, back.frames))


def test_runs_without_frames_have_no_timeline(store):
    plain = store.save("ws", TrainConfig(), HISTORY, FINAL, "completed")
    empty = store.save("ws", TrainConfig(), HISTORY, FINAL, "completed", timeline=Timeline())  # an image run
    for run_id in (plain, empty):
        assert not store.get("ws", run_id).has_timeline and store.timeline("ws", run_id) is None


def test_another_workspace_cannot_read_a_timeline(store):
    run_id = store.save("alice", TrainConfig(), HISTORY, FINAL, "completed", timeline=timeline())
    assert store.timeline("bob", run_id) is None
    with pytest.raises(ValueError):
        store.timeline("../etc", run_id)


def test_a_damaged_timeline_leaves_the_run_readable(store):
    run_id = store.save("ws", TrainConfig(), HISTORY, FINAL, "completed", timeline=timeline())
    with store.connection(write=True) as db:
        db.execute(runs.update().where(runs.c.id == run_id).values(timeline=b"NPTL1garbage"))
    assert store.get("ws", run_id).final == FINAL
    assert store.timeline("ws", run_id) is None


def test_a_file_from_before_timelines_gains_the_column_and_keeps_its_runs(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA_1)
        db.execute("INSERT INTO runs (workspace, created, name, status, config, history, final) "
                   "VALUES ('ws', 1.0, 'old', 'completed', '{}', '{\"epochs\": [1]}', '{}')")
    store = RunStore(path)
    (old,) = store.runs("ws")
    assert (old.name, old.has_timeline, store.timeline("ws", old.id)) == ("old", False, None)
    new = store.save("ws", TrainConfig(), HISTORY, FINAL, "completed", timeline=timeline())
    assert store.timeline("ws", new).epochs == (0, 1, 2)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == runstore.SCHEMA_VERSION

