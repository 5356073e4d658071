"""AppTest of the Runs page: saved runs listed per workspace, overlaid, compared, renamed and deleted."""
import sqlite3

import pytest
from streamlit.testing.v1 import AppTest

from playground.config import TrainConfig
from playground.progress import History
from playground.runstore import RunStore
from playground.ui import server

BASE = TrainConfig.from_dict({"dataset": {"name": "xor", "n_samples": 40}, "epochs": 3})


def history(losses) -> History:
    epochs = tuple(range(1, len(losses) + 1))
    return History(epochs=epochs, train_loss=tuple(losses), eval_epochs=epochs, train_score=(0.5,) * len(losses),
                   test_loss=tuple(losses), test_score=(0.6,) * len(losses))


@pytest.fixture
def workspace(request) -> str:
    return "test-" + request.node.name[-40:].replace("[", "-").replace("]", "")


@pytest.fixture
def open_runs(open_page):
    """`open_runs(workspace)`: the Runs page of a new session in that workspace."""
    return lambda workspace: open_page("pages/4_Runs.py", workspace=workspace)


def save(workspace: str, lr: float, name: str = "") -> int:
    config = BASE.replace(optimizer=BASE.optimizer.__class__(name="adam", lr=lr))
    return server.run_store().save(workspace, config, history([1.0, 0.5 * lr * 100, 0.2]),
                                   {"epochs": 3, "test_accuracy": 0.75}, "completed", name=name)


def test_an_empty_workspace_says_how_to_get_runs(workspace, open_runs):
    app = open_runs(workspace)
    assert any("No saved runs yet" in i.value for i in app.info)


def test_runs_are_listed_overlaid_and_their_differences_shown(workspace, open_runs):
    first, second = save(workspace, 0.001), save(workspace, 0.01, name="faster")
    app = open_runs(workspace)
    assert app.multiselect(key="rn_pick").value == [second, first]  # newest first
    table = app.dataframe[0].value.to_dict("records")
    assert [row["name"] for row in table] == ["faster", f"Run {first}"]
    assert len(app.get("plotly_chart")) == 2
    differences = app.dataframe[1].value.to_dict("records")
    assert [row["setting"] for row in differences] == ["optimizer.lr"]


def test_another_workspace_sees_none_of_them(workspace, open_runs):
    save(workspace, 0.001)
    app = open_runs(workspace + "-other")
    assert any("No saved runs yet" in i.value for i in app.info)


def test_identical_settings_say_so(workspace, open_runs):
    save(workspace, 0.001), save(workspace, 0.001)
    app = open_runs(workspace)
    assert any("same settings" in c.value for c in app.caption)


def test_rename_and_delete(workspace, open_runs):
    run_id = save(workspace, 0.001)
    save(workspace, 0.01)
    app = open_runs(workspace)
    app.multiselect(key="rn_pick").set_value([run_id]).run()
    app.text_input(key=f"rn_name_{run_id}").input("baseline").run()
    assert server.run_store().get(workspace, run_id).name == "baseline"
    app.button(key="rn_delete").click().run()
    assert server.run_store().get(workspace, run_id) is None and server.run_store().count(workspace) == 1
    assert any("Deleted 1 run" in s.value for s in app.success) and not app.exception


def test_a_damaged_runs_file_is_reported_not_raised(workspace, tmp_path, monkeypatch, open_runs):
    damaged = tmp_path / "runs.sqlite"
    damaged.write_bytes(b"this is not a database" * 100)
    monkeypatch.setattr(server, "run_store", lambda: RunStore(damaged))
    app = open_runs(workspace)
    assert any("saved runs cannot be read" in e.value for e in app.error) and not app.exception


@pytest.fixture
def train_in_playground(open_playground):
    """`train_in_playground(workspace, epochs=20)`: the Playground after a run of `epochs` epochs finished in it."""
    def train(workspace: str, epochs: int = 20) -> AppTest:
        app = open_playground(workspace=workspace)
        app.number_input(key="pg_epochs").set_value(epochs).run()
        app.button(key="pg_train").click().run()
        app.session_state["pg_run"].join(120)
        app.run()
        return app
    return train


def test_a_finished_playground_run_is_saved_to_the_workspace(workspace, train_in_playground):
    train_in_playground(workspace)
    records = server.run_store().runs(workspace)
    assert len(records) == 1 and records[0].status == "completed" and records[0].history.epochs[-1] == 20
    assert TrainConfig.from_dict(records[0].config).epochs == 20


# --- a full disk -----------------------------------------------------------------------------------

WRITES = ("BEGIN IMMEDIATE", "INSERT", "UPDATE", "DELETE")  # what a SQLite writer sends (reads BEGIN deferred)


@pytest.fixture
def full_disk():
    """Call with (error, reads_too) to make the server's runs file fail from then on, as SQLite reports a
    disk that filled up: writes fail (reads too if asked)."""
    from sqlalchemy import event

    hooks = []

    def fill(error: str = "database or disk is full", reads_too: bool = False) -> None:
        def fail(conn, cursor, statement, *args):
            if reads_too or statement.lstrip().upper().startswith(WRITES):
                raise sqlite3.OperationalError(error)
        engine = server.run_store().db.engine
        event.listen(engine, "before_cursor_execute", fail)
        hooks.append((engine, fail))
    yield fill
    for engine, fail in hooks:
        event.remove(engine, "before_cursor_execute", fail)


def test_a_runs_file_on_a_failing_disk_is_reported_on_the_runs_page(workspace, full_disk, open_runs):
    save(workspace, 0.001)
    full_disk("disk I/O error", reads_too=True)
    app = open_runs(workspace)
    message = " ".join(e.value for e in app.error)
    assert "saved runs cannot be read right now" in message and "(SQLite: disk I/O error)" in message
    assert "try again later" in message and not app.exception


def test_renaming_or_deleting_on_a_full_disk_says_so_and_changes_nothing(workspace, full_disk, open_runs):
    run_id = save(workspace, 0.001, name="kept")
    app = open_runs(workspace)
    app.multiselect(key="rn_pick").set_value([run_id]).run()
    full_disk()
    app.text_input(key=f"rn_name_{run_id}").input("new name").run()
    assert any("Renaming the run did not work" in e.value and "the server's disk is full" in e.value
               for e in app.error) and not app.exception
    app.button(key="rn_delete").click().run()
    assert any("Deleting did not work" in e.value for e in app.error) and not app.exception
    assert [r.name for r in server.run_store().runs(workspace)] == ["kept"]


def test_a_playground_run_that_cannot_be_saved_says_why_and_stays_on_the_page(workspace, full_disk,
                                                                              train_in_playground):
    full_disk()
    app = train_in_playground(workspace)
    snap = app.session_state["pg_run"].snapshot()
    assert snap.status == "completed" and snap.history.epochs[-1] == 20  # the run itself is not lost
    shown = " ".join(e.value for e in [*app.success, *app.error, *app.warning, *app.info])
    assert "could not be saved for the Runs page" in shown and "the server's disk is full" in shown
    assert "stays on this page" in shown and not app.exception
