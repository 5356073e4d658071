"""AppTest of the Playground's transfer learning: a `.pt` uploaded as the start, what it keeps shown under
the layer table, frozen layers marked with the trainable count, a file that is no model refused, the
finished run as a start, and a link's start_from filling the control."""
from app_popovers import open_popover
from playground.checkpoint import checkpoint_bytes
from playground.config import TrainConfig
from playground.engine import Engine
from playground.share import to_query


def spiral_model(**changes) -> bytes:
    engine = Engine(TrainConfig().replace(device="cpu", **changes))
    return checkpoint_bytes(engine.config, engine.model)


def upload(app, data: bytes, name: str = "mine.pt") -> None:
    uploader = open_popover(app, "pg_start_box").file_uploader(key="pg_start_upload")
    uploader.set_value((name, data, "application/octet-stream")).run()


def captions(app) -> str:
    return " ".join(c.value for c in app.caption)


def test_an_uploaded_model_becomes_the_start_and_the_table_shows_what_it_keeps(open_playground):
    app = open_playground()
    upload(app, spiral_model())
    assert app.session_state["pg_start"].startswith("upload:") and not app.error and not app.exception
    assert 'Starts from the uploaded model "mine.pt": kept the weights of layers 1 (Linear), 3 (Linear)' \
        in captions(app)
    open_popover(app, "pg_start_box").number_input(key="pg_freeze").set_value(1).run()
    table = app.dataframe[0].value
    assert list(table["frozen"]) == [True, False, False]
    assert "trainable" in captions(app) and "303 trainable" in captions(app)  # 100 * 3 + 3: the head only


def test_a_model_of_other_classes_gets_a_new_head(open_playground):
    app = open_playground()
    upload(app, spiral_model(dataset=TrainConfig().dataset.__class__(params=(("classes", 4), ("n_per_class", 50),
                                                                           ("noise", 0.2)))))
    assert "layer 3 is a new head" in captions(app) and not app.exception


def test_a_file_that_is_no_model_is_refused_with_its_reason(open_playground):
    app = open_playground()
    upload(app, b"\x80\x04 not a model", "evil.pt")
    assert "That model cannot be a start" in " ".join(e.value for e in app.error)
    assert app.session_state["pg_start"] == "" and not app.exception


def test_a_links_start_and_freeze_fill_the_controls(open_playground):
    config = TrainConfig.from_dict({"start_from": "default:mnist", "freeze": 1,
                                    "dataset": {"name": "digits"}, "layers": [
                                        {"type": "conv2d", "out": 32, "kernel": 3, "padding": 1}, {"type": "relu"},
                                        {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"},
                                        {"type": "linear"}]})
    app = open_playground(to_query(config))
    assert app.session_state["pg_start"] == "default:mnist" and app.session_state["pg_freeze"] == 1
    assert "Starts from the Draw page's MNIST model: kept the weights of layers 1 (Conv2d)" in captions(app)
    assert not app.exception


def test_the_finished_run_becomes_a_start(open_playground):
    config = TrainConfig().replace(epochs=3, device="cpu")
    app = open_playground(to_query(config))
    app.button(key="pg_train").click().run()
    app.session_state["pg_run"].join(120)
    app.run()
    open_popover(app, "pg_start_box").button(key="pg_start_run").click().run()
    assert app.session_state["pg_start"].startswith("run:") and not app.exception
    assert "Starts from the finished run" in captions(app) and "kept the weights of layers 1 (Linear)" in captions(app)


def test_a_teachers_link_that_hides_the_model_keeps_its_start_and_freeze(open_playground):
    from test_app_playground_share import page_config

    config = TrainConfig.from_dict({"start_from": "default:mnist", "freeze": 1, "dataset": {"name": "digits"},
                                    "layers": [{"type": "conv2d", "out": 32, "kernel": 3, "padding": 1},
                                               {"type": "relu"}, {"type": "maxpool2d", "kernel": 2},
                                               {"type": "flatten"}, {"type": "linear"}]})
    def sections(app) -> list[str]:
        return [block.label for block in app.sidebar.get("expander") if "Start from" in block.label]

    assert sections(open_playground(to_query(config))) == ["Start from · The Draw page's MNIST CNN · 1 frozen"]
    app = open_playground(to_query(config, hidden=["model"]))
    assert sections(app) == []
    assert page_config(app) == config and not app.exception
