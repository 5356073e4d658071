"""The server's background warm-up (torch, the training pool, the default digit model): neither the home
page's path nor the Playground's imports torch (the Playground's plan and budget are arithmetic, so Train
is ready before torch is), the warm-up starts once per process however many sessions ask at once, and
pages work while it is still running (the home page says PyTorch is starting; a run waits for it)."""
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from playground.ui import server

ROOT = Path(__file__).resolve().parents[1]
PLAYGROUND = "pages/1_Playground.py"  # as conftest's (importing conftest by name finds tests/e2e's in a full run)

# Runs the home page in a fresh interpreter with the background warm-up replaced by a recorder, so
# whatever imports torch there is the page itself.
HOME_WITHOUT_WARM_UP = """
import json, sys
from streamlit.testing.v1 import AppTest
from playground.ui import server
started = []
server.start_warm_up = lambda: started.append(True)
at = AppTest.from_file("app.py", default_timeout=120).run()
print(json.dumps({"exception": [e.value for e in at.exception], "started": started, "torch": "torch" in sys.modules,
                  "title": at.title[0].value, "boxes": [box.value for box in at.info]}))
"""

# Opens the Playground (after the home page, as a browser session does) in a fresh interpreter with both
# warm-ups replaced by recorders: whatever imports torch there is the page itself.
PLAYGROUND_WITHOUT_WARM_UP = """
import json, sys
from streamlit.testing.v1 import AppTest
from playground.ui import server
started, waited = [], []
server.start_warm_up = lambda: started.append(True)
server.warm_up = lambda: waited.append(True)
at = AppTest.from_file("app.py", default_timeout=120)
at.query_params.update(json.loads(sys.argv[1]))
at.run()
at.switch_page("pages/1_Playground.py").run()
print(json.dumps({"exception": [e.value for e in at.exception], "started": started, "waited": waited,
                  "torch": "torch" in sys.modules, "title": at.title[0].value,
                  "train_disabled": at.button(key="pg_train").disabled, "errors": [e.value for e in at.error],
                  "devices": at.selectbox(key="pg_device").options}))
"""


def run_without_warm_up(code: str, *args: str) -> dict:
    # Offline, as the cold-start benchmark: an online server downloads MNIST with torchvision (and torch).
    env = {**os.environ, "PLAYGROUND_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("params", [{}, {"lesson": "residual"}, {"lesson": "coffee"}])
def test_the_playground_shows_train_without_importing_torch(params):
    seen = run_without_warm_up(PLAYGROUND_WITHOUT_WARM_UP, json.dumps(params))
    assert seen["exception"] == [] and seen["errors"] == [] and seen["title"] == "Playground"
    assert seen["started"] and seen["waited"] == []  # the warm-up started in the background; nothing waited
    assert seen["train_disabled"] is False  # the plan and the budget check were ready ...
    assert seen["torch"] is False  # ... without torch
    assert seen["devices"] == ["auto", "cpu"]  # torch has not listed the devices yet


def test_the_device_choices_keep_a_links_device_until_torch_lists_them(monkeypatch):
    monkeypatch.setattr(server, "_devices", [])
    assert server.device_choices("cuda") == ["auto", "cpu", "cuda"]
    assert server.device_choices("auto") == ["auto", "cpu"]
    monkeypatch.setattr(server, "_devices", [["cpu"]])
    assert server.device_choices("cuda") == ["auto", "cpu"]


def test_the_home_page_imports_no_torch():
    seen = run_without_warm_up(HOME_WITHOUT_WARM_UP)
    assert seen["exception"] == [] and seen["title"] == "Neural Playground"
    assert seen["started"] == [True]  # the page started the warm-up (here: the recorder) ...
    assert seen["torch"] is False  # ... and imported no torch itself
    assert any("starting up in the background" in box for box in seen["boxes"])


def test_the_warm_up_starts_once_however_many_sessions_ask_at_once(monkeypatch):
    calls, release = [], threading.Event()
    monkeypatch.setattr(server, "_warm_up_threads", [])
    monkeypatch.setattr(server, "_warm_up_everything", lambda: (calls.append(True), release.wait(30)))
    together, started = threading.Barrier(8), []

    def ask() -> None:
        together.wait()
        started.append(server.start_warm_up())

    askers = [threading.Thread(target=ask) for _ in range(8)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join(30)
    assert len(started) == 8 and len(set(started)) == 1  # every session got the same, running, thread
    assert started[0].is_alive() and started[0].daemon  # a server shutting down does not wait for it
    release.set()
    started[0].join(30)
    assert calls == [True]


def test_the_home_page_says_pytorch_is_starting_then_names_the_device(monkeypatch, open_page):
    monkeypatch.setattr(server, "_warm_up_threads", [threading.Thread()])  # "started": nothing warms up
    monkeypatch.setattr(server, "_device", [])
    app = open_page()
    assert not app.exception and app.title[0].value == "Neural Playground"
    assert [box.value for box in app.info if "Training runs on" in box.value] == [
        "Training runs on this server with PyTorch, which is starting up in the background…"]
    server._device.append("CPU (1 threads)")  # the warm-up got there; the box's check reruns the page
    app.run()
    assert not app.exception
    named = [box.value for box in app.info if "Training runs on" in box.value]
    assert named == ["Training runs on **CPU (1 threads)**."]


def test_the_home_page_says_so_when_pytorch_could_not_start(monkeypatch, open_page):
    monkeypatch.setattr(server, "_warm_up_threads", [threading.Thread()])
    monkeypatch.setattr(server, "_device", [])
    monkeypatch.setattr(server, "_problems", ["the PyTorch warm-up failed (ImportError)"])
    app = open_page()
    assert not app.exception and not [box for box in app.info if "Training runs on" in box.value]
    assert [box.value for box in app.warning] == [
        "PyTorch could not start on this server: the PyTorch warm-up failed (ImportError). The server's log says why."]


def test_a_playground_opened_while_torch_warms_up_shows_train_and_a_run_waits_for_the_warm_up(monkeypatch, open_page):
    """The page renders Train without waiting for torch; pressing it waits for the background thread's
    warm-up (one warm-up, no second), then the run starts."""
    import playground.engine

    warm_ups, release = [], threading.Event()
    real = playground.engine.warm_up
    monkeypatch.setattr(playground.engine, "warm_up", lambda: (warm_ups.append(True), release.wait(60), real()))
    monkeypatch.setattr(server, "_warm_up_threads", [])
    monkeypatch.setattr(server, "_device", [])
    monkeypatch.setattr(server, "_devices", [])
    monkeypatch.setattr(server, "WARM_UP_DELAY_SECONDS", 0.0)  # the background thread usually gets there first
    server.warm_up.clear()
    try:
        app = open_page(PLAYGROUND)
        assert not app.exception and app.title[0].value == "Playground"
        assert not app.button(key="pg_train").disabled and server.device() is None  # Train before torch
        threading.Timer(1.0, release.set).start()  # the background warm-up finishes a second later
        app.button(key="pg_train").click().run()
    finally:
        release.set()
        server._warm_up_threads[0].join(60)  # the pool and the default model came next
        server.warm_up.clear()  # its device went to this test's `_device`: the next caller warms up again
    assert not app.exception and warm_ups == [True] and server.device() is not None
    assert app.session_state["pg_run"] is not None  # the run started once torch was ready
