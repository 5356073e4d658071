"""AppTest of the Playground's Augmentation section: only for images, its controls reach the config and the
link, it shows a grid of augmented samples, and a link with augmentation fills its controls."""
import json

from app_popovers import open_data, open_popover
from playground import share
from playground.config import TrainConfig
from test_app_playground_share import page_config

DIGITS = TrainConfig.from_dict({"dataset": {"name": "digits", "train_images": 200, "test_images": 50},
                                "layers": [{"type": "flatten"}, {"type": "linear"}], "epochs": 2, "batch_size": 32,
                                "device": "cpu", "augment": {"crop": 2, "flip": True, "rotate": 15}})


def open_augment(app):
    return open_popover(app, "pg_aug_box")


def grid(app) -> dict:
    return next(json.loads(c.proto.spec) for c in app.get("plotly_chart") if '"image"' in c.proto.spec)


def test_toy_data_has_no_augmentation_section(open_playground):
    app = open_playground()
    assert "pg_aug_box" not in app.session_state and "augment" not in page_config(app).to_dict()


def test_the_controls_reach_the_config_and_the_link_and_show_a_grid(open_playground):
    app = open_playground()
    open_data(app).selectbox(key="pg_dataset").set_value("digits").run()
    open_augment(app)
    assert page_config(app).augment is None and not any('"image"' in c.proto.spec for c in app.get("plotly_chart"))
    app.slider(key="pg_aug_crop").set_value(2).run()
    app.checkbox(key="pg_aug_flip").check().run()
    app.slider(key="pg_aug_rotate").set_value(10.0).run()
    assert not app.exception
    assert page_config(app).augment.to_dict() == {"crop": 2, "flip": True, "rotate": 10.0}
    assert app.query_params["augment.crop"] == "2" and app.query_params["augment.flip"] == "true"
    image = grid(app)["data"][0]
    assert image["type"] == "image"
    assert any("test images never are" in c.value for c in app.caption)


def test_a_link_with_augmentation_fills_the_controls_and_trains(open_playground):
    app = open_augment(open_playground(share.to_query(DIGITS)))
    assert app.slider(key="pg_aug_crop").value == 2 and app.checkbox(key="pg_aug_flip").value
    assert app.slider(key="pg_aug_rotate").value == 15.0
    assert page_config(app) == DIGITS
    app.button(key="pg_train").click().run()
    app.session_state["pg_run"].join(120)
    app.run()
    assert not app.exception and app.session_state["pg_run"].config.augment == DIGITS.augment


def test_the_augmentation_race_runs_on_the_lessons_page_and_gives_its_verdict(open_page, monkeypatch):
    from playground.lessons import LESSONS

    lesson = LESSONS["augmentation"]
    quick = tuple((name, TrainConfig.from_dict({**config.to_dict(), "epochs": 2, "device": "cpu", "dataset": {
        "name": "mnist", "train_images": 100, "test_images": 100}})) for name, config in lesson.race)
    monkeypatch.setitem(LESSONS, "augmentation", lesson.__class__(**{**lesson.__dict__, "race": quick}))
    app = open_page("pages/3_Lessons.py")
    app.button(key="ls_start_augmentation").click().run()
    app.session_state["ls_race"].join(120)
    app.run()
    assert not app.exception
    assert any("gap" in m.value and "Augmented" in m.value for m in [*app.success, *app.warning])
