"""AppTest of the Runs page's final boundaries, side by side, for the chosen runs that kept them."""
import json

import numpy as np
import pytest

from playground.datasets import make_dataset
from playground.frames import boundary_frame
from playground.progress import History
from playground.timeline import Timeline
from playground.ui import server
from playground.ui.runs_boundaries import MOST_SIDE_BY_SIDE
from test_app_runs import BASE

HISTORY = History(epochs=(1, 2, 3), train_loss=(1.0, 0.6, 0.3), eval_epochs=(1, 2, 3), train_score=(0.5,) * 3,
                  test_loss=(1.0, 0.6, 0.3), test_score=(0.6,) * 3)
XOR = make_dataset(BASE.dataset.name, BASE.dataset.values, BASE.dataset.test_fraction, BASE.dataset.seed)


def predict(points: np.ndarray) -> np.ndarray:
    left = 1 / (1 + np.exp(-4 * points[:, 0] * points[:, 1]))
    return np.stack([left, 1 - left], axis=1)


def save(workspace: str, name: str, accuracy: float, frames: bool = True) -> int:
    timeline = Timeline(tuple(boundary_frame(XOR, predict, e) for e in (0, 3))) if frames else None
    return server.run_store().save(workspace, BASE, HISTORY, {"epochs": 3, "test_accuracy": accuracy}, "completed",
                                   name=name, timeline=timeline)


def boundary_charts(app) -> list:
    """The boundaries' live charts (AppTest shows them as bidi components; their bytes are the payload)."""
    return [c for c in app.get("bidi_component") if "rn_boundary_" in c.proto.id]


@pytest.fixture
def workspace(request) -> str:
    return "test-" + request.node.name[-40:].replace("[", "-").replace("]", "")


def test_the_chosen_runs_final_boundaries_are_side_by_side(workspace, open_page):
    save(workspace, "old one", 0.5, frames=False)
    linear, relu = save(workspace, "linear", 0.5), save(workspace, "add ReLU", 0.95)
    app = open_page("pages/4_Runs.py", workspace=workspace)
    assert [s.value for s in app.subheader][:1] == ["Final boundaries"]
    assert len(boundary_charts(app)) == 2
    assert all(any(f"rn_boundary_{run_id}" in c.proto.id for c in boundary_charts(app)) for run_id in (linear, relu))
    for chart in boundary_charts(app):  # each with a player over the run's saved frames
        replay = json.loads(chart.proto.bytes)["replay"]
        assert replay["epochs"] == [0, 3] and replay["frames"]["shape"][0] == 2 and not replay["live"]
    titles = [m.value for m in app.markdown]
    assert "**add ReLU · test 0.9500**" in titles and "**linear · test 0.5000**" in titles
    assert any("No boundary was saved with this run" in c.value for c in app.caption)


def test_at_most_a_row_of_boundaries_is_shown(workspace, open_page):
    ids = [save(workspace, f"run {i}", 0.5 + i / 100) for i in range(MOST_SIDE_BY_SIDE + 1)]
    app = open_page("pages/4_Runs.py", workspace=workspace)
    app.multiselect(key="rn_pick").set_value(ids[::-1]).run()
    assert not app.exception
    assert len(boundary_charts(app)) == MOST_SIDE_BY_SIDE
    assert any(f"The first {MOST_SIDE_BY_SIDE} of the {MOST_SIDE_BY_SIDE + 1}" in c.value for c in app.caption)


def test_no_boundaries_without_a_picture(workspace, open_page):
    digits = BASE.replace(dataset=BASE.dataset.__class__(name="digits"))
    server.run_store().save(workspace, digits, HISTORY, {"epochs": 3, "test_accuracy": 0.9}, "completed")
    app = open_page("pages/4_Runs.py", workspace=workspace)
    assert "Final boundaries" not in [s.value for s in app.subheader]
