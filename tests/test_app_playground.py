"""AppTest of the Playground page: widgets, layer editor, training controls and live charts."""
import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_popovers import open_add, open_chip, open_data, open_insert, open_popover
from playground.ui import session
from test_live_chart import charts  # st.plotly_chart's and the live charts (UnknownElement in AppTest)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def at(open_playground):
    return open_playground()


def finish(app: AppTest, timeout: float = 120.0) -> None:
    """Wait for the background run to end, then rerun the page as the poller would."""
    app.session_state["pg_run"].join(timeout)
    app.run()


def metric(app: AppTest, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def chart_count(app: AppTest) -> int:
    return len(charts(app))


def test_page_renders_default_spiral_setup(at):
    assert open_data(at).selectbox(key="pg_dataset").value == "spiral"
    assert [row["layer"] for row in at.dataframe[0].value.to_dict("records")] == ["Linear", "ReLU", "Linear"]
    assert any("603 parameters" in c.value for c in at.caption)
    assert chart_count(at) == 1  # the data preview
    assert not at.button(key="pg_train").disabled


def test_train_runs_to_completion_and_shows_charts(at):
    at.number_input(key="pg_epochs").set_value(200).run()
    at.select_slider(key="pg_lr").set_value(0.01).run()
    at.button(key="pg_train").click().run()
    finish(at)
    assert not at.exception
    assert any("Completed" in m.value for m in at.markdown)
    assert chart_count(at) == 5  # boundary, loss, accuracy, the network diagram and the neuron maps
    assert float(metric(at, "Test accuracy")) > 0.85
    assert at.button(key="pg_stop").disabled


def chart_ids(app: AppTest) -> list[str]:
    return list(charts(app))


def test_a_finished_run_pinned_stays_beside_the_next_until_unpinned(at):
    at.button(key="pg_preset_Linear").click().run()
    at.number_input(key="pg_epochs").set_value(50).run()
    at.segmented_control(key="pg_pace").set_value("fast").run()
    at.button(key="pg_train").click().run()
    finish(at)
    at.button(key="pg_pin").click().run()
    assert at.session_state["pg_pinned"].model == "Linear"
    assert not [b for b in at.button if b.key == "pg_pin"]  # this run is the pinned one
    at.button(key="pg_preset_ReLU net").click().run()
    at.number_input(key="pg_epochs").set_value(50).run()
    at.session_state["ui_last_actions"] = {}  # a second Train this soon would be taken for a repeated click
    at.button(key="pg_train").click().run()
    finish(at)
    assert not at.exception
    assert at.session_state["pg_run"].config.layers[1]["type"] == "relu"
    ids = chart_ids(at)
    assert any("pg_pinned_boundary" in i for i in ids) and any("pg_boundary" in i for i in ids)
    assert any(m.value.startswith("**Pinned:** Linear") and "ReLU" not in m.value for m in at.markdown)
    at.button(key="pg_unpin").click().run()
    assert "pg_pinned" not in at.session_state and not at.exception
    assert not any("pg_pinned_boundary" in i for i in chart_ids(at)) and any("pg_boundary" in i for i in chart_ids(at))


def wait_until(condition, what: str, timeout: float = 120.0) -> None:
    """Wait for the training thread (slow on a busy machine, never wrong) to get somewhere."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_step_trains_one_epoch_and_pauses(at):
    at.button(key="pg_step").click().run()
    run = at.session_state["pg_run"]
    wait_until(lambda: run.snapshot().epoch >= 1 and run.snapshot().status == "paused", "one step")
    time.sleep(0.3)  # and it stays there
    snap = run.snapshot()
    assert (snap.epoch, snap.status) == (1, "paused")
    at.run()
    assert at.button(key="pg_pause").disabled and not at.button(key="pg_resume").disabled
    at.button(key="pg_step").click().run()
    wait_until(lambda: run.snapshot().epoch >= 2 and run.snapshot().status == "paused", "a second step")
    time.sleep(0.3)
    assert run.snapshot().epoch == 2


def test_pause_resume_and_stop(at):
    at.number_input(key="pg_epochs").set_value(100000).run()
    at.button(key="pg_train").click().run()
    run = at.session_state["pg_run"]
    at.button(key="pg_pause").click().run()
    wait_until(lambda: run.snapshot().status == "paused", "the pause")
    time.sleep(0.3)
    paused_at = run.snapshot().epoch
    time.sleep(0.3)
    assert run.snapshot().epoch == paused_at and run.snapshot().status == "paused"
    assert at.button(key="pg_pause").disabled and at.button(key="pg_resume").label == "Resume"
    at.button(key="pg_resume").click().run()  # its own button: Pause never changes under the pointer
    wait_until(lambda: run.snapshot().epoch > paused_at, "training to go on after Resume")
    at.button(key="pg_stop").click().run()
    finish(at)
    assert run.snapshot().status == "stopped"
    assert not at.exception


def test_learning_rate_change_reaches_running_training(at):
    at.number_input(key="pg_epochs").set_value(100000).run()
    at.button(key="pg_train").click().run()
    at.select_slider(key="pg_lr").set_value(0.01).run()
    run = at.session_state["pg_run"]
    wait_until(lambda: run.snapshot().lr == 0.01, "the learning rate of the latest epoch")
    assert run.requested_lr == 0.01 and run.engine.base_lr == 0.01


def test_the_speed_control_watches_by_default_and_a_change_reaches_the_running_run(at):
    assert at.segmented_control(key="pg_pace").value == "watch"
    at.number_input(key="pg_epochs").set_value(100000).run()
    at.button(key="pg_train").click().run()
    run = at.session_state["pg_run"]
    assert run.pace == "watch"  # the page's runs are watched
    at.segmented_control(key="pg_pace").set_value("fast").run()
    assert at.session_state["pg_run"] is run and run.pace == "fast" and not at.exception
    at.button(key="pg_stop").click().run()
    finish(at)


def test_a_run_started_at_fast_trains_at_fast(at):
    at.segmented_control(key="pg_pace").set_value("fast").run()
    at.number_input(key="pg_epochs").set_value(20).run()
    at.button(key="pg_train").click().run()
    assert at.session_state["pg_run"].pace == "fast"
    finish(at)
    assert at.session_state["pg_run"].snapshot().status == "completed" and not at.exception


def test_layer_editor_add_move_remove_and_presets(at):
    assert not at.get("selectbox") or "pg_add_type" not in {s.key for s in at.selectbox}  # closed: not drawn
    open_add(at).selectbox(key="pg_add_type").set_value("tanh").run()
    at.selectbox(key="pg_add_at").set_value("end").run()  # an activation's own place is before the output layer
    at.button(key="pg_add_layer").click().run()
    layers = [row["layer"] for row in at.dataframe[0].value.to_dict("records")] if at.dataframe else []
    assert not at.exception
    # Tanh after the last Linear is allowed for cross-entropy; the stack now has 4 layers.
    assert len(at.session_state["pg_layers"]) == 4 and at.session_state["pg_layers"][-1]["type"] == "tanh"
    assert layers[-1] == "Tanh"
    first_id = at.session_state["pg_layers"][0]["id"]
    open_chip(at, first_id).button(key=f"pg_l{first_id}_down").click().run()
    assert [layer["type"] for layer in at.session_state["pg_layers"]] == ["relu", "linear", "linear", "tanh"]
    last_id = at.session_state["pg_layers"][-1]["id"]
    open_chip(at, last_id).button(key=f"pg_l{last_id}_remove").click().run()
    assert [layer["type"] for layer in at.session_state["pg_layers"]] == ["relu", "linear", "linear"]
    at.button(key="pg_preset_Linear").click().run()
    assert [row["layer"] for row in at.dataframe[0].value.to_dict("records")] == ["Linear"]


def stack_types(app: AppTest) -> list[str]:
    return [layer["type"] for layer in app.session_state["pg_layers"]]


def test_a_new_activation_goes_before_the_output_layer(at):
    at.button(key="pg_preset_Linear").click().run()
    open_add(at).selectbox(key="pg_add_type").set_value("relu").run()
    assert at.selectbox(key="pg_add_at").value == "output"
    at.button(key="pg_add_layer").click().run()
    assert stack_types(at) == ["relu", "linear"]
    at.selectbox(key="pg_add_type").set_value("linear").run()
    assert at.selectbox(key="pg_add_at").value == "end"  # a Linear is added at the end, as before
    at.selectbox(key="pg_add_at").set_value(1).run()
    at.session_state["ui_last_actions"] = {}  # a second Add this soon would be taken for a repeated click
    at.button(key="pg_add_layer").click().run()
    assert stack_types(at) == ["relu", "linear", "linear"]
    assert not at.exception


def test_removing_the_relu_between_two_linears_shows_the_collapse_note(at):
    assert not at.warning
    relu = at.session_state["pg_layers"][1]["id"]
    open_chip(at, relu).button(key=f"pg_l{relu}_remove").click().run()
    note = " ".join(w.value for w in at.warning)
    assert "Layers 1 and 2 are two Linear layers in a row" in note and "collapse into one linear map" in note
    assert "put an activation (e.g. ReLU) between them" in note
    assert not at.button(key="pg_train").disabled  # a note, not an error: it still trains


def test_an_activation_swaps_in_one_click(at):
    relu = at.session_state["pg_layers"][1]["id"]
    open_chip(at, relu).segmented_control(key=f"pg_l{relu}_swap").set_value("tanh").run()
    assert at.selectbox(key=f"pg_l{relu}_type").value == "tanh"
    assert [row["layer"] for row in at.dataframe[0].value.to_dict("records")] == ["Linear", "Tanh", "Linear"]
    assert at.segmented_control(key=f"pg_l{relu}_swap").value == "tanh" and not at.exception


def popovers(app: AppTest) -> dict[str, object]:
    """Every keyed popover on the page (its button's label and type), by key: the layer chips and their "+"."""
    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)
    return {block.proto.id.split("-")[-1]: block.proto.popover
            for block in walk(app.main) if getattr(block, "type", None) == "popover"}


def chips(app: AppTest) -> list[str]:
    """The layer chips' labels, input to output."""
    return [p.label for key, p in popovers(app).items() if key.startswith("pg_chip_")]


def test_the_model_is_a_row_of_chips_with_a_key_parameter_each(at):
    assert chips(at) == ["Linear 100", "ReLU", "Linear auto"]
    first = at.session_state["pg_layers"][0]["id"]
    open_chip(at, first).number_input(key=f"pg_l{first}_linear_out").set_value(16).run()
    assert chips(at)[0] == "Linear 16"
    open_data(at).selectbox(key="pg_dataset").set_value("digits").run()  # image layers: each editable from its chip
    assert chips(at) == ["Conv 32·3x3", "ReLU", "MaxPool 2x2", "Flatten", "Linear auto"]
    assert not at.exception


def test_every_layer_type_is_editable_from_its_chip(at):
    from playground.layers import LAYERS
    from playground.ui.layer_editor import chip_label
    from playground.ui.layer_form import editable_params

    open_data(at).selectbox(key="pg_dataset").set_value("digits").run()
    first = at.session_state["pg_layers"][0]["id"]
    open_chip(at, first)
    for kind, layer in LAYERS.items():
        at.selectbox(key=f"pg_l{first}_type").set_value(kind).run()
        for param in editable_params(kind):
            assert at.number_input(key=f"pg_l{first}_{kind}_{param.name}") is not None
        name = chip_label({"type": kind, **layer.defaults()}).split()[0]  # sizes may carry over from the last type
        assert chips(at)[0].split()[0] == name and not at.exception


def test_a_plus_between_chips_inserts_there_and_takes_the_collapse_mark_away(at):
    relu = at.session_state["pg_layers"][1]["id"]
    open_chip(at, relu).button(key=f"pg_l{relu}_remove").click().run()
    assert popovers(at)["pg_insert_1"].type == "primary"  # the "+" between the two Linears is marked
    assert popovers(at)["pg_insert_0"].type == "tertiary"
    open_insert(at, 1).pills(key="pg_ins_1_0").set_value("relu").run()
    assert stack_types(at) == ["linear", "relu", "linear"] and chips(at) == ["Linear 100", "ReLU", "Linear auto"]
    assert all(p.type == "tertiary" for k, p in popovers(at).items() if k.startswith("pg_insert_"))
    assert not at.warning and at.pills(key="pg_ins_1_1").value is None  # a new, empty choice
    open_insert(at, 3).pills(key="pg_ins_3_1").set_value("tanh").run()  # the last place: after the output layer
    assert stack_types(at) == ["linear", "relu", "linear", "tanh"] and not at.exception


def test_unworkable_stack_is_rejected_with_a_message_naming_the_fix(at):
    for layer in list(at.session_state["pg_layers"]):
        open_chip(at, layer["id"]).button(key=f"pg_l{layer['id']}_remove").click().run()
    assert any("empty" in e.value for e in at.error)
    assert at.button(key="pg_train").disabled
    at.button(key="pg_preset_Linear").click().run()
    layer_id = at.session_state["pg_layers"][0]["id"]
    open_chip(at, layer_id).number_input(key=f"pg_l{layer_id}_linear_out").set_value(2).run()
    message = " ".join(e.value for e in at.error)
    assert "Layer 1" in message and "set its output size to 3" in message
    assert at.button(key="pg_train").disabled
    assert not at.exception


def test_only_compatible_losses_are_offered(at):
    assert set(at.selectbox(key="pg_loss").options) == {"Cross-entropy", "NLL"}
    open_data(at).selectbox(key="pg_dataset").set_value("moons").run()
    assert {"BCE", "BCE with logits"} <= set(at.selectbox(key="pg_loss").options)
    open_data(at).selectbox(key="pg_dataset").set_value("sine").run()
    assert at.selectbox(key="pg_loss").value == "mse"
    assert set(at.selectbox(key="pg_loss").options) == {"MSE", "L1 (MAE)", "Huber"}


def test_nll_without_log_softmax_names_the_missing_layer(at):
    at.selectbox(key="pg_loss").set_value("nll").run()
    message = " ".join(e.value for e in at.error)
    assert "LogSoftmax" in message and "Layer 3" in message


def test_regression_trains_and_draws_the_fitted_curve(at):
    open_data(at).selectbox(key="pg_dataset").set_value("linear_regression").run()
    at.button(key="pg_preset_Linear").click().run()
    at.selectbox(key="pg_opt").set_value("sgd").run()
    at.slider(key="pg_sgd_momentum").set_value(0.0).run()
    at.select_slider(key="pg_lr").set_value(0.01).run()
    at.button(key="pg_train").click().run()
    finish(at)
    assert not at.exception
    assert float(metric(at, "Train R²")) > 0.99
    assert chart_count(at) == 4  # fitted curve, loss, R², the network diagram (no neuron maps for 1-D data)


def test_divergence_shows_a_message_not_a_traceback(at):
    open_data(at).selectbox(key="pg_dataset").set_value("linear_regression").run()
    at.button(key="pg_preset_Linear").click().run()
    at.selectbox(key="pg_opt").set_value("sgd").run()
    at.select_slider(key="pg_lr").set_value(3.0).run()
    at.button(key="pg_train").click().run()
    finish(at)
    assert not at.exception
    assert at.session_state["pg_run"].snapshot().status == "diverged"
    assert any("smaller learning rate" in e.value for e in at.error)


def test_config_json_matches_the_widgets(at):
    at.number_input(key="pg_epochs").set_value(321).run()
    open_popover(at, "pg_config_panel")
    code = next(c.value for c in at.code if c.language == "json")
    assert '"epochs": 321' in code and '"name": "spiral"' in code


def test_reset_discards_the_run(at):
    at.number_input(key="pg_epochs").set_value(20).run()
    at.button(key="pg_train").click().run()
    finish(at)
    at.button(key="pg_reset").click().run()
    assert "pg_run" not in at.session_state
    assert chart_count(at) == 1


# --- image datasets ----------------------------------------------------------------------------


def layer_types(app: AppTest) -> list[str]:
    return [row["layer"] for row in app.dataframe[0].value.to_dict("records")]


def errors(app: AppTest) -> list[str]:
    return [e.value for e in app.error]


def test_switching_to_images_swaps_in_a_cnn_and_mini_batches(at):
    open_data(at).selectbox(key="pg_dataset").set_value("digits").run()
    assert not at.exception
    assert layer_types(at) == ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    assert at.selectbox(key="pg_batch").value == 64 and at.number_input(key="pg_epochs").value == 3
    assert any("Source:" in c.value and "scikit-learn" in c.value for c in at.caption)
    assert any("Input [1, 8, 8] → output [10]" in c.value for c in at.caption)
    open_data(at).selectbox(key="pg_dataset").set_value("spiral").run()  # and back: an MLP for 2-D points
    assert layer_types(at) == ["Linear", "ReLU", "Linear"] and at.selectbox(key="pg_batch").value == 0


def test_conv_layers_show_every_parameter(at):
    open_data(at).selectbox(key="pg_dataset").set_value("digits").run()
    conv_id = at.session_state["pg_layers"][0]["id"]
    open_chip(at, conv_id)
    for name in ("out", "kernel", "stride", "padding"):
        assert at.number_input(key=f"pg_l{conv_id}_conv2d_{name}") is not None
    at.number_input(key=f"pg_l{conv_id}_conv2d_kernel").set_value(11).run()
    assert any("Layer 1: Conv2d kernel 11 is larger than its 8x8 input" in e for e in errors(at))
    assert at.button(key="pg_train").disabled


def test_two_conv_preset_sets_nll_and_sgd_and_is_refused_on_8x8_images(at):
    open_data(at).selectbox(key="pg_dataset").set_value("digits").run()
    at.button(key="pg_preset_Two-conv + dropout").click().run()
    assert at.selectbox(key="pg_loss").value == "nll" and at.selectbox(key="pg_opt").value == "sgd"
    assert at.slider(key="pg_sgd_momentum").value == 0.5 and at.select_slider(key="pg_lr").value == 0.01
    assert any("Layer 4: Conv2d kernel 5 is larger than its 2x2 input" in e for e in errors(at))
    open_data(at).selectbox(key="pg_dataset").set_value("mnist").run()  # 28x28: the classic net fits
    assert not errors(at)
    assert "21,840 parameters" in " ".join(c.value for c in at.caption)


def test_full_batch_of_full_size_images_is_refused_with_the_largest_batch(at):
    open_data(at).selectbox(key="pg_dataset").set_value("fashion_mnist").run()
    if errors(at) and "not available" in errors(at)[0]:
        pytest.skip("Fashion-MNIST is not installed here")
    at.selectbox(key="pg_batch").set_value(0).run()
    problem = next(e for e in errors(at) if e.startswith("Batch size:"))
    assert "full batch of 60,000 samples" in problem and "at most" in problem
    assert at.button(key="pg_train").disabled


def test_train_a_cnn_then_inspect_confusion_scores_images_and_filters(at):
    open_data(at).selectbox(key="pg_dataset").set_value("digits").run()
    open_data(at).number_input(key="pg_ds_digits_train_images").set_value(500).run()
    at.button(key="pg_train").click().run()
    finish(at)
    assert not at.exception
    assert any("images/s" in m.value for m in at.markdown)
    assert [t.label for t in at.tabs] == ["Confusion matrix", "Per-class scores", "Test images", "First-layer filters"]
    confusion = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert confusion["data"][0]["type"] == "heatmap" and "Confusion matrix" in confusion["layout"]["title"]["text"]
    scores = at.dataframe[-1].value
    assert list(scores["class"])[:10] == [str(d) for d in range(10)] and scores["class"].iloc[-1] == "macro average"
    assert any("The 32 filters (3x3)" in c.value for c in at.caption)
    assert any("Click a cell" in c.value for c in at.caption)
    at.selectbox(key="pg_cm_true").set_value(3).run()  # every test image of true class 3
    assert not any("Click a cell" in c.value for c in at.caption)
    images = at.get("image")
    assert len(images) == 3  # the cell's grid, the "Test images" tab's grid, the filters


def test_no_page_has_an_expression_that_streamlit_magic_would_write():
    """Magic st.writes every bare non-call expression, even inside callbacks: `a() if x else b()` once
    put a stray "None" at the top of the page whenever Pause was pressed."""
    import ast

    for path in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Expr) and not isinstance(node.value, (ast.Call, ast.Constant)):
                pytest.fail(f"{path.name}:{node.lineno}: {ast.unparse(node)} would be written to the page")


