"""The class board on the Class page: a teacher sees a tile per student, sorts them, opens one run large
and goes back; names show as text."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest

from playground.class_live import ClassLive
from playground.classroom import ClassStore
from playground.config import TrainConfig
from playground.frames import BoundaryFrame
from playground.progress import RUNNING, History, Snapshot
from playground.runstore import RunStore, default_path

PAGE = "pages/5_Class.py"
GRID, HEAD = '<div class="clb-grid">', '<div class="clb-head">'


class FakeHandle:
    """A running training's handle as the board reads it; counts the reads that touched it."""

    def __init__(self, config: TrainConfig, scores: list[float], grid: int = 100):
        epochs = tuple(range(1, len(scores) + 1))
        history = History(epochs=epochs, train_loss=tuple(1 - s for s in scores), eval_epochs=epochs,
                          train_score=tuple(scores), test_loss=tuple(1 - s for s in scores), test_score=tuple(scores))
        cells = np.linspace(-1, 1, grid, dtype=np.float32)
        frame = BoundaryFrame(len(scores), cells, cells, np.zeros((grid, grid), np.uint8),
                              np.full((grid, grid), 7, np.uint8))
        self.config, self.touches = config, 0
        self.snap = Snapshot(RUNNING, len(scores), config.epochs, 0.001, 50.0, history=history, frame=frame)

    def snapshot(self, touch: bool = True) -> Snapshot:
        self.touches += int(touch)
        return self.snap

    @property
    def active(self) -> bool:
        return True

    def stop(self, reason: str = "") -> None:
        pass


@pytest.fixture
def taught_class(monkeypatch):
    """A fresh class with two students, Ada (a narrower layer and Tanh: fewer parameters, 60%) and a hostile
    name (the hand-out: 90%), whose runs are in a registry the page reads; (code, secret, the handles)."""
    store = ClassStore(RunStore(default_path()))
    new = store.create("test-board-teacher", "Board")
    code = new.info.code
    ada = store.join(code, "test-board-ada", "Ada")
    eve = store.join(code, "test-board-eve", "<img src=x onerror=alert(1)>")
    handout = store.hand_out(code, new.secret, "setup", TrainConfig().to_dict())
    tanh = TrainConfig().replace(layers=({"type": "linear", "out": 50}, {"type": "tanh"}, {"type": "linear"}))
    registry = ClassLive()
    handles = {"Ada": FakeHandle(tanh, [0.4, 0.6]), "Eve": FakeHandle(TrainConfig(), [0.5, 0.9])}
    registry.report(code, ada.id, handles["Ada"], tanh.to_dict(), handout.id)
    registry.report(code, eve.id, handles["Eve"], TrainConfig().to_dict(), handout.id)
    from playground.ui import class_session

    monkeypatch.setattr(class_session, "live", lambda: registry)
    return code, new.secret, handles


def teacher_page(open_page, taught_class):
    code, secret, _ = taught_class
    app = open_page(None, workspace="test-board-teacher")
    app.session_state["ui_class_teacher"] = (code, secret)
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def shown_html(app) -> str:
    """Every HTML block on the page: st.html's and the tile grid component's."""
    grids = [json.loads(element.proto.json)["html"] for element in app.get("bidi_component")
             if element.proto.component_name == "neural_playground_tile_grid"]
    return "".join([element.value for element in app.get("html")] + grids)


def grid_html(app) -> str:
    assert GRID in shown_html(app)
    return shown_html(app)


def test_the_board_shows_a_tile_per_student_with_names_as_text_and_sorts(open_page, taught_class):
    app = teacher_page(open_page, taught_class)
    page = grid_html(app)
    assert page.count('class="clb-tile') == 2 and "Ada" in page and "ReLU → Tanh" in page
    assert page.count('role="button"') == 2  # a click on a tile opens it (tile_grid)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.index("alert(1)") < page.index("Ada")  # by accuracy: 90% first
    app.segmented_control(key="cl_board_sort").set_value("parameters").run()
    assert grid_html(app).index("Ada") < grid_html(app).index("alert(1)")  # 2-50-3 before 2-100-3
    app.segmented_control(key="cl_board_sort").set_value("loss").run()
    assert grid_html(app).index("alert(1)") < grid_html(app).index("Ada")  # 0.1 before 0.4
    assert all(handle.touches == 0 for handle in taught_class[2].values())


