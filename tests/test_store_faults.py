"""The database restarting mid-class: a write waits for it (bounded retries), a read says at once that it
cannot be reached, a PostgreSQL server that comes back is used again, and the Playground keeps a run it
could not save, saying why. Against a real PostgreSQL server stopped and restarted mid-test."""
import threading

import numpy as np
import pytest

from playground import database
from playground.classroom import ClassStore
from playground.config import TrainConfig
from playground.progress import History
from playground.runstore import RunStore, RunStoreError
from playground.ui import class_session, server

HISTORY = History(epochs=(1, 2), train_loss=(1.0, 0.5))


def save(store: RunStore, name: str = "") -> int:
    return store.save("ws", TrainConfig(), HISTORY, {"epochs": 2}, "completed", name=name)


@pytest.fixture
def down(pg_server):
    """Stops the session's PostgreSQL server now; it is started again after the test whatever happens."""
    yield pg_server.stop
    pg_server.start()


@pytest.fixture
def retries(monkeypatch):
    """Each pause of a write before its next try sets the returned Event (the pause itself is kept)."""
    waited = threading.Event()
    real = database.pause
    monkeypatch.setattr(database, "pause", lambda seconds: (waited.set(), real(seconds)))
    return waited


WRITES = {  # what a student does that writes, and how to see it landed
    "save a run": (lambda classes, code: save(classes.runs, "during"),
                   lambda classes, code: [r.name for r in classes.runs.runs("ws")] == ["during", "before"]),
    "join a class": (lambda classes, code: classes.join(code, "late", "Bo"),
                     lambda classes, code: [m.name for m in classes.members(code)] == ["Ada", "Bo"]),
    "give a drawing": (lambda classes, code: classes.add_digit(code, "early", 7, np.zeros((28, 28))),
                       lambda classes, code: classes.digit_count(code) == 1),
}


@pytest.mark.parametrize("write", WRITES)
def test_a_write_started_while_the_database_is_down_lands_when_it_is_back(pg_url, pg_server, down, retries,
                                                                          monkeypatch, write):
    monkeypatch.setattr(database, "RETRY_SECONDS", 60.0)  # the window outlasts the restart even on a busy machine
    act, landed = WRITES[write]
    classes = ClassStore(RunStore(pg_url))
    save(classes.runs, "before")  # pooled connections the restart breaks
    code = classes.create("teacher").info.code
    classes.join(code, "early", "Ada")
    down()
    errors = []
    writing = threading.Thread(target=lambda: _catch(errors, lambda: act(classes, code)))
    writing.start()
    assert retries.wait(60), "the write did not retry"
    pg_server.start()
    writing.join(90)
    assert not writing.is_alive() and errors == [] and landed(classes, code)


def _catch(errors: list, call) -> None:
    try:
        call()
    except Exception as error:  # noqa: BLE001 - surfaced by the test's assert
        errors.append(error)


def test_a_save_that_outlasts_the_retries_fails_in_plain_words(pg_url, down, retries, monkeypatch):
    monkeypatch.setattr(database, "RETRY_SECONDS", 0.5)
    store = RunStore(pg_url)
    save(store)
    down()
    with pytest.raises(RunStoreError, match=r"the database 127\.0\.0\.1:\d+/t_\w+ cannot be reached") as caught:
        save(store)
    assert retries.is_set() and "is the PostgreSQL server running?" in str(caught.value)


def test_a_read_while_the_database_is_down_fails_at_once(pg_url, pg_server, down, retries):
    store, classes = RunStore(pg_url), ClassStore(RunStore(pg_url))
    save(store)
    code = classes.create("teacher").info.code
    down()
    for read in (lambda: store.runs("ws"), lambda: classes.members(code), lambda: classes.info(code)):
        with pytest.raises(RunStoreError, match="cannot be reached"):
            read()
    assert not retries.is_set()  # reads never wait
    pg_server.start()
    assert len(store.runs("ws")) == 1 and classes.info(code) is not None  # and work again once it is back


def test_a_password_in_the_url_is_never_repeated(pg_server, monkeypatch):
    monkeypatch.setattr(database, "RETRY_SECONDS", 0.0)
    store = RunStore(pg_server.url().replace("postgres@", "postgres:hunter2secret@").replace(
        f":{pg_server.port}/", ":1/"))  # nothing listens on port 1
    for call in (lambda: save(store), lambda: store.count("ws")):
        with pytest.raises(RunStoreError, match="cannot be reached") as caught:
            call()
        assert "hunter2secret" not in str(caught.value) and "127.0.0.1:1/postgres" in str(caught.value)


@pytest.mark.parametrize("change, words", [
    (lambda url: url.rsplit("/", 1)[0] + "/no_such_db", r'does not exist on the server \(.*"no_such_db"'),
    (lambda url: url.replace("postgres@", "nobody@"), r'does not exist on the server \(.*"nobody"'),
], ids=["database", "user"])
def test_a_missing_database_or_user_is_named_and_not_retried(pg_server, retries, change, words):
    store = RunStore(change(pg_server.url()))
    with pytest.raises(RunStoreError, match=words):
        save(store)
    assert not retries.is_set()


def test_the_playground_keeps_a_run_the_database_could_not_take_and_says_why(monkeypatch, open_playground,
                                                                              pg_server, request):
    monkeypatch.setattr(database, "RETRY_SECONDS", 0.2)
    unreachable = RunStore(pg_server.url().replace(f":{pg_server.port}/", ":1/"))
    monkeypatch.setattr(server, "run_store", lambda: unreachable)
    class_session.store.clear()  # the page's class store is made (and cached) on this one
    request.addfinalizer(class_session.store.clear)  # later tests get the real one again
    app = open_playground(workspace="faults-db-down")
    app.number_input(key="pg_epochs").set_value(5).run()
    app.button(key="pg_train").click().run()
    app.session_state["pg_run"].join(120)
    app.run()
    assert app.session_state["pg_run"].snapshot().status == "completed"  # the run itself is not lost
    shown = " ".join(e.value for e in [*app.success, *app.error, *app.warning, *app.info])
    assert "could not be saved for the Runs page" in shown and "cannot be reached" in shown
    assert "stays on this page" in shown and not app.exception
