"""The server's background warm-up (torch, the training pool, the default digit model): the home page's
path imports no torch, the warm-up starts once per process however many sessions ask at once, and pages
work while it is still running (the home page says PyTorch is starting; the Playground waits for it)."""
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

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


def test_the_home_page_imports_no_torch():
    result = subprocess.run([sys.executable, "-c", HOME_WITHOUT_WARM_UP], cwd=ROOT, env=dict(os.environ),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
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


def test_a_playground_opened_while_torch_warms_up_waits_for_that_warm_up(monkeypatch, open_page):
    """The page's `server.warm_up()` waits for the background thread's (one warm-up, no second), then renders."""
    import playground.engine

    warm_ups, release = [], threading.Event()
    real = playground.engine.warm_up
    monkeypatch.setattr(playground.engine, "warm_up", lambda: (warm_ups.append(True), release.wait(30), real()))
    monkeypatch.setattr(server, "_warm_up_threads", [])
    monkeypatch.setattr(server, "_device", [])
    monkeypatch.setattr(server, "WARM_UP_DELAY_SECONDS", 0.0)  # the background thread usually gets there first
    server.warm_up.clear()
    threading.Timer(1.0, release.set).start()  # the background warm-up takes a second
    try:
        app = open_page(PLAYGROUND)
    finally:
        release.set()
        server._warm_up_threads[0].join(60)  # the pool and the default model came next
        server.warm_up.clear()  # its device went to this test's `_device`: the next caller warms up again
    assert not app.exception and app.title[0].value == "Playground"
    assert warm_ups == [True] and server.device() is not None
    assert app.button(key="pg_train") is not None
