"""AppTest of the Playground with the training pool switched on (the other page tests train on threads):
a run goes to a worker process, a second student waits in line and sees their place, Stop frees the
worker, and the pooled run ends with the same numbers as the same run on a thread. Also the limits a
classroom server puts on runs as the page shows them: the compute budget, one run per browser, and the
model download made only when clicked.
"""
import time

import pytest

from playground import share
from playground.config import TrainConfig
from playground.pool import PooledRunner
from playground.progress import COMPLETED, REPLACED, RUNNING, STOPPED
from playground.runner import TrainingRunner
from playground.ui import server, workspace
from test_app_playground_share import XOR  # tests/ is on sys.path
from test_live_chart import charts

ENDLESS = TrainConfig.from_dict({"dataset": {"name": "spiral"}, "epochs": 100_000})


@pytest.fixture
def pooled(monkeypatch):
    """One worker process for the pages of this test; closed and forgotten afterwards."""
    monkeypatch.setenv("PLAYGROUND_WORKERS", "1")
    monkeypatch.setenv("PLAYGROUND_ABANDONED_SECONDS", "120")  # AppTest pages do not poll while queued
    monkeypatch.setenv("PLAYGROUND_LIVE_RUNS", "4")  # room for students to watch one computation
    server.training_pool.clear()
    runs = []
    yield runs.append  # a test hands over one of its runs, whose pool is then closed
    for run in runs[:1]:
        run.pool.close()
    server.training_pool.clear()  # the next page test gets threads again (PLAYGROUND_WORKERS=0)


def badge(app) -> str:
    return next(m.value for m in app.markdown if "-badge[" in m.value)


def wait_until(condition, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def test_a_second_student_waits_in_line_then_trains_in_the_pool(pooled, monkeypatch, open_playground):
    monkeypatch.setattr(workspace, "current", lambda: "browser-a")  # not the same browser...
    first = open_playground(share.to_query(ENDLESS))
    first.session_state["pg_pace"] = "fast"  # a fast run has its worker to itself (a watched one would share it)
    first.button(key="pg_train").click().run()
    run = first.session_state["pg_run"]
    pooled(run)
    assert isinstance(run, PooledRunner) and run.pace == "fast"
    wait_until(lambda: run.snapshot().status == RUNNING, "the first run to start")

    monkeypatch.setattr(workspace, "current", lambda: "browser-b")  # ... as the second student
    second = open_playground(share.to_query(XOR))
    second.button(key="pg_train").click().run()
    assert ":violet-badge[Queued]" in badge(second)
    assert [i.value for i in second.info] == [
        "Waiting for a free training slot: you are next. The server's training worker is busy with other "
        "trainings; yours starts by itself."]
    assert any("pg_boundary" in key for key in charts(second))  # the data while it waits, not a blank area
    assert any("starts by itself as soon as the server has room" in c.value for c in second.caption)

    first.button(key="pg_stop").click().run()  # Stop frees the worker for the one waiting
    second.session_state["pg_run"].join(120)
    second.run()
    assert ":green-badge[Completed]" in badge(second)
    on_a_thread = TrainingRunner(XOR).start()
    on_a_thread.join()
    final = second.session_state["pg_run"].snapshot().final
    assert final["test_accuracy"] == on_a_thread.snapshot().final["test_accuracy"]
    assert final["train_loss"] == on_a_thread.snapshot().final["train_loss"]
    first.run()
    assert ":gray-badge[Stopped]" in badge(first)
    assert not first.exception and not second.exception


ATTACK = TrainConfig.from_dict({"dataset": {"name": "spiral", "classes": 10, "n_per_class": 5000},
                                "layers": [{"type": "linear", "out": 2000}, {"type": "relu"},
                                           {"type": "linear", "out": 2000}, {"type": "relu"}, {"type": "linear"}],
                                "batch_size": 1024, "epochs": 100_000})


def test_a_link_to_a_weeks_long_run_is_refused_before_train_with_the_estimate(open_playground):
    app = open_playground(share.to_query(ATTACK))
    errors = [e.value for e in app.error]  # under Model, and again beside the disabled Train button
    assert len(errors) == 2 and errors[0] == errors[1]
    assert errors[0].startswith("This run would take about ") and "days on this server" in errors[0]
    assert "at most 30 minutes here" in errors[0] and "fewer epochs" in errors[0]
    assert app.button(key="pg_train").disabled
    assert app.session_state["pg_run"] is None if "pg_run" in app.session_state else True
    assert not app.exception


def test_a_second_tab_of_the_same_browser_replaces_its_first_run(monkeypatch, open_playground):
    monkeypatch.setattr(workspace, "current", lambda: "onebrowser")
    first = open_playground(share.to_query(ENDLESS))
    first.button(key="pg_train").click().run()
    run = first.session_state["pg_run"]
    wait_until(lambda: run.snapshot().status == RUNNING, "the first run to start")
    second = open_playground(share.to_query(XOR))
    second.button(key="pg_train").click().run()
    run.join(60)
    assert run.snapshot().status == STOPPED and run.snapshot().message == REPLACED
    first.run()
    shown = [element.value for element in (*first.info, *first.warning, *first.markdown, *first.caption)]
    assert any(REPLACED in text for text in shown), shown
    second.session_state["pg_run"].join(60)
    assert second.session_state["pg_run"].snapshot().status == COMPLETED


def test_the_model_download_is_made_only_when_clicked(monkeypatch, open_playground):
    made = []
    monkeypatch.setattr("playground.checkpoint.checkpoint_bytes", lambda *args: made.append(args) or b"model")
    app = open_playground(share.to_query(XOR))
    app.button(key="pg_train").click().run()
    app.session_state["pg_run"].join(60)
    app.run()
    app.run()
    assert app.get("download_button") and made == []  # shown on every rerun, made on none


def test_students_pressing_train_on_the_same_setup_watch_one_computation_until_one_steers(
        pooled, monkeypatch, open_playground):
    long_xor = XOR.replace(epochs=100_000)
    monkeypatch.setattr(workspace, "current", lambda: "browser-a")
    first = open_playground(share.to_query(long_xor))
    first.button(key="pg_train").click().run()
    pooled(first.session_state["pg_run"])
    monkeypatch.setattr(workspace, "current", lambda: "browser-b")
    second = open_playground(share.to_query(long_xor))
    second.button(key="pg_train").click().run()
    a, b = first.session_state["pg_run"], second.session_state["pg_run"]
    assert b._leader is a  # one computation, two live views
    wait_until(lambda: b.snapshot().epoch > 0, "the shared run to train")
    second.run()
    assert "[Running]" in badge(second)
    second.button(key="pg_pause").click().run()  # the second student's run becomes their own, paused
    wait_until(lambda: b._leader is None and b.snapshot().status == "paused", "the fork to pause")
    assert a.snapshot().status == RUNNING
    for app in (first, second):
        app.button(key="pg_stop").click().run()
    for run in (a, b):
        run.join(120)
    assert a.snapshot().status == b.snapshot().status == STOPPED
    assert not first.exception and not second.exception
