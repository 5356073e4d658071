"""AppTest of faults and bad input on the real pages: each gets a clear message and loses no saved run.

NaN-producing learning rates, layers too large for memory, malformed links and uploads that are not
what they claim. Before each fault the workspace holds a saved run; after it the page shows a
message naming the problem, raised no exception, and the run is still stored and listed on the
Runs page. (The command line's bad input is tested at the end of test_cli.py.)
"""
import builtins
import io
import json
import math
import pickle
import resource
import zipfile
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import torch
from streamlit.testing.v1 import AppTest

from app_popovers import open_add, open_chip, open_data, open_popover
from playground import share
from playground.checkpoint import FORMAT, VERSION, checkpoint_bytes
from playground.config import TrainConfig
from playground.engine import Engine
from playground.layers import MAX_CHANNELS, MAX_FEATURES
from playground.model import MAX_PARAMETERS
from playground.progress import History
from playground.ui import server

PLAYGROUND = "pages/1_Playground.py"
GB = 2**30
XOR = TrainConfig.from_dict({"dataset": {"name": "xor", "n_samples": 40, "seed": 3},
                             "layers": [{"type": "linear", "out": 8}, {"type": "tanh"}, {"type": "linear"}],
                             "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}, "epochs": 5, "seed": 7,
                             "device": "cpu"})
GOOD_CSV = b"x1,x2,label\n" + b"".join(f"{i / 10},{(i * 7) % 5},{i % 2}\n".encode() for i in range(30))


# --- helpers ------------------------------------------------------------------------------------

@pytest.fixture
def saved_run(workspace) -> int:
    """A run saved in the workspace before the fault: the fault must not lose it."""
    epochs = (1, 2, 3)
    history = History(epochs=epochs, train_loss=(1.0, 0.6, 0.4), eval_epochs=epochs, train_score=(0.5, 0.7, 0.8),
                      test_loss=(1.0, 0.7, 0.5), test_score=(0.5, 0.6, 0.75))
    return server.run_store().save(workspace, XOR, history, {"epochs": 3, "test_accuracy": 0.75}, "completed",
                               name="saved before the fault")


def link_params(query: str) -> dict:
    """What Streamlit makes of a raw query string (percent-decoding included), as AppTest takes it."""
    return {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}


def finish(app: AppTest) -> None:
    app.session_state["pg_run"].join(120)
    app.run()


def page_config(app: AppTest) -> TrainConfig:
    open_popover(app, "pg_config_panel")  # the Config JSON section shows the page's config
    return TrainConfig.from_json(next(c.value for c in app.code if c.language == "json"))


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def has_run(app: AppTest) -> bool:
    return "pg_run" in app.session_state and app.session_state["pg_run"] is not None


def listed_runs(open_page, workspace: str) -> dict[int, str]:
    """The runs the Runs page lists for the workspace: id -> status."""
    app = open_page("pages/4_Runs.py", workspace=workspace)
    table = next(d.value for d in app.dataframe if "run" in d.value.columns)
    return {int(row["run"]): row["status"] for row in table.to_dict("records")}


def assert_kept(open_page, workspace: str, run_id: int) -> None:
    """The saved run is still in the store and on the Runs page."""
    record = server.run_store().get(workspace, run_id)
    assert record is not None and record.name == "saved before the fault"
    assert run_id in listed_runs(open_page, workspace)


