"""Saved runs keep a lesson's prediction: a small JSON column; files from before it gain it and keep their runs."""
import sqlite3

import pytest

from playground import runstore
from playground.config import TrainConfig
from playground.progress import History
from playground.runstore import RunStore
from playground.schema import runs

HISTORY = History(epochs=(1, 2), train_loss=(1.0, 0.5))
FINAL = {"epochs": 2, "test_accuracy": 0.5}
PREDICTION = {"lesson": "spiral-linear", "choice": 2, "answer": "about 95%", "expected": "about 50%"}
SCHEMA_2 = """
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT NOT NULL, created REAL NOT NULL,
    name TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, config TEXT NOT NULL, history TEXT NOT NULL,
    final TEXT NOT NULL, timeline BLOB);
CREATE INDEX runs_by_workspace ON runs (workspace, id);
PRAGMA user_version = 2;
"""


@pytest.fixture
def store(store_location) -> RunStore:
    return RunStore(store_location)  # SQLite, then PostgreSQL


def test_a_run_keeps_its_prediction(store):
    run_id = store.save("ws", TrainConfig(), HISTORY, FINAL, "completed", prediction=PREDICTION)
    plain = store.save("ws", TrainConfig(), HISTORY, FINAL, "completed")
    assert store.get("ws", run_id).prediction == PREDICTION and store.runs("ws")[1].prediction == PREDICTION
    assert store.get("ws", plain).prediction is None


@pytest.mark.parametrize("bad", ["about 95%", ["a"], 3])
def test_a_prediction_that_is_not_a_dict_is_refused(store, bad):
    with pytest.raises(ValueError, match="prediction must be a dict"):
        store.save("ws", TrainConfig(), HISTORY, FINAL, "completed", prediction=bad)
    assert store.count("ws") == 0


def test_an_oversized_prediction_is_refused(store):
    with pytest.raises(ValueError, match="at most 2,000"):
        store.save("ws", TrainConfig(), HISTORY, FINAL, "completed", prediction={"answer": "x" * 5000})


@pytest.mark.parametrize("stored", ["{not json", "[1, 2]", "\"text\""])
def test_a_damaged_prediction_leaves_the_run_readable(store, stored):
    run_id = store.save("ws", TrainConfig(), HISTORY, FINAL, "completed", prediction=PREDICTION)
    with store.connection(write=True) as db:
        db.execute(runs.update().where(runs.c.id == run_id).values(prediction=stored))
    assert store.get("ws", run_id).prediction is None and store.runs("ws")[0].final == FINAL


def test_a_file_from_before_predictions_gains_the_column_and_keeps_its_runs(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA_2)
        db.execute("INSERT INTO runs (workspace, created, name, status, config, history, final) "
                   "VALUES ('ws', 1.0, 'old', 'completed', '{}', '{\"epochs\": [1]}', '{}')")
    store = RunStore(path)
    (old,) = store.runs("ws")
    assert (old.name, old.prediction) == ("old", None)
    new = store.save("ws", TrainConfig(), HISTORY, FINAL, "completed", prediction=PREDICTION)
    assert store.get("ws", new).prediction == PREDICTION
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == runstore.SCHEMA_VERSION == 5  # and the class tables
