"""AppTest of the draw page: which model it uses, the hint on an empty canvas, bad uploads.

The canvas is a custom component that AppTest cannot draw on; drawing is covered by the browser
test, and the preprocessing and prediction by the unit tests.
"""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def draw():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    app.switch_page("pages/2_Draw.py").run()
    assert not app.exception
    return app


def test_empty_canvas_shows_a_hint_and_the_default_model(draw):
    assert draw.radio(key="dr_choice").value == "default"
    assert any("Draw a digit from 0 to 9" in i.value for i in draw.info)
    assert not draw.metric  # no guess without ink
    caption = draw.caption[0].value
    assert "trained on MNIST digits" in caption and "test accuracy" in caption


def test_a_finished_mnist_run_on_the_playground_becomes_the_model(draw):
    draw.switch_page("pages/1_Playground.py").run()
    draw.selectbox(key="pg_dataset").set_value("mnist").run()
    draw.number_input(key="pg_ds_mnist_train_images").set_value(300).run()
    draw.number_input(key="pg_epochs").set_value(1).run()
    draw.button(key="pg_train").click().run()
    draw.session_state["pg_run"].join(60)
    draw.switch_page("pages/2_Draw.py").run()
    assert not draw.exception
    assert draw.radio(key="dr_choice").options == ["The model trained on the Playground", "The default MNIST model"]
    assert draw.radio(key="dr_choice").value == "session"
    assert "trained on MNIST digits" in draw.caption[0].value
    draw.radio(key="dr_choice").set_value("default").run()
    assert "test accuracy" in draw.caption[0].value
    assert "5-layer" in draw.caption[0].value


def test_a_playground_run_on_other_data_is_not_offered(draw):
    draw.switch_page("pages/1_Playground.py").run()
    draw.number_input(key="pg_epochs").set_value(5).run()
    draw.button(key="pg_train").click().run()  # the default spiral
    draw.session_state["pg_run"].join(60)
    draw.switch_page("pages/2_Draw.py").run()
    assert draw.radio(key="dr_choice").options == ["The default MNIST model"]