def peak_memory() -> int:
    """This process's highest resident memory so far, in bytes (Linux reports kilobytes): an allocation
    of more than 1 GB beyond the highest so far would raise it by that much."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def assert_refused_without_training(app: AppTest, peak_before: int) -> None:
    assert app.button(key="pg_train").disabled and not has_run(app)
    assert peak_memory() - peak_before < GB  # nothing was allocated for the refused model


# --- 1. learning rates that make the loss NaN -----------------------------------------------------

def test_a_diverging_run_stops_with_a_message_keeps_finite_weights_and_both_runs_are_saved(open_page, workspace):
    app = open_page(PLAYGROUND, workspace=workspace)
    open_data(app).selectbox(key="pg_dataset").set_value("linear_regression").run()
    app.button(key="pg_preset_Linear").click().run()
    app.selectbox(key="pg_opt").set_value("sgd").run()
    app.slider(key="pg_sgd_momentum").set_value(0.0).run()
    app.select_slider(key="pg_lr").set_value(0.01).run()
    app.number_input(key="pg_epochs").set_value(20).run()
    app.button(key="pg_train").click().run()
    finish(app)
    assert app.session_state["pg_run"].snapshot().status == "completed"

    lr_options = app.select_slider(key="pg_lr").options
    assert max(float(v) for v in lr_options) == 10.0  # the page's largest learning rate (the config's limit)
    app.select_slider(key="pg_lr").set_value(10.0).run()
    app.number_input(key="pg_epochs").set_value(1000).run()
    first = app.session_state["pg_run"]
    app.session_state["ui_last_actions"] = {}  # a second Train this soon would be taken for a repeated click
    app.button(key="pg_train").click().run()
    finish(app)
    assert not app.exception
    run = app.session_state["pg_run"]
    assert run is not first
    snap = run.snapshot()
    assert snap.status == "diverged" and snap.epoch < 1000
    message = texts(app.error)
    assert "The loss became NaN or infinite in epoch" in message and "restored to epoch" in message
    assert "Try a smaller learning rate (it was 10)" in message
    assert any("Diverged" in m.value for m in app.markdown)
    weights = run.engine.model.state_dict() if run.engine is not None else snap.weights
    assert weights and all(torch.isfinite(w).all() for w in weights.values())
    assert math.isfinite(snap.final["train_loss"])

    records = server.run_store().runs(workspace)
    assert [r.status for r in records] == ["diverged", "completed"]
    assert math.isfinite(records[0].final["train_loss"])
    assert listed_runs(open_page, workspace) == {records[0].id: "diverged", records[1].id: "completed"}


@pytest.mark.parametrize("value, words", [
    ("nan", "must be a finite number"), ("inf", "must be a finite number"), ("1e999", "must be a finite number"),
    ("-1", "must be between 0 and 10"), ("1e3", "must be between 0 and 10"), ("0", "must be greater than 0"),
], ids=["nan", "inf", "1e999", "negative", "1e3", "zero"])
def test_a_link_with_an_unusable_learning_rate_is_refused_naming_it(open_page, workspace, saved_run, value, words):
    app = open_page(PLAYGROUND, {"optimizer.lr": value}, workspace=workspace)
    warning = texts(app.warning)
    assert f"optimizer.lr: {words}" in warning and "default setup" in warning
    assert app.select_slider(key="pg_lr").value == TrainConfig().optimizer.lr
    assert page_config(app) == TrainConfig()
    assert share.from_query(app.query_params).config == TrainConfig()  # the address bar shows the setup in use
    assert not app.exception
    assert_kept(open_page, workspace, saved_run)


# --- 2. layers and batches too large for memory ------------------------------------------------

def test_the_layer_editor_stops_at_the_layer_size_limits(open_page, workspace):
    app = open_page(PLAYGROUND, workspace=workspace)
    linear = app.session_state["pg_layers"][0]["id"]
    assert open_chip(app, linear).number_input(key=f"pg_l{linear}_linear_out").max == MAX_FEATURES
    open_data(app).selectbox(key="pg_dataset").set_value("digits").run()
    conv = app.session_state["pg_layers"][0]["id"]
    assert open_chip(app, conv).number_input(key=f"pg_l{conv}_conv2d_out").max == MAX_CHANNELS


def test_wide_layers_from_the_editor_over_the_parameter_limit_are_refused(open_page, workspace, saved_run):
    peak = peak_memory()
    app = open_page(PLAYGROUND, workspace=workspace)
    first, last = app.session_state["pg_layers"][0]["id"], app.session_state["pg_layers"][-1]["id"]
    open_chip(app, first).number_input(key=f"pg_l{first}_linear_out").set_value(MAX_FEATURES).run()
    open_chip(app, last).number_input(key=f"pg_l{last}_linear_out").set_value(MAX_FEATURES).run()
    open_add(app).selectbox(key="pg_add_type").set_value("linear").run()
    app.button(key="pg_add_layer").click().run()  # 2-4096-4096-3: 16.8 million weights
    message = texts(app.error)
    assert "16,805,891 parameters" in message and f"limit of {MAX_PARAMETERS:,}" in message
    assert "use fewer or narrower layers" in message
    assert not app.exception
    assert_refused_without_training(app, peak)
    assert_kept(open_page, workspace, saved_run)


@pytest.mark.parametrize("params, words", [
    ({"layers": "linear(out=100000000),relu,linear"}, ["layers[0].out", f"between 1 and {MAX_FEATURES}"]),
    ({"dataset.name": "digits", "layers": "conv2d(out=1000000,kernel=3),relu,flatten,linear"},
     ["layers[0].out", f"between 1 and {MAX_CHANNELS}"]),
], ids=["linear-1e8", "conv-1e6-channels"])
def test_a_link_with_a_huge_layer_is_refused_naming_the_layer_limit(open_page, workspace, saved_run, params, words):
    peak = peak_memory()
    app = open_page(PLAYGROUND, params, workspace=workspace)
    warning = texts(app.warning)
    assert all(word in warning for word in words) and "default setup" in warning
    assert page_config(app) == TrainConfig() and not app.exception
    assert not has_run(app) and peak_memory() - peak < GB
    assert_kept(open_page, workspace, saved_run)


def test_a_link_with_many_wide_layers_shows_the_parameter_limit(open_page, workspace, saved_run):
    peak = peak_memory()
    app = open_page(PLAYGROUND, {"layers": "linear(out=4096),relu,linear(out=4096),relu,linear"}, workspace=workspace)
    assert f"is over the limit of {MAX_PARAMETERS:,}: use fewer or narrower layers" in texts(app.error)
    assert not app.exception
    assert_refused_without_training(app, peak)
    assert_kept(open_page, workspace, saved_run)


def test_a_full_batch_too_large_for_memory_is_refused_with_the_batch_that_fits(open_page, workspace, saved_run):
    peak = peak_memory()
    app = open_page(PLAYGROUND, workspace=workspace)
    open_data(app).selectbox(key="pg_dataset").set_value("digits").run()
    conv = app.session_state["pg_layers"][0]["id"]
    open_chip(app, conv).number_input(key=f"pg_l{conv}_conv2d_out").set_value(MAX_CHANNELS).run()
    app.number_input(key=f"pg_l{conv}_conv2d_padding").set_value(7).run()
    app.selectbox(key="pg_batch").set_value(0).run()  # every training image in one batch
    problem = next(e.value for e in app.error if e.value.startswith("Batch size:"))
    assert "a full batch of 1,438 samples needs about" in problem and "GB of memory" in problem
    assert "set the batch size to at most" in problem
    assert not app.exception
    assert_refused_without_training(app, peak)
    app.selectbox(key="pg_batch").set_value(64).run()  # the fix the message suggests
    assert not any(e.value.startswith("Batch size:") for e in app.error)
    assert not app.button(key="pg_train").disabled
    assert_kept(open_page, workspace, saved_run)


# --- 3. malformed links ---------------------------------------------------------------------------

LINKS = {  # id: (the parameters as Streamlit reads them, the parameter the warning must name, words)
    "epochs-text": ({"epochs": "abc"}, "epochs", "must be a number"),
    "epochs-fraction": ({"epochs": "1.5"}, "epochs", "must be a whole number"),
    "epochs-negative": ({"epochs": "-3"}, "epochs", "must be between 1 and 100000"),
    "epochs-empty": ({"epochs": ""}, "epochs", "must be a number"),
    "dataset-path": ({"dataset.name": "../../etc/passwd"}, "dataset.name", "is not one of"),
    "dataset-unicode": ({"dataset.name": "spïräl☃"}, "dataset.name", "is not one of"),
    "noise-garbage": ({"dataset.name": "spiral", "dataset.noise": "lots"}, "dataset.noise", "must be a number"),
    "unknown-key": ({"dataset.name": "spiral", "colour": "red"}, "colour", "unknown key"),
    "unknown-key-alone": ({"colour": "red"}, "colour", "unknown key"),
    "unknown-dataset-key": ({"dataset.name": "spiral", "dataset.colour": "red"}, "dataset.colour", "unknown key"),
    "layers-truncated-name": ({"layers": "linear(out=100),re"}, "layers[1].type", "unknown layer type 're'"),
    "layers-truncated-bracket": ({"layers": "linear(out=100"}, "layers", "cannot read the layer list"),
    "layers-empty-value": ({"layers": "linear(out=),relu"}, "layers[0].out", "must be a number"),
    "layers-unicode": ({"layers": "línear(out=4),relu,linear"}, "layers", "cannot read the layer list"),
    "percent-junk-lr": (link_params("optimizer.lr=%ZZ%"), "optimizer.lr", "must be a number"),
    "percent-broken-utf8": (link_params("epochs=%E2%82"), "epochs", "must be a number"),
    "percent-nul": (link_params("layers=%00relu"), "layers", "cannot read the layer list"),
    "percent-newline": (link_params("dataset.name=spiral%0A"), "dataset.name", "is not one of"),
    "100-kb": ({"dataset.name": "spiral", "layers": "relu," * 25_000 + "linear"}, "link", "longer than 8,000"),
    "seed-huge": ({"seed": "1" * 30}, "seed", "must be between"),
    "batch-negative": ({"batch_size": "-1"}, "batch_size", "must be between"),
    "device-unknown": ({"device": "tpu"}, "device", "is not one of"),
    "loss-for-another-task": ({"dataset.name": "spiral", "loss": "mse"}, "loss", "regression"),
    "nesterov-word": ({"optimizer.name": "sgd", "optimizer.nesterov": "yes"}, "optimizer.nesterov",
                      "must be true or false"),
    "conflicting-keys": ({"optimizer": "adam", "optimizer.lr": "0.1"}, "optimizer.lr", "conflicts"),
}


@pytest.mark.parametrize("params, key, words", LINKS.values(), ids=LINKS.keys())
def test_a_malformed_link_warns_naming_the_parameter_and_keeps_the_default_setup(open_page, workspace, saved_run,
                                                                                 params, key, words):
    app = open_page(PLAYGROUND, params, workspace=workspace)
    assert not app.exception
    warning = texts(app.warning)
    assert f"{key}: " in warning and words in warning and "default setup" in warning, warning
    assert page_config(app) == TrainConfig() and not app.button(key="pg_train").disabled
    assert share.from_query(app.query_params).config == TrainConfig()
    assert_kept(open_page, workspace, saved_run)


def test_train_works_after_a_malformed_link_and_saves_beside_the_old_run(open_page, workspace, saved_run):
    junk = link_params("dataset.name=spiral&optimizer.lr=%ZZ&layers=" + "relu," * 25_000 + "linear")
    app = open_page(PLAYGROUND, junk, workspace=workspace)
    assert "could not be used" in texts(app.warning)
    app.number_input(key="pg_epochs").set_value(20).run()
    app.button(key="pg_train").click().run()
    finish(app)
    assert not app.exception and app.session_state["pg_run"].snapshot().status == "completed"
    assert len(server.run_store().runs(workspace)) == 2
    assert_kept(open_page, workspace, saved_run)


@pytest.mark.parametrize("params, key", [
    ({"dataset.name": "spiral", "hide": "everything"}, "hide"),
    ({**share.to_query(XOR, hidden=["model"]), "optimizer.lr": "nan"}, "optimizer.lr"),
    ({"lesson": "line", "optimizer.lr": "nan"}, "optimizer.lr"),
], ids=["unknown-hidden-control", "teacher-link-with-nan-lr", "lesson-link-with-nan-lr"])
def test_a_malformed_teacher_or_lesson_link_names_the_parameter(open_page, workspace, params, key):
    app = open_page(PLAYGROUND, params, workspace=workspace)
    assert f"{key}: " in texts(app.warning)


def test_a_malformed_link_in_a_session_keeps_the_setup_it_had(open_page, workspace, saved_run):
    app = open_page(PLAYGROUND, share.to_query(XOR), workspace=workspace)
    assert page_config(app) == XOR
    app.query_params.update({"epochs": "abc"})  # the address edited by hand
    app.run()
    warning = texts(app.warning)
    assert "epochs: must be a number" in warning and "the setup it had" in warning
    assert page_config(app) == XOR and not app.exception
    assert_kept(open_page, workspace, saved_run)


def test_a_lesson_link_adjusted_by_hand_keeps_the_lesson(open_page, workspace):
    app = open_page(PLAYGROUND, {"lesson": "line", "epochs": "5"}, workspace=workspace)
    assert not app.warning and not app.exception
    config = page_config(app)
    assert config.dataset.name == "linear_regression" and config.epochs == 5


# --- 5. uploads that are not what they claim ------------------------------------------------------

def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(50)


@pytest.fixture
def csv_page(open_page, workspace):
    """The Playground on 'Your CSV file' with a good table uploaded through the page."""
    app = open_page(PLAYGROUND, workspace=workspace)
    open_data(app).selectbox(key="pg_dataset").set_value("csv").run()
    app.file_uploader(key="pg_csv_upload").set_value(("good.csv", GOOD_CSV, "text/csv")).run()
    assert app.session_state["pg_csv_file"] and not app.error
    return app


@pytest.mark.parametrize("name, data, words", [
    ("photo.csv", PNG, "it looks like a PNG image"),
    ("marks.csv", zip_bytes(), "it looks like an Excel workbook (.xlsx) or a zip archive"),
    ("report.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "it looks like a PDF document"),
    ("nul.csv", GOOD_CSV[:40] + b"\x00" + GOOD_CSV[40:], "binary data (byte 41 is a NUL byte"),
    ("empty.csv", b"", "the file is empty"),
    ("header.csv", b"x1,x2,label\n", "no rows of data"),
], ids=["png", "xlsx", "pdf", "nul-byte", "empty", "header-only"])
def test_an_upload_that_is_not_a_csv_is_refused_and_the_table_kept(csv_page, workspace, saved_run, name, data, words,
                                                                   open_page):
    app, table = csv_page, csv_page.session_state["pg_csv_file"]
    app.file_uploader(key="pg_csv_upload").set_value((name, data, "text/csv")).run()
    message = texts(app.error)
    assert f"{name} was not loaded: " in message and words in message and "still uses good.csv" in message
    assert app.session_state["pg_csv_file"] == table and not app.button(key="pg_train").disabled
    assert not app.exception
    assert_kept(open_page, workspace, saved_run)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"],
                         ids=["with-bom", "little-endian-without-bom", "big-endian-without-bom"])
def test_a_utf16_table_is_read(csv_page, encoding):
    csv_page.file_uploader(key="pg_csv_upload").set_value(("utf16.csv", GOOD_CSV.decode().encode(encoding),
                                                            "text/csv")).run()
    assert not csv_page.error and not csv_page.exception
    assert csv_page.selectbox(key="pg_csv_label").value == "label"
    assert csv_page.multiselect(key="pg_csv_features").value == ["x1", "x2"]
    assert not csv_page.button(key="pg_train").disabled


class RunsCode:
    """Unpickling this calls open(marker, "w"): the marker file proves that code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.open, (self.marker, "w")


