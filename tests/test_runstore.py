"""The run store: round trips, workspace isolation, pruning, downsampling and a damaged file. Tests taking
`store` run against SQLite and PostgreSQL (`store_location`, tests/pg_server.py); the file's own troubles
are SQLite's."""
import math
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from playground import runstore
from playground.config import TrainConfig
from playground.progress import History
from playground.runstore import RunStore, RunStoreError, default_path

ROOT = Path(__file__).resolve().parents[1]

HISTORY = History(epochs=(1, 2, 3, 4), train_loss=(1.0, 0.8, 0.6, 0.5),
                  batch_epochs=(0.5, 1.5), batch_loss=(1.1, 0.9),
                  eval_epochs=(2, 4), train_score=(0.5, 0.7), test_loss=(0.9, 0.7), test_score=(0.4, 0.6))
FINAL = {"epochs": 4, "train_loss": 0.5, "test_loss": 0.7, "test_accuracy": 0.6, "train_accuracy": None}


@pytest.fixture
def store(store_location) -> RunStore:
    return RunStore(store_location)


@pytest.fixture
def file_store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "runs.sqlite")


def save(store: RunStore, workspace: str = "ws", **changes) -> int:
    args = dict(config=TrainConfig(), history=HISTORY, final=FINAL, status="completed") | changes
    return store.save(workspace, **args)


def test_saved_run_reads_back_equal(store):
    config = TrainConfig().replace(epochs=4)
    run_id = store.save("ws", config, HISTORY, FINAL, "stopped", name="first try")
    record = store.get("ws", run_id)
    assert record.id == run_id and record.workspace == "ws"
    assert (record.name, record.status) == ("first try", "stopped")
    assert record.config == config.to_dict()
    assert TrainConfig.from_dict(record.config) == config
    assert record.history == HISTORY
    assert record.final == FINAL
    assert record.created > 0


def test_missing_final_reads_back_as_empty_dict(store):
    assert store.get("ws", save(store, final=None)).final == {}


def test_runs_are_listed_newest_first(store):
    ids = [save(store, name=f"run {i}") for i in range(3)]
    assert [r.id for r in store.runs("ws")] == ids[::-1]
    assert store.count("ws") == 3


def test_workspaces_do_not_see_each_others_runs(store):
    mine, theirs = save(store, "alice"), save(store, "bob")
    assert [r.id for r in store.runs("alice")] == [mine]
    assert store.get("alice", theirs) is None
    assert store.delete("alice", [theirs]) == 0
    store.rename("alice", theirs, "hijacked")
    assert store.get("bob", theirs).name == ""
    assert store.count("bob") == 1


def test_delete_removes_only_the_given_runs(store):
    keep, gone1, gone2 = save(store), save(store), save(store)
    assert store.delete("ws", [gone1, gone2, 9999]) == 2
    assert [r.id for r in store.runs("ws")] == [keep]
    assert store.get("ws", gone1) is None
    assert store.delete("ws", []) == 0


def test_rename_trims_and_caps_the_name(store):
    run_id = save(store)
    store.rename("ws", run_id, "  wide net  ")
    assert store.get("ws", run_id).name == "wide net"
    store.rename("ws", run_id, "x" * 200)
    assert store.get("ws", run_id).name == "x" * runstore.MAX_NAME


def test_saving_past_max_runs_drops_the_oldest_of_that_workspace(store, monkeypatch):
    monkeypatch.setattr(runstore, "MAX_RUNS", 3)
    other = save(store, "other")
    ids = [save(store) for _ in range(5)]
    assert [r.id for r in store.runs("ws")] == ids[:1:-1]
    assert store.get("other", other) is not None


def test_long_curves_are_downsampled_keeping_pairs_aligned(store, monkeypatch):
    monkeypatch.setattr(runstore, "MAX_POINTS", 10)
    n = 95
    epochs = tuple(range(1, n + 1))
    history = History(epochs=epochs, train_loss=tuple(e / 1000 for e in epochs),
                      batch_epochs=(0.5,), batch_loss=(2.0,),
                      eval_epochs=epochs, train_score=tuple(e / 100 for e in epochs),
                      test_loss=(), test_score=())  # no test split
    stored = store.get("ws", save(store, history=history)).history
    assert len(stored.epochs) == len(stored.train_loss) == 10
    assert (stored.epochs[0], stored.epochs[-1]) == (1, n)
    assert stored.train_loss == tuple(e / 1000 for e in stored.epochs)
    assert stored.train_score == tuple(e / 100 for e in stored.eval_epochs)
    assert list(stored.epochs) == sorted(set(stored.epochs))
    assert (stored.test_loss, stored.test_score) == ((), ())
    assert (stored.batch_epochs, stored.batch_loss) == ((0.5,), (2.0,))


def test_curves_of_unequal_length_are_refused(store):
    with pytest.raises(ValueError, match="test_loss has 1 values but eval_epochs has 2"):
        save(store, history=History(eval_epochs=(1, 2), train_score=(0.1, 0.2), test_loss=(0.3,)))


