"""Versioned migrations: runs files the old code wrote (schema 1, 2 or 3, with or without the class tables it
created on first use) upgrade in place and keep their runs and classes; a new database of either kind gets
every step and records its version; stores that open a database together upgrade it once; a newer one is
refused."""
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from playground import migrations
from playground.classroom import ClassStore
from playground.config import TrainConfig
from playground.progress import History
from playground.runstore import RunStore, RunStoreError

# The old code's SQL (runstore.py and classroom.py before the SQLAlchemy store), one schema at a time.
OLD_RUNS = {
    1: "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT NOT NULL, created REAL NOT NULL, "
       "name TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, config TEXT NOT NULL, history TEXT NOT NULL, "
       "final TEXT NOT NULL); CREATE INDEX runs_by_workspace ON runs (workspace, id);",
    2: "ALTER TABLE runs ADD COLUMN timeline BLOB;",
    3: "ALTER TABLE runs ADD COLUMN prediction TEXT;",
}
OLD_CLASSES = """
CREATE TABLE IF NOT EXISTS classes (
    code TEXT PRIMARY KEY, title TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL,
    teacher_hash TEXT NOT NULL, teacher_workspace TEXT NOT NULL, show_names INTEGER NOT NULL DEFAULT 1,
    challenge TEXT, challenge_set REAL);
CREATE TABLE IF NOT EXISTS class_members (
    id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL, workspace TEXT NOT NULL, name TEXT NOT NULL,
    folded TEXT NOT NULL, joined REAL NOT NULL, UNIQUE (code, workspace), UNIQUE (code, folded));
CREATE TABLE IF NOT EXISTS class_handouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL, created REAL NOT NULL, kind TEXT NOT NULL,
    payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS class_digits (
    id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL, member INTEGER NOT NULL, label INTEGER NOT NULL,
    pixels BLOB NOT NULL, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS class_digits_by_code ON class_digits (code, id);
CREATE INDEX IF NOT EXISTS class_members_by_workspace ON class_members (workspace);
INSERT INTO classes (code, title, created, expires, teacher_hash, teacher_workspace)
    VALUES ('ABCDEF', 'Old class', 1.0, 9e12, 'x', 'teacher');
INSERT INTO class_members (code, workspace, name, folded, joined) VALUES ('ABCDEF', 'student', 'Ada', 'ada', 2.0);
"""
HISTORY = History(epochs=(1, 2), train_loss=(1.0, 0.5))


def old_file(path, schema: int, with_classes: bool):
    with sqlite3.connect(path) as db:
        db.executescript("".join(OLD_RUNS[i] for i in range(1, schema + 1)) + f"PRAGMA user_version = {schema};")
        db.execute("INSERT INTO runs (workspace, created, name, status, config, history, final) "
                   "VALUES ('ws', 1.0, 'old', 'completed', '{}', '{\"epochs\": [1]}', '{}')")
        if with_classes:
            db.executescript(OLD_CLASSES)
    return path


@pytest.mark.parametrize("with_classes", [False, True], ids=["runs-only", "with-classes"])
@pytest.mark.parametrize("schema", [1, 2, 3])
def test_an_old_runs_file_upgrades_in_place_and_keeps_everything(tmp_path, schema, with_classes):
    path = old_file(tmp_path / "runs.sqlite", schema, with_classes)
    store, classes = RunStore(path), ClassStore(RunStore(path))
    (old,) = store.runs("ws")
    assert (old.name, old.has_timeline, old.prediction) == ("old", False, None)
    new = store.save("ws", TrainConfig(), HISTORY, {}, "completed", prediction={"choice": 1})
    assert store.get("ws", new).prediction == {"choice": 1} and new > old.id
    if with_classes:
        assert classes.info("ABCDEF").title == "Old class" and [m.name for m in classes.members("ABCDEF")] == ["Ada"]
    made = classes.create("teacher2").info.code
    assert classes.join(made, "student", "Bo").name == "Bo"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION == 5


def test_a_new_database_gets_every_step_and_records_its_version(store_location):
    store = RunStore(store_location)
    assert store.count("ws") == 0
    with store.connection() as db:
        if store.path is None:
            assert db.execute(text("SELECT version FROM playground_schema")).scalar_one() == 5
        else:
            assert db.exec_driver_sql("PRAGMA user_version").scalar_one() == 5
    assert migrations.migrate(store.db) == 5  # nothing left to do


def test_stores_opening_a_new_database_together_upgrade_it_once(store_location, monkeypatch):
    applied = []
    step = migrations.STEPS[0]
    monkeypatch.setattr(migrations, "STEPS", (lambda conn: (applied.append(1), step(conn)), *migrations.STEPS[1:]))

    with ThreadPoolExecutor(6) as pool:  # an error in any of them is raised here
        counts = list(pool.map(lambda _: RunStore(store_location).count("ws"), range(6)))
    assert counts == [0] * 6 and applied == [1]


def test_a_database_of_a_newer_version_is_refused(store_location):
    store = RunStore(store_location)
    store.count("ws")
    with store.connection(write=True) as db:
        if store.path is None:
            db.execute(text("UPDATE playground_schema SET version = 99"))
        else:
            db.exec_driver_sql("PRAGMA user_version = 99")
    with pytest.raises(RunStoreError, match=r"newer version of the app \(schema 99; this one reads 5\)"):
        RunStore(store_location).runs("ws")