def test_pause_and_resume_write_nothing_stray(at):
    at.number_input(key="pg_epochs").set_value(100000).run()
    at.button(key="pg_train").click().run()
    at.button(key="pg_pause").click().run()
    assert at.session_state["pg_run"].paused
    at.button(key="pg_resume").click().run()
    assert not at.session_state["pg_run"].paused
    assert not [m.value for m in at.markdown if m.value.strip("`") == "None"]


def test_train_pressed_right_after_typing_uses_the_typed_values(at):
    """A click sends the widget edits made just before it in the same rerun: Train must use them."""
    at.number_input(key="pg_epochs").set_value(4)
    at.select_slider(key="pg_lr").set_value(0.01)
    at.button(key="pg_train").click().run()  # one rerun carries the typed epochs, the slider and the click
    run = at.session_state["pg_run"]
    assert (run.config.epochs, run.config.optimizer.lr) == (4, 0.01)
    finish(at)
    assert at.session_state["pg_run"].snapshot().epoch == 4


def test_step_pressed_right_after_typing_uses_the_typed_values(at):
    at.number_input(key="pg_epochs").set_value(7)
    at.button(key="pg_step").click().run()
    run = at.session_state["pg_run"]
    assert run.config.epochs == 7 and run.paused


def test_step_continues_a_paused_run_while_the_settings_have_a_problem(at):
    at.button(key="pg_step").click().run()
    run = at.session_state["pg_run"]
    wait_until_epoch(run, 1)
    last = at.session_state["pg_layers"][-1]["id"]
    open_chip(at, last).number_input(key=f"pg_l{last}_linear_out").set_value(5).run()  # 5 outputs, 3 classes: refused
    assert at.button(key="pg_train").disabled and not at.button(key="pg_step").disabled
    time.sleep(session.REPEAT_SECONDS)  # a second Step this soon would be taken as the first one's repeated callback
    at.button(key="pg_step").click().run()
    wait_until_epoch(run, 2)
    assert at.session_state["pg_run"] is run and not at.exception