def test_nan_and_infinity_round_trip(store):
    history = History(epochs=(1, 2, 3), train_loss=(1.0, math.inf, math.nan))
    final = {"train_loss": math.nan, "test_loss": -math.inf, "test_accuracy": None}
    record = store.get("ws", save(store, history=history, final=final, status="diverged"))
    assert record.history.train_loss[:2] == (1.0, math.inf)
    assert math.isnan(record.history.train_loss[2])
    assert math.isnan(record.final["train_loss"]) and record.final["test_loss"] == -math.inf
    assert record.final["test_accuracy"] is None
    assert record.status == "diverged"


def test_runs_survive_a_restart(store, store_location):
    run_id = save(store, name="before restart")
    code = ("import sys; from playground.runstore import RunStore; "
            "print([(r.id, r.name, r.history.train_loss) for r in RunStore(sys.argv[1]).runs('ws')])")
    result = subprocess.run([sys.executable, "-c", code, str(store_location)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr([(run_id, "before restart", HISTORY.train_loss)])


def test_a_file_that_is_not_sqlite_raises_a_readable_error(tmp_path):
    path = tmp_path / "runs.sqlite"
    path.write_bytes(b"definitely not a database " * 200)
    with pytest.raises(RunStoreError, match="is not a SQLite database"):
        RunStore(path).runs("ws")


def test_a_folder_in_place_of_the_file_raises_a_readable_error(tmp_path):
    with pytest.raises(RunStoreError, match="is a folder, not a file"):
        RunStore(tmp_path).count("ws")


def test_a_folder_that_cannot_be_created_raises_a_readable_error(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(RunStoreError, match="cannot create the folder .*taken"):
        save(RunStore(tmp_path / "taken" / "runs.sqlite"))


def test_the_folder_and_file_are_created_on_first_use(tmp_path):
    path = tmp_path / "new" / "deeper" / "runs.sqlite"
    store = RunStore(path)
    assert not path.parent.exists()
    assert store.runs("ws") == [] and path.is_file()


def test_a_file_from_a_newer_schema_is_refused(file_store):
    save(file_store)
    with sqlite3.connect(file_store.path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(RunStoreError, match="newer version"):
        RunStore(file_store.path).runs("ws")  # a store checks the version when it opens


def test_concurrent_saves_from_eight_threads_all_land(store, store_location):
    errors = []

    def work():
        try:
            for _ in range(3):
                save(RunStore(store_location))
        except Exception as error:  # noqa: BLE001 - surfaced by the assert below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count("ws") == 24
    assert len({r.id for r in store.runs("ws")}) == 24


@pytest.mark.parametrize("workspace", ["", "a b", "x" * 65, "../etc", None])
def test_bad_workspace_names_are_refused(store, workspace):
    with pytest.raises(ValueError, match="workspace must be"):
        store.runs(workspace)


def test_default_path_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_RUNS_DB", str(tmp_path / "mine.sqlite"))
    assert default_path() == tmp_path / "mine.sqlite"
    monkeypatch.delenv("PLAYGROUND_RUNS_DB")
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / runstore.DEFAULT_FILE


@pytest.mark.parametrize("error, free, words", [
    ("database or disk is full", 10**9, "cannot be written: the server's disk is full"),
    ("disk I/O error", 0, "the server's disk is full (SQLite: disk I/O error)"),
    ("disk I/O error", 10**9, "the server's disk failed (SQLite: disk I/O error)"),
], ids=["full", "io-error-on-a-full-disk", "io-error-with-space-left"])
def test_a_full_or_failing_disk_is_named_in_plain_words(file_store, monkeypatch, error, free, words):
    import shutil
    from collections import namedtuple

    from sqlalchemy import event

    save(file_store)

    def fail(*args):
        raise sqlite3.OperationalError(error)

    monkeypatch.setattr(shutil, "disk_usage", lambda path: namedtuple("usage", "total used free")(10**12, 0, free))
    event.listen(file_store.db.engine, "before_cursor_execute", fail)
    try:
        for call in (lambda: save(file_store), lambda: file_store.runs("ws"), lambda: file_store.rename("ws", 1, "x")):
            with pytest.raises(RunStoreError) as caught:
                call()
            assert words in str(caught.value)
    finally:
        event.remove(file_store.db.engine, "before_cursor_execute", fail)


def test_a_sqlite_url_names_the_same_file_as_its_path(file_store):
    run_id = save(file_store)
    by_url = RunStore(f"sqlite:///{file_store.path}")
    assert by_url.path == file_store.path and [r.id for r in by_url.runs("ws")] == [run_id]


def test_the_server_store_is_the_database_url_when_set(monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_RUNS_DB", str(tmp_path / "mine.sqlite"))
    assert runstore.default_location() == tmp_path / "mine.sqlite"
    monkeypatch.setenv("PLAYGROUND_DB_URL", "postgresql://app@db.example/playground")
    assert runstore.default_location() == "postgresql://app@db.example/playground"
    store = RunStore(runstore.default_location())  # nothing is reached before the first operation
    assert store.path is None and store.db.url.drivername == "postgresql+psycopg"
