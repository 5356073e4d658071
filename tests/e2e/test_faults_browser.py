"""Faults a classroom server must survive, in a real browser: a student closing the tab while their
run trains, and the server restarting mid-training (its saved runs listed, and deleted, afterwards).
Each test starts its own server (one training worker, so the queue shows; a short watchdog) on its
own runs file, which is read directly to check that nothing saved is lost. Waits are Playwright
`expect`s or bounded polls of the runs file."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from harness import (
    TEST_S,
    TRAIN_S,
    Server,
    alert,
    assert_no_exception,
    badge,
    button,
    column,
    connect,
    free_port,
    fresh_page,
    keyed,
    metric,
    new_person,
    open_playground,
    open_popover,
    runs_table_of,
    train_to_completion,
    wait_for_saved_runs,
    workspace_of,
)
from playground.runstore import RunStore

pytestmark = [pytest.mark.browser, pytest.mark.timeout(TEST_S)]

# The watchdog of these servers: a run nobody has watched for this long stops. At 4 s a busy machine's
# slow polls tripped it while the first student was still watching (their run ended, nobody queued).
IDLE_S = 15
QUICK = "/Playground?dataset.name=xor&dataset.n_samples=40&layers=linear&epochs=20"
ENDLESS = "/Playground?dataset.name=spiral&epochs=100000"  # trains until something stops it


def start_server(tmp_path: Path, workers: str) -> Server:
    env = {**os.environ, "PLAYGROUND_RUNS_DB": str(tmp_path / "runs.sqlite"), "PLAYGROUND_OFFLINE": "1",
           "PLAYGROUND_IDLE_SECONDS": str(IDLE_S)}
    return Server(free_port(), env, tmp_path / "server.log", workers=workers).start()


def test_a_closed_tab_stops_its_training_and_frees_the_worker(browser: Browser, tmp_path: Path):
    """One worker: the second student waits in line until the first closes their tab mid-run."""
    server, store = start_server(tmp_path, workers="1"), RunStore(tmp_path / "runs.sqlite")
    try:
        first = new_person(browser, server.url)
        open_playground(first, ENDLESS)
        keyed(first, "pg_pace").get_by_text("Fast").click()  # a fast run has the worker to itself
        expect(first.locator("[data-testid='stStatusWidget']")).to_have_count(0)
        button(first, "pg_train").click()
        expect(badge(first)).to_have_text("Running")
        workspace = workspace_of(first)
        with fresh_page(browser, server.url) as second:
            open_playground(second, QUICK)
            button(second, "pg_train").click()
            expect(badge(second)).to_have_text("Queued")
            expect(alert(second, "Info", "Waiting for a free training slot: you are next.")).to_be_visible()
            first.context.close()  # the first student closes the browser mid-training
            expect(badge(second)).to_have_text("Completed", timeout=TRAIN_S * 1000)  # the watchdog freed the worker
            assert_no_exception(second)
        runs = wait_for_saved_runs(store, workspace, 1)
        assert [run.status for run in runs] == ["stopped"]  # what the closed tab trained is kept
        assert runs[0].history.epochs and runs[0].final["test_accuracy"] is not None
    finally:
        server.stop()


def test_a_server_restart_mid_training_loses_no_saved_run(browser: Browser, tmp_path: Path):
    """A finished run and one cut short by the restart are both on the Runs page afterwards; the
    restarted server trains again, and its Runs page deletes what it lists."""
    server, store = start_server(tmp_path, workers="2"), RunStore(tmp_path / "runs.sqlite")
    try:
        with fresh_page(browser, server.url) as person:
            open_playground(person, QUICK)
            train_to_completion(person)
            accuracy = metric(person, "Test accuracy").inner_text()
            workspace = workspace_of(person)
            assert len(wait_for_saved_runs(store, workspace, 1)) == 1
            connect(person, "/Runs", "Runs")
            expect(column(runs_table_of(person), "status")).to_have_text(["completed"])
            open_playground(person, ENDLESS)
            button(person, "pg_train").click()
            expect(badge(person)).to_have_text("Running")
            server.stop()  # SIGTERM, as a restart does: the run in progress is stopped and saved
            saved = {run.status: run for run in store.runs(workspace)}
            assert set(saved) == {"completed", "stopped"}
            assert f"{saved['completed'].final['test_accuracy']:.4f}" == accuracy  # intact
            server.start()
            connect(person, "/Runs", "Runs")
            runs_table = runs_table_of(person)
            expect(column(runs_table, "status")).to_have_text(["stopped", "completed"])  # newest first
            expect(column(runs_table, "dataset")).to_have_text(["Spiral", "XOR"])
            expect(column(runs_table, "model").nth(1)).to_have_text("Linear")
            expect(column(runs_table, "epochs").nth(1)).to_have_text("20")
            expect(keyed(person, "rn_pick").locator("[data-tag]").filter(has_text="#1 · Linear")).to_have_count(1)
            expect(keyed(person, "rn_loss").locator(".main-svg").first).to_be_visible()

            with fresh_page(browser, server.url) as classmate:  # an address with the old ws= hands out nothing
                connect(classmate, f"/Runs?ws={workspace}", "Runs")
                expect(alert(classmate, "Info", "No saved runs yet")).to_be_visible()
                assert "ws=" not in classmate.url and workspace_of(classmate) != workspace

            open_playground(person, QUICK)  # the restarted server trains again
            train_to_completion(person)
            assert_no_exception(person)
            assert len(wait_for_saved_runs(store, workspace, 3)) == 3
            connect(person, "/Runs", "Runs")
            manage = person.locator(".st-key-rn_manage")
            manage.get_by_text("Open, rename or delete").click()
            manage.evaluate("e => e.scrollIntoView({block: 'start'})")  # room below for the popover's Delete
            open_popover(person, re.compile("Delete 3 runs"), "Deleted runs cannot be brought back.")
            button(person, "rn_delete").click()
            expect(alert(person, "Success", "Deleted 3 runs.")).to_be_visible()
            expect(alert(person, "Info", "No saved runs yet")).to_be_visible()
            assert_no_exception(person)
        assert store.runs(workspace) == []
    finally:
        server.stop()
