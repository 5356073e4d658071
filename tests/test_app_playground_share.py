"""AppTest of the Playground's link features: setup in the URL, teacher links, lessons, CSV data, export."""
from dataclasses import replace

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app_popovers import open_data, open_popover
from playground import share, tabular
from playground.config import TrainConfig
from playground.lessons import LESSONS
from test_live_chart import charts  # the live view's charts are a component (UnknownElement in AppTest)

XOR = TrainConfig.from_dict({"dataset": {"name": "xor", "n_samples": 60, "noise": 0.1, "seed": 3},
                             "layers": [{"type": "linear", "out": 8}, {"type": "tanh"}, {"type": "linear"}],
                             "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}, "epochs": 40, "seed": 7,
                             "device": "cpu"})


def finish(app: AppTest) -> None:
    app.session_state["pg_run"].join(120)
    app.run()


def page_config(app: AppTest) -> TrainConfig:
    open_popover(app, "pg_config_panel")  # the Config JSON section shows the page's config
    code = next(c.value for c in app.code if c.language == "json")
    return TrainConfig.from_json(code)


def test_a_link_fills_every_widget_and_the_config(open_playground):
    app = open_playground(share.to_query(XOR))
    assert open_data(app).selectbox(key="pg_dataset").value == "xor"
    assert app.number_input(key="pg_epochs").value == 40 and app.number_input(key="pg_seed").value == 7
    assert app.selectbox(key="pg_opt").value == "sgd" and app.select_slider(key="pg_lr").value == 0.1
    assert page_config(app) == XOR


def test_the_url_follows_the_widgets_and_never_holds_the_workspace(open_playground):
    app = open_playground()
    workspace = app.session_state["ui_workspace"]
    app.number_input(key="pg_epochs").set_value(77).run()
    assert app.query_params["epochs"] == "77" and "ws" not in app.query_params
    assert app.session_state["ui_workspace"] == workspace
    assert share.from_query(app.query_params).config == page_config(app)


def test_a_rerun_that_carries_an_older_address_undoes_nothing(open_playground):
    """A click sent before the browser had the address of the last change carries the address from
    before it: the page keeps the change, trains with it and puts the newer address back."""
    app = open_playground(share.to_query(XOR))
    before = dict(app.query_params)
    app.number_input(key="pg_epochs").set_value(30).run()
    assert app.query_params["epochs"] == "30"
    app.query_params.clear()
    app.query_params.update(before)  # the browser had not yet received the address with 30 epochs
    app.button(key="pg_train").click().run()
    assert app.number_input(key="pg_epochs").value == 30
    assert app.session_state["pg_run"].config.epochs == 30 and app.query_params["epochs"] == "30"
    finish(app)


def test_a_link_from_another_page_applies_even_when_this_page_wrote_it_before(open_page, open_playground):
    """Opening a run or lesson from another page loads its setup, though the Playground showed it earlier."""
    app = open_playground(share.to_query(XOR))
    app.number_input(key="pg_epochs").set_value(30).run()
    app.switch_page("pages/4_Runs.py").run()
    app.query_params.clear()
    app.query_params.update(share.to_query(XOR))
    app.switch_page("pages/1_Playground.py").run()
    assert app.number_input(key="pg_epochs").value == 40 and page_config(app) == XOR


def test_the_same_link_trains_the_same_run_twice(open_playground):
    scores = []
    for _ in range(2):
        app = open_playground(share.to_query(XOR))
        app.button(key="pg_train").click().run()
        finish(app)
        scores.append(app.session_state["pg_run"].snapshot().final["test_accuracy"])
        assert app.session_state["pg_run"].snapshot().status == "completed"
    assert scores[0] == scores[1]


def test_a_bad_link_warns_and_keeps_the_default_setup(open_playground):
    app = open_playground({"dataset.name": "cifar", "epochs": "5"})
    assert any("could not be used" in w.value and "cifar" in w.value for w in app.warning)
    assert open_data(app).selectbox(key="pg_dataset").value == "spiral"
    assert app.query_params["dataset.name"] == "spiral"  # the address bar shows the setup in use
    assert not app.exception


def test_a_teacher_link_hides_the_chosen_controls_and_keeps_their_values(open_playground):
    app = open_playground(share.to_query(XOR, hidden=["model", "learning_rate", "data"]))
    keys = {w.key for w in app.get("selectbox")} | {w.key for w in app.get("select_slider")} | \
        {w.key for w in app.get("button")}
    assert "pg_lr" not in keys and "pg_preset_Linear" not in keys and "pg_dataset" not in keys
    assert "pg_opt" in keys  # not hidden
    assert any("Set by your teacher's link" in c.value for c in app.caption)
    assert [row["layer"] for row in app.dataframe[0].value.to_dict("records")] == ["Linear", "Tanh", "Linear"]
    assert page_config(app) == XOR and app.query_params["hide"] == "data,model,learning_rate"
    app.number_input(key="pg_epochs").set_value(41).run()  # visible controls still work
    assert page_config(app) == XOR.replace(epochs=41)


def test_teacher_mode_puts_the_hidden_controls_into_the_shared_link_only(open_playground):
    app = open_playground(share.to_query(XOR))
    app.toggle(key="pg_teacher").set_value(True).run()
    app.multiselect(key="pg_share_hide").set_value(["model", "optimizer"]).run()
    link = next(c.value for c in app.code if "hide=" in c.value)
    assert "hide=model,optimizer" in link and "layers=linear(out=8),tanh,linear" in link
    assert "hide" not in app.query_params and "ws=" not in link  # the teacher's own page hides nothing