def test_opening_a_tile_shows_that_run_large_and_back_returns_to_the_grid(open_page, taught_class):
    app = teacher_page(open_page, taught_class)
    app.segmented_control(key="cl_board_sort").set_value("parameters").run()
    picker = app.selectbox(key="cl_board_pick")
    picker.select_index(picker.options.index("Ada")).run()
    assert not app.exception
    shown = shown_html(app)
    assert GRID not in shown and HEAD in shown and "Ada" in shown
    assert "ReLU → Tanh" in shown and "60.0" in shown
    app.button(key="cl_board_back").click().run()
    assert GRID in shown_html(app)
    assert app.selectbox(key="cl_board_pick").value is None
    assert app.segmented_control(key="cl_board_sort").value == "parameters"  # the order chosen before is kept
    assert grid_html(app).index("Ada") < grid_html(app).index("alert(1)")
    assert all(handle.touches == 0 for handle in taught_class[2].values())



def test_a_run_on_another_replica_shows_from_its_published_tile(open_page, taught_class, monkeypatch):
    """Behind a load balancer: Cy trains on another server, which published Cy's tile; an older published run
    of Ada's does not hide Ada's run here; a record that is not a tile is never drawn."""
    from playground import board_publish
    from playground.board import Tile
    from playground.ui import class_session

    code, secret, _ = taught_class
    store = ClassStore(RunStore(default_path()))
    cy = store.join(code, "test-board-cy", "Cy")
    ada = next(m for m in store.members(code) if m.name == "Ada")
    elsewhere = Tile(cy.id, "", RUNNING, 7, 50, 0.81, "accuracy", 0.2, 999, ("lr 0.03 → 0.1",), (0.5, 0.81))
    rows = [(cy.id, time.time() + 60, time.time(), board_publish.record(elsewhere)),
            (ada.id, 0.0, time.time(), board_publish.record(Tile(ada.id, "", RUNNING, 1, 50, 0.11))),
            (10**6, time.time(), time.time(), '{"not": "a tile"}')]
    monkeypatch.setattr(class_session, "db_url", lambda: "postgresql://school/playground")
    monkeypatch.setattr(ClassStore, "published_tiles", lambda self, asked: rows if asked == code else [],
                        raising=False)
    app = teacher_page(open_page, taught_class)
    page = grid_html(app)
    assert page.count('class="clb-tile') == 3 and "Cy" in page and "lr 0.03 → 0.1" in page and "81.0" in page
    assert "11.0" not in page  # Ada's older run elsewhere: her run here is shown
    picker = app.selectbox(key="cl_board_pick")
    picker.select_index(picker.options.index("Cy")).run()
    assert not app.exception and "another server" in app.info[0].value
    assert HEAD in shown_html(app) and "lr 0.03 → 0.1" in shown_html(app)


REF = "run-0123456789abcdef0123456789abcdef"


class FakeCluster:
    """A training backend that can attach: the runs it has by ref, and the refs it was asked for."""

    def __init__(self, runs: dict):
        self.runs, self.asked = runs, []

    def attach(self, ref: str):
        self.asked.append(ref)
        if ref not in self.runs:
            raise ValueError(f"Failed to look up actor with name '{ref}'.")
        return self.runs[ref]


