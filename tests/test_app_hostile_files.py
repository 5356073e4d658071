"""AppTest of hostile files on the Playground and Draw pages (issue 13): a zip-bomb checkpoint,
checkpoints whose metadata has the wrong types, config files nested thousands of levels deep or
holding 5,000-digit numbers, a config saved with a byte order mark, and a link of 1,596 layers.
Each is refused with a message naming the problem (or, for the BOM, simply read), without an
exception and without the memory the file would expand into.
"""
import io
import json
from types import SimpleNamespace

import pytest
import torch

from app_popovers import open_popover
from playground import share
from playground.checkpoint import FORMAT, VERSION, LoadedModel
from playground.config import TrainConfig
from playground.engine import Engine
from playground.ui import server
from test_app_faults import PLAYGROUND, XOR, page_config, texts
from test_checkpoint import bomb_bytes, peak_rss_growth_mib

DIGITS = TrainConfig.from_dict({"dataset": {"name": "digits", "train_images": 50, "test_images": 20},
                                "layers": [{"type": "flatten"}, {"type": "linear"}], "epochs": 1, "device": "cpu"})


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return bomb_bytes(Engine(XOR))


def payload(config: TrainConfig, **changes) -> bytes:
    """A checkpoint of `config`'s untrained model with some of its fields replaced."""
    fields = {"format": FORMAT, "version": VERSION, "config": config.to_json(), "class_names": [], "metrics": {},
              "state_dict": Engine(config).model.state_dict(), **changes}
    buffer = io.BytesIO()
    torch.save(fields, buffer)
    return buffer.getvalue()


def upload_model(app, data: bytes, key: str = "pg_upload_model") -> float:
    """Upload `data` as a .pt file; how far it raised this process's peak memory (MiB)."""
    return peak_rss_growth_mib(lambda: app.file_uploader(key=key).set_value(
        ("model.pt", data, "application/octet-stream")).run())


# --- the Playground -------------------------------------------------------------------------------

def test_a_zip_bomb_model_is_refused_on_the_playground_without_the_memory(open_page, workspace, bomb):
    app = open_page(PLAYGROUND, share.to_query(XOR), workspace=workspace)
    growth = upload_model(app, bomb)
    assert "That model was not loaded: refused: the entry" in texts(app.error) and "is compressed" in texts(app.error)
    assert growth < 100, f"the upload raised peak memory by {growth:.0f} MiB"
    assert page_config(app) == XOR and not app.exception


@pytest.mark.parametrize("changes, words", [
    ({"metrics": {"test_accuracy": "99%"}}, "metrics: 'test_accuracy' must name a number, got str"),
    ({"class_names": [0, 1]}, "class_names must be a list of text labels"),
    ({"class_names": ["only one"]}, "class_names has 1 names but the model has 2 classes"),
], ids=["text-metric", "int-names", "too-few-names"])
def test_a_model_with_bad_metadata_is_refused_naming_the_field(open_page, workspace, changes, words):
    app = open_page(PLAYGROUND, share.to_query(XOR), workspace=workspace)
    upload_model(app, payload(XOR, **changes))
    assert f"That model was not loaded: checkpoint field {words}" in texts(app.error)
    app.run()  # a rerun shows the same message, no "Unknown format code"
    assert not app.exception and page_config(app) == XOR


@pytest.mark.parametrize("text, words", [
    ('{"epochs": ' + "[" * 2000 + "]" * 2000 + "}", "config: is nested too deeply"),
    ('{"epochs": ' + "9" * 5000 + "}", "epochs: must be between 1 and 100000, got a 5,000-digit number"),
], ids=["nested-2000", "5000-digits"])
def test_a_hostile_config_upload_is_refused_naming_the_problem(open_page, workspace, text, words):
    app = open_page(PLAYGROUND, share.to_query(XOR), workspace=workspace)
    open_popover(app, "pg_config_panel")
    app.file_uploader(key="pg_upload_config").set_value(("config.json", text.encode(), "application/json")).run()
    assert f"That config was not loaded: {words}" in texts(app.error)
    assert page_config(app) == XOR and not app.exception


def test_a_config_saved_with_a_byte_order_mark_is_loaded(open_page, workspace):
    app = open_page(PLAYGROUND, workspace=workspace)
    data = XOR.to_json().encode("utf-8-sig")
    open_popover(app, "pg_config_panel")
    app.file_uploader(key="pg_upload_config").set_value(("config.json", data, "application/json")).run()
    assert not app.error and not app.exception
    assert page_config(app) == XOR


def test_a_link_of_1596_layers_is_refused_naming_the_cap(open_page, workspace):
    app = open_page(PLAYGROUND, {"layers": ",".join(["relu"] * 1595 + ["linear"])}, workspace=workspace)
    assert "more than 64 layers" in texts(app.warning) and not app.exception
    assert page_config(app) == TrainConfig()


# --- the Draw page --------------------------------------------------------------------------------

@pytest.fixture
def draw(monkeypatch, open_page):
    """The Draw page with a small stand-in for the default MNIST model (no training for these tests)."""
    engine = Engine(DIGITS)
    stand_in = LoadedModel(DIGITS, engine.model.eval(), engine.dataset.class_names, {})
    ready = SimpleNamespace(model=stand_in, error=None, wait=lambda timeout=None: True, progress=lambda: (1.0, ""))
    monkeypatch.setattr(server, "default_digit_model", lambda: ready)  # a Preparation that is done
    return open_page("pages/2_Draw.py")


def test_a_zip_bomb_model_is_refused_on_the_draw_page_without_the_memory(draw, bomb):
    growth = upload_model(draw, bomb, key="dr_upload")
    assert "That model was not loaded: refused: the entry" in texts(draw.error) and not draw.exception
    assert growth < 100, f"the upload raised peak memory by {growth:.0f} MiB"
    assert draw.radio(key="dr_choice").value == "default"


@pytest.mark.parametrize("changes, words", [
    ({"class_names": list("0123")}, "class_names has 4 names but the model has 10 classes"),
    ({"class_names": list(range(10))}, "class_names must be a list of text labels"),
    ({"metrics": {"test_accuracy": "high"}}, "'test_accuracy' must name a number"),
], ids=["too-few-names", "int-names", "text-metric"])
def test_a_model_with_bad_metadata_is_refused_on_the_draw_page(draw, changes, words):
    upload_model(draw, payload(DIGITS, **changes), key="dr_upload")
    assert words in texts(draw.error) and not draw.exception
    draw.run()
    assert not draw.exception


def test_a_csv_model_whose_table_is_gone_is_refused_on_the_playground_saying_so(open_page, workspace, tmp_path):
    """Training it further needs the table: a clear message, not an exception (predict needs no table)."""
    table = tmp_path / "t.csv"
    table.write_text("a,b,kind\n" + "".join(f"{i},{i % 3},{'xy'[i % 2]}\n" for i in range(20)))
    config = TrainConfig.from_dict({**json.loads(XOR.to_json()), "dataset": {
        "name": "csv", "file": str(table), "label": "kind", "features": ["a", "b"], "task": "classification"}},
        allow_paths=True)
    data = payload(config, class_names=["x", "y"])
    table.unlink()
    app = open_page(PLAYGROUND, share.to_query(XOR), workspace=workspace)
    upload_model(app, data)
    assert "That model was not loaded: checkpoint config is invalid: dataset.file" in texts(app.error)
    assert not app.exception and page_config(app) == XOR
