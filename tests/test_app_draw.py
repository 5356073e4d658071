"""AppTest of the draw page: which model it uses, the hint on an empty canvas, and drawings.

AppTest cannot draw on the canvas component, so drawings are injected as its state: the PNG data
URL the component sends. The browser test draws with the mouse on the real canvas.
"""
import base64
import io
import json
import threading

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from app_popovers import open_data
from playground import explain
from playground.budget import forward_flops
from playground.checkpoint import save_checkpoint
from playground.config import TrainConfig
from playground.model import MAX_PARAMETERS, build_model, plan_for
from playground.ui import server


@pytest.fixture
def draw(open_page):
    return open_page("pages/2_Draw.py")


def test_empty_canvas_shows_a_hint_and_the_default_model(draw):
    assert draw.radio(key="dr_choice").value == "default"
    assert any("Draw a digit from 0 to 9" in i.value for i in draw.info)
    assert not draw.metric  # no guess without ink
    caption = draw.caption[0].value
    assert "trained on MNIST digits" in caption and "test accuracy" in caption


def test_a_finished_mnist_run_on_the_playground_becomes_the_model(draw):
    draw.switch_page("pages/1_Playground.py").run()
    open_data(draw).selectbox(key="pg_dataset").set_value("mnist").run()
    open_data(draw).number_input(key="pg_ds_mnist_train_images").set_value(300).run()
    draw.number_input(key="pg_epochs").set_value(1).run()
    draw.button(key="pg_train").click().run()
    draw.session_state["pg_run"].join(120)
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
    draw.session_state["pg_run"].join(120)
    draw.switch_page("pages/2_Draw.py").run()
    assert draw.radio(key="dr_choice").options == ["The default MNIST model"]


# --- drawings injected as the canvas component's state -----------------------------------------


def inject(app: AppTest, rgba: np.ndarray) -> AppTest:
    """Put `rgba` on the canvas as the component would send it (a PNG data URL), then rerun."""
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    version = app.session_state["dr_canvas_version"] if "dr_canvas_version" in app.session_state else 0
    app.session_state[f"dr_canvas_{version}"] = {"drawing": {"raw": {"objects": []}, "data": url},
                                                  "backgroundFit": None}
    return app.run()


def blank() -> np.ndarray:
    return np.zeros((280, 280, 4), np.uint8)


def guess(app: AppTest) -> str:
    return next(m.value for m in app.metric if m.label == "The model's guess")


def test_a_vertical_stroke_is_a_one_with_a_preview_and_probabilities(draw):
    image = blank()
    image[50:230, 130:150] = 255
    inject(draw, image)
    assert not draw.exception
    assert guess(draw) == "1"
    assert len(draw.get("image")) == 3  # the 28x28 preview, the occlusion overlay, the feature maps
    assert [t.label for t in draw.tabs] == ["Which strokes drove the guess", "First conv layer on your drawing"]
    assert any("What the first Conv2d's 32 filters respond to" in c.value for c in draw.caption)
    bars = json.loads(draw.get("plotly_chart")[0].proto.spec)["data"][0]
    assert bars["type"] == "bar" and bars["x"] == [str(d) for d in range(10)]
    assert not any("Draw a digit from 0 to 9" in i.value for i in draw.info)


def test_a_loop_is_a_zero(draw):
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((85, 55, 195, 225), outline=(255, 255, 255, 255), width=18)
    inject(draw, np.asarray(image))
    assert guess(draw) == "0"


def test_real_test_digits_drawn_large_and_off_centre_are_recognised(draw):
    """MNIST test digits, blown up to canvas size and placed off-centre, go through the page's own path."""
    from playground.default_model import DEFAULT_CONFIG
    from playground.engine import load_dataset

    dataset = load_dataset(DEFAULT_CONFIG)
    right = 0
    for index in range(0, 200, 20):
        digit = Image.fromarray(dataset.x_test[index, 0]).resize((180, 180), Image.BILINEAR)
        image = Image.new("L", (280, 280))
        image.paste(digit, (index % 100, 90 - index % 90))
        inject(draw, np.asarray(image.convert("RGBA")))
        right += guess(draw) == str(dataset.y_test[index])
    assert right >= 9


def test_an_empty_drawing_shows_the_hint_again(draw):
    inject(draw, blank())
    assert not draw.metric and any("Draw a digit from 0 to 9" in i.value for i in draw.info)


def test_clear_gives_a_fresh_canvas(draw):
    image = blank()
    image[50:230, 130:150] = 255
    inject(draw, image)
    draw.button(key="dr_clear").click().run()
    assert draw.session_state["dr_canvas_version"] == 1
    assert not draw.metric


# --- what an uploaded model may cost per drawing -------------------------------------------------

def cnn(*channels: int, pool: int = 4) -> TrainConfig:
    """An MNIST CNN of 3x3 same-size convolutions with these channel counts, then a pool and Linear."""
    convs = [layer for out in channels for layer in ({"type": "conv2d", "out": out, "kernel": 3, "padding": 1},
                                                     {"type": "relu"})]
    return TrainConfig.from_dict({"dataset": {"name": "mnist"}, "epochs": 1, "layers": [
        *convs, {"type": "maxpool2d", "kernel": pool}, {"type": "flatten"}, {"type": "linear"}]})


def upload(app: AppTest, config: TrainConfig) -> AppTest:
    """Upload an untrained checkpoint of `config` on the Draw page."""
    buffer = io.BytesIO()
    save_checkpoint(buffer, config, build_model(plan_for(config)), tuple(map(str, range(10))), {})
    file = ("model.pt", buffer.getvalue(), "application/octet-stream")
    return app.file_uploader(key="dr_upload").set_value(file).run()


def work(config: TrainConfig) -> explain.DrawingWork:
    return explain.drawing_work(forward_flops(plan_for(config)), 28, 28)


def test_a_model_too_large_to_run_per_stroke_is_refused_and_the_default_still_predicts(draw):
    large = cnn(256, 256, 256, 256, 256, 256, 256)  # 3.7M weights, 5.6 billion FLOPs per image
    assert plan_for(large).parameters < MAX_PARAMETERS and not work(large).fits
    upload(draw, large)
    assert not draw.exception
    message = draw.error[0].value
    assert "too large to run here on every stroke" in message and "allows 10.0 billion per drawing" in message
    assert draw.radio(key="dr_choice").options == ["The default MNIST model"]
    image = blank()
    image[50:230, 130:150] = 255
    inject(draw, image)
    assert guess(draw) == "1"


def test_a_model_over_the_occlusion_cap_still_guesses_without_the_occlusion_map(draw):
    medium = cnn(32, 64, 64)
    assert work(medium).fits and not work(medium).explains
    upload(draw, medium)
    assert draw.radio(key="dr_choice").value == "uploaded" and not draw.error
    image = blank()
    image[50:230, 130:150] = 255
    inject(draw, image)
    assert not draw.exception
    assert guess(draw) in [str(d) for d in range(10)]
    assert any("too large for the occlusion map here" in c.value for c in draw.caption)
    assert len(draw.get("image")) == 2  # the preview and the feature maps, no occlusion overlay


def test_the_server_runs_drawings_on_one_torch_thread(open_page):
    """An uploaded model must not take every core: the server's warm-up sets torch to one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    server.warm_up.clear()
    try:
        app = open_page("pages/2_Draw.py")
        assert not app.exception
        seen = []  # torch's thread count is per thread: a new one (as each page run is) takes the server's
        reader = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
        reader.start()
        reader.join()
        assert seen == [1]
    finally:
        torch.set_num_threads(before)