def test_a_lesson_link_shows_the_story_then_the_verdict(open_playground):
    lesson = LESSONS["line"]
    app = open_playground(share.to_query(lesson.config.replace(device="cpu"), lesson.hide, lesson.slug))
    app.radio(key="pg_quiz_line").set_value(2).run()  # the lesson asks first (tests/test_app_quiz.py)
    text = " ".join(m.value for m in app.markdown)
    assert lesson.title in text and "Expected: a prediction of about 10.0" in " ".join(c.value for c in app.caption)
    app.button(key="pg_train").click().run()
    finish(app)
    assert any("as the lesson said" in s.value for s in app.success)
    app.button(key="pg_lesson_close").click().run()
    assert "lesson" not in app.query_params and lesson.title not in " ".join(m.value for m in app.markdown)


def test_a_changed_lesson_setup_gets_no_verdict(open_playground):
    lesson = LESSONS["line"]
    app = open_playground(share.to_query(lesson.config, lesson.hide, lesson.slug))
    app.number_input(key="pg_epochs").set_value(5).run()
    app.button(key="pg_train").click().run()
    finish(app)
    assert not any("lesson" in s.value for s in app.success)


def test_an_unknown_lesson_is_reported(open_playground):
    app = open_playground({**share.to_query(XOR), "lesson": "alchemy"})
    assert any("lesson that does not exist" in w.value for w in app.warning)


@pytest.fixture
def blobs_csv() -> str:
    rng = np.random.default_rng(0)
    rows = [f"{x:.4f},{y:.4f},{'setosa' if c == 0 else 'virginica'}"
            for c in (0, 1) for x, y in rng.normal(loc=3 * c, size=(40, 2))]
    return tabular.save_upload(("x1,x2,species\n" + "\n".join(rows) + "\n").encode(), "flowers.csv")


def test_an_uploaded_table_trains_with_a_decision_boundary(blobs_csv, open_playground):
    app = open_playground()
    app.session_state["pg_csv_file"] = blobs_csv
    open_data(app).selectbox(key="pg_dataset").set_value("csv").run()
    assert app.selectbox(key="pg_csv_label").value == "species"
    assert app.multiselect(key="pg_csv_features").value == ["x1", "x2"]
    assert app.radio(key="pg_csv_task").value == "classification"
    app.number_input(key="pg_epochs").set_value(200).run()
    app.select_slider(key="pg_lr").set_value(0.01).run()
    app.button(key="pg_train").click().run()
    finish(app)
    final = app.session_state["pg_run"].snapshot().final
    assert final["test_accuracy"] > 0.9
    assert len(charts(app)) == 5  # boundary, loss, accuracy, network, neuron maps
    assert share.from_query(app.query_params).config.dataset.table.file == blobs_csv


def test_a_table_without_features_explains_itself(blobs_csv, open_playground):
    app = open_playground()
    app.session_state["pg_csv_file"] = blobs_csv
    open_data(app).selectbox(key="pg_dataset").set_value("csv").run()
    app.multiselect(key="pg_csv_features").set_value([]).run()
    assert any("dataset.features" in e.value for e in app.error)
    assert app.button(key="pg_train").disabled and not app.exception


def test_choosing_csv_before_uploading_asks_for_a_file(open_playground):
    app = open_playground()
    open_data(app).selectbox(key="pg_dataset").set_value("csv").run()
    assert any("Upload a CSV file" in i.value for i in app.info) and not app.error
    assert app.button(key="pg_train").disabled and not app.exception


def test_the_export_panel_shows_a_script_for_the_setup(open_playground):
    app = open_playground(share.to_query(XOR))
    assert not [c for c in app.code if c.language == "python"]  # folded: no script is written
    script = next(c.value for c in open_popover(app, "pg_export_panel").code if c.language == "python")
    compile(script, "exported.py", "exec")
    assert "nn.Linear(2, 8)" in script and "nn.Tanh()" in script and "import playground" not in script


def test_a_lesson_name_alone_opens_the_lesson(open_playground):
    app = open_playground({"lesson": "spiral-linear"})
    assert page_config(app) == LESSONS["spiral-linear"].config
    assert app.query_params["lesson"] == "spiral-linear" and app.query_params["layers"] == "linear"


def test_hidden_controls_without_a_setup_are_reported(open_playground):
    app = open_playground({"hide": "model"})
    assert any("holds no setup" in w.value and "default setup" in w.value for w in app.warning)
    assert "pg_preset_Linear" in {b.key for b in app.get("button")}  # the layer editor is there


def test_back_from_another_page_the_widgets_show_the_setup_they_had(open_playground):
    """Streamlit drops the values of widgets another page did not draw; the Playground gets them back."""
    app = open_playground(share.to_query(XOR))
    app.number_input(key="pg_epochs").set_value(30).run()
    app.select_slider(key="pg_wd").set_value(0.001).run()
    app.switch_page("pages/4_Runs.py").run()
    app.query_params.clear()
    app.switch_page("pages/1_Playground.py").run()
    assert not app.exception
    assert app.number_input(key="pg_epochs").value == 30 and app.select_slider(key="pg_wd").value == 0.001
    assert page_config(app) == XOR.replace(epochs=30, optimizer=replace(XOR.optimizer, weight_decay=0.001))