def saved(payload) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def checkpoints(marker: Path) -> dict:
    """Files named .pt that are not loadable models: id -> (bytes, words of the refusal)."""
    engine = Engine(XOR)
    state = engine.model.state_dict()
    narrower = XOR.replace(layers=({"type": "linear", "out": 7}, {"type": "tanh"}, {"type": "linear"}))
    too_big = XOR.to_dict() | {"layers": [{"type": "linear", "out": 4096}, {"type": "relu"},
                                          {"type": "linear", "out": 4096}, {"type": "linear"}]}

    def ours(config_json: str, weights: dict) -> bytes:
        return saved({"format": FORMAT, "version": VERSION, "config": config_json, "class_names": [],
                      "metrics": {}, "state_dict": weights})

    damaged = "the file is damaged or not a PyTorch .pt file"
    return {
        "empty": (b"", damaged),
        "csv-renamed": (GOOD_CSV, damaged),
        "zip-renamed": (zip_bytes(), damaged),
        "truncated": (checkpoint_bytes(XOR, engine.model)[:300], damaged),
        "not-ours": (saved({"weights": torch.zeros(3)}), "not a Neural Playground checkpoint"),
        "code-in-metrics": (saved({"format": FORMAT, "version": VERSION, "config": XOR.to_json(),
                                   "state_dict": state, "metrics": {"x": RunsCode(marker)}}), "could run code"),
        "raw-pickle-with-code": (pickle.dumps(RunsCode(marker), protocol=2), "could run code"),
        "whole-module": (saved(engine.model), "could run code"),
        "weights-of-another-model": (ours(narrower.to_json(), state), "weights do not match the architecture"),
        "config-over-the-limit": (ours(json.dumps(too_big), {}),
                                  f"is over the limit of {MAX_PARAMETERS:,}"),
    }