@pytest.fixture
def cy_elsewhere(taught_class, monkeypatch):
    """Cy trains on another server of a Ray cluster, whose published record names the run (REF) and its setup;
    a record with a hostile ref for Dee. Returns (a function setting this server's backend, Cy's setup)."""
    from playground import board_publish
    from playground.board import Tile
    from playground.board_attach import Attachments
    from playground.ui import class_board_remote, class_session, server

    code = taught_class[0]
    store = ClassStore(RunStore(default_path()))
    cy, dee = store.join(code, "test-board-cy", "Cy"), store.join(code, "test-board-dee", "Dee")
    config = TrainConfig().replace(epochs=40, loss="cross_entropy")
    cy_tile = Tile(cy.id, "", RUNNING, 3, 40, 0.8, "accuracy", 0.2, 999, ("lr 0.03 → 0.1",), (0.5, 0.8))
    hostile = json.loads(board_publish.record(Tile(dee.id, "", RUNNING, 2, 50, 0.5)))
    remote = board_publish.Remote(REF, config.to_dict())
    rows = [(cy.id, time.time() + 60, time.time(), board_publish.record(cy_tile, remote)),
            (dee.id, time.time(), time.time(), json.dumps({**hostile, "ref": "<b>x</b>", "config": config.to_dict()}))]
    monkeypatch.setattr(class_session, "db_url", lambda: "postgresql://school/playground")
    monkeypatch.setattr(ClassStore, "published_tiles", lambda self, asked: rows if asked == code else [],
                        raising=False)
    kept = Attachments()
    monkeypatch.setattr(class_board_remote, "attachments", lambda: kept)
    return lambda backend: monkeypatch.setattr(server, "training_pool", lambda: backend), config


def every_proto(app) -> str:
    """Everything the page sends, as text: every element's message."""
    found, nodes = [], [app._tree]
    while nodes:
        node = nodes.pop()
        found.append(str(getattr(node, "proto", "")))
        nodes.extend(getattr(node, "children", {}).values())
    return "".join(found)


def open_large(app, name: str):
    picker = app.selectbox(key="cl_board_pick")
    picker.select_index(picker.options.index(name)).run()
    assert not app.exception
    return app


def test_a_run_on_another_server_of_the_cluster_opens_large_with_its_curves(open_page, taught_class, cy_elsewhere):
    from test_live_chart import charts

    use_backend, config = cy_elsewhere
    cluster = FakeCluster({REF: FakeHandle(config, [0.5, 0.7, 0.8])})
    use_backend(cluster)
    app = open_large(teacher_page(open_page, taught_class), "Cy")
    keys = {element_id.rsplit("-", 1)[-1] for element_id in charts(app)}
    assert {"cl_board_boundary", "cl_board_loss", "cl_board_score"} <= keys and not app.info
    assert HEAD in shown_html(app) and "lr 0.03 → 0.1" in shown_html(app) and "80.0" in shown_html(app)
    app.run()
    assert cluster.asked == [REF] and cluster.runs[REF].touches == 0  # attached once, read without touching
    assert "lr 0.03" in every_proto(app) and REF not in every_proto(app)  # the ref never reaches the page
    app.button(key="cl_board_back").click().run()
    assert GRID in shown_html(app) and REF not in grid_html(app) and "&lt;b&gt;" not in grid_html(app)


def test_a_run_the_cluster_no_longer_has_shows_its_numbers_and_a_note(open_page, taught_class, cy_elsewhere):
    from test_live_chart import charts

    use_backend, _ = cy_elsewhere
    cluster = FakeCluster({})  # the run's actor is gone: attach raises ValueError
    use_backend(cluster)
    app = open_large(teacher_page(open_page, taught_class), "Cy")
    assert "cannot be read from here just now" in app.info[0].value and not charts(app)
    assert HEAD in shown_html(app) and "80.0" in shown_html(app) and cluster.asked == [REF]


def test_a_hostile_ref_or_a_backend_that_cannot_attach_shows_the_numbers(open_page, taught_class, cy_elsewhere):
    use_backend, config = cy_elsewhere
    cluster = FakeCluster({"<b>x</b>": FakeHandle(config, [0.5])})
    use_backend(cluster)
    app = open_large(teacher_page(open_page, taught_class), "Dee")
    assert "another server" in app.info[0].value and cluster.asked == []  # the hostile ref was dropped
    use_backend(None)  # this server trains on its own pool: it cannot attach
    app.button(key="cl_board_back").click().run()
    app = open_large(app, "Cy")
    assert "another server" in app.info[0].value and cluster.asked == []