def wait_until_epoch(run, epoch: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while run.snapshot().epoch < epoch:
        assert time.monotonic() < deadline, f"the run did not reach epoch {epoch}"
        time.sleep(0.05)


# --- the status line: no stale speed, no box that repeats the badge; no invitation Train cannot keep --


def status(app: AppTest) -> str:
    return next(m.value for m in app.markdown if "-badge[" in m.value)


def boxes(app: AppTest) -> list[str]:
    return [box.value for box in [*app.success, *app.info, *app.warning, *app.error]]


def test_paused_shows_no_speed_and_a_plain_stop_adds_no_box(at):
    at.number_input(key="pg_epochs").set_value(100000).run()
    at.button(key="pg_train").click().run()
    run = at.session_state["pg_run"]
    wait_until_epoch(run, 3)
    at.button(key="pg_pause").click().run()
    wait_until(lambda: run.snapshot().status == "paused", "the pause")
    at.run()
    assert "[Paused]" in status(at) and "epochs/s" not in status(at)
    at.button(key="pg_stop").click().run()
    finish(at)
    assert run.snapshot().message == "Stopped."
    assert "[Stopped]" in status(at) and "epochs/s on average" in status(at)
    assert not any("Stopped" in box for box in boxes(at))  # the badge says it; a box would push the chart down


def test_a_completed_run_shows_no_box_repeating_the_badge(at):
    at.number_input(key="pg_epochs").set_value(20).run()
    at.button(key="pg_train").click().run()
    finish(at)
    assert at.session_state["pg_run"].snapshot().message == "Completed 20 epochs."
    assert ":green-badge[Completed]" in status(at) and not at.success


def test_a_table_still_to_upload_does_not_invite_pressing_train(at):
    open_data(at).selectbox(key="pg_dataset").set_value("csv").run()
    assert at.button(key="pg_train").disabled
    assert not any("Press **Train**" in box for box in boxes(at))
    assert any("once the setup is ready" in c.value for c in at.caption)


def test_the_default_setup_invites_pressing_train(at):
    assert any("Press **Train**" in box for box in boxes(at))


def test_image_data_shows_sample_training_images_before_a_run(at):
    assert chart_count(at) == 1 and not at.get("image")  # the toy data: its chart, no images
    open_data(at).selectbox(key="pg_dataset").set_value("digits").run()
    assert not at.exception
    assert chart_count(at) == 0
    images = at.get("image")
    assert len(images) == 1 and len(images[0].proto.imgs) == 20  # two rows: the first two of each digit
    assert [img.caption for img in images[0].proto.imgs[:10]] == [str(d) for d in range(10)]
    assert any("Sample training images" in c.value and "8x8 grey pixels" in c.value for c in at.caption)
    open_data(at).selectbox(key="pg_dataset").set_value("spiral").run()  # and back: the data preview chart
    assert chart_count(at) == 1 and not at.get("image")


def test_the_per_class_table_is_tall_enough_for_ten_classes_and_the_macro_row():
    from playground.ui.inspect_panel import ROW_PX, table_height

    assert table_height(11) >= 12 * ROW_PX  # header + 10 classes + macro average: no scrolling
    assert table_height(3) < table_height(11) and table_height(50) == table_height(12)


def test_a_new_layer_goes_where_it_belongs_in_the_stack():
    from playground.ui.layer_editor import END, OUTPUT, insert_index

    toy, image = ["linear", "relu", "linear"], ["conv2d", "relu", "maxpool2d", "flatten", "linear"]
    assert insert_index(toy, OUTPUT, "tanh") == 2  # before the output Linear
    assert insert_index(image, OUTPUT, "dropout2d") == 3  # an image layer: before the Flatten
    assert insert_index(image, OUTPUT, "dropout") == 4
    assert insert_index(toy, END, "linear") == 3 and insert_index(toy, 1, "relu") == 1
    assert insert_index(["relu"], OUTPUT, "tanh") == 1  # no Linear: at the end


def test_an_lstm_added_to_sine_sequence_trains_and_shows_its_predictions(at):
    open_data(at).selectbox(key="pg_dataset").set_value("sine_sequence").run()
    assert any("Flatten" in e.value for e in at.error) and at.button(key="pg_train").disabled  # an MLP: says the fix
    open_add(at).selectbox(key="pg_add_type").set_value("lstm").run()
    at.button(key="pg_add_layer").click().run()
    assert stack_types(at)[0] == "lstm" and chips(at)[0] == "LSTM 64"  # where the features become flat: first
    assert not at.error and not at.exception
    rows = at.dataframe[0].value.to_dict("records")
    assert rows[0]["layer"] == "LSTM" and rows[0]["parameters"] == 4 * 64 * (1 + 64 + 2)
    assert rows[0]["output shape"] == "[64]" and rows[0]["detail"].startswith("20x1 -> 64")
    lstm = at.session_state["pg_layers"][0]["id"]
    open_chip(at, lstm).number_input(key=f"pg_l{lstm}_lstm_hidden").set_value(8).run()
    at.number_input(key=f"pg_l{lstm}_lstm_bidirectional").set_value(1).run()
    assert chips(at)[0] == "LSTM 8·bi" and not at.error
    at.number_input(key="pg_epochs").set_value(3).run()
    at.button(key="pg_train").click().run()
    finish(at)
    assert at.session_state["pg_run"].snapshot().status == "completed" and not at.exception


def test_an_insert_sent_again_for_the_old_choice_is_not_a_second_insert(monkeypatch):
    """Under load the browser can send a "+"'s choice again after the insert reset it (seen in the class e2e
    test: ReLU → Tanh, + Tanh): the second call, for the old widget, inserts nothing."""
    from types import SimpleNamespace

    from playground.ui import layer_editor

    state, made = {"pg_ins_1_0": "tanh"}, []
    monkeypatch.setattr(layer_editor, "st", SimpleNamespace(session_state=state))
    monkeypatch.setattr(layer_editor, "stack_specs", lambda: [{"type": "linear"}, {"type": "linear"}])
    monkeypatch.setattr(layer_editor, "set_layers", made.append)
    layer_editor.insert_at(1, 0)
    layer_editor.insert_at(1, 0)
    assert made == [[{"type": "linear"}, {"type": "tanh"}, {"type": "linear"}]]
    assert state[layer_editor.INSERTS] == 1