CHECKPOINT_CASES = ["empty", "csv-renamed", "zip-renamed", "truncated", "not-ours", "code-in-metrics",
                    "raw-pickle-with-code", "whole-module", "weights-of-another-model", "config-over-the-limit"]


@pytest.mark.parametrize("case", CHECKPOINT_CASES)
def test_a_pt_file_that_is_not_a_loadable_model_is_refused_with_the_reason(open_page, workspace, saved_run, tmp_path,
                                                                          case):
    marker = tmp_path / "code-ran"
    data, words = checkpoints(marker)[case]
    app = open_page(PLAYGROUND, share.to_query(XOR), workspace=workspace)
    peak = peak_memory()
    app.file_uploader(key="pg_upload_model").set_value((f"{case}.pt", data, "application/octet-stream")).run()
    message = texts(app.error)
    assert "That model was not loaded: " in message and words in message, message
    assert not marker.exists()  # nothing in the file was run
    assert not has_run(app) and not ("pg_loaded" in app.session_state and app.session_state["pg_loaded"])
    assert page_config(app) == XOR and not app.exception
    assert peak_memory() - peak < GB
    assert_kept(open_page, workspace, saved_run)


def test_weights_that_do_not_fit_name_the_layer_that_differs(open_page, workspace, tmp_path):
    data, _ = checkpoints(tmp_path / "unused")["weights-of-another-model"]
    app = open_page(PLAYGROUND, workspace=workspace)
    app.file_uploader(key="pg_upload_model").set_value(("other.pt", data, "application/octet-stream")).run()
    assert "size mismatch for 0.weight: copying a param with shape torch.Size([8, 2])" in texts(app.error)


@pytest.mark.parametrize("data, words", [
    (b"{nope", "config: not valid JSON"),
    (b"", "config: not valid JSON"),
    (PNG, "config: not valid JSON"),
    (b"[1, 2]", "config: must be a JSON object, got list"),
    (b'{"colour": "red"}', "colour: unknown key"),
    (b'{"optimizer": {"lr": NaN}}', "optimizer.lr: must be a finite number"),
    (b'{"layers": [{"type": "linear", "out": 100000000}]}', f"layers[0].out: Linear: 'out' must be between 1 and "
                                                           f"{MAX_FEATURES}"),
], ids=["not-json", "empty", "png", "list", "unknown-key", "nan-lr", "huge-layer"])
def test_a_config_upload_that_is_not_a_config_is_refused_and_the_setup_kept(open_page, workspace, saved_run, data,
                                                                             words):
    app = open_page(PLAYGROUND, share.to_query(XOR), workspace=workspace)
    open_popover(app, "pg_config_panel")
    app.file_uploader(key="pg_upload_config").set_value(("config.json", data, "application/json")).run()
    assert f"That config was not loaded: {words}" in texts(app.error)
    assert page_config(app) == XOR and not app.exception
    assert_kept(open_page, workspace, saved_run)
