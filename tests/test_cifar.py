"""CIFAR-10: the safe reader of its pickled batches, the dataset from a local folder (its download:
test_cifar_download.py), the message when neither is there, per-channel normalisation inside the model,
and a short training on a synthetic folder in the real file format (tests/cifar_folder.py; nothing is downloaded)."""
import os
import pickle

import numpy as np
import pytest
import torch

from cifar_folder import class_images, python2_batch, write_batch, write_cifar_folder
from playground import cifar, images
from playground.batched import why_not_batched
from playground.checkpoint import checkpoint_bytes, load_checkpoint
from playground.config import TrainConfig
from playground.datasets import make_dataset
from playground.engine import Engine
from playground.images import ImageDataError, load_images
from playground.presets import CIFAR_CNN


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """An empty data folder the loaders look in, offline, with the image cache cleared around the test."""
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path))
    monkeypatch.setenv("PLAYGROUND_OFFLINE", "1")
    images.clear_cache()
    yield tmp_path
    images.clear_cache()


@pytest.fixture
def folder(data_root):
    return write_cifar_folder(data_root, per_batch=20, n_test=30)


class RunsCode:
    """Unpickling this calls os.system: what a malicious batch file would hold."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_the_folder_reads_as_channel_major_colour_images_with_their_labels(folder):
    rng = np.random.default_rng(0)  # the folder's first batch, written again
    expected = class_images(np.arange(20) % 10, rng)
    x_train, y_train, x_test, y_test = cifar.read_cifar_folder(folder)
    assert x_train.shape == (100, 3, 32, 32) and x_test.shape == (30, 3, 32, 32) and x_train.dtype == np.uint8
    assert np.array_equal(x_train[:20], expected)  # row = red plane, green plane, blue plane
    assert x_train[0, 0, 0, 0] == 255 and x_train[1, 1, 0, 8] == 255  # class 0: red square, class 1: green
    assert list(y_train[:12]) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1] and y_test.dtype == np.int64
    assert cifar.read_class_names(folder) == cifar.CLASS_NAMES


@pytest.mark.parametrize("protocol", [2, 4])
def test_batches_pickled_with_either_protocol_are_read(tmp_path, protocol):
    written = write_batch(tmp_path / "batch", np.array([3, 1, 4]), np.random.default_rng(1), protocol)
    x, y = cifar.read_batch(tmp_path / "batch")
    assert np.array_equal(x, written) and list(y) == [3, 1, 4]


def test_a_python2_pickle_as_the_real_archive_holds_is_read(tmp_path):
    pixels = np.random.default_rng(3).integers(0, 256, (4, 3072), dtype=np.uint8)
    (tmp_path / "batch").write_bytes(python2_batch(pixels, [1, 2, 3, 4]))
    x, y = cifar.read_batch(tmp_path / "batch")
    assert np.array_equal(x.reshape(4, -1), pixels) and list(y) == [1, 2, 3, 4]


def test_data_as_plain_bytes_and_str_keys_are_accepted(tmp_path):
    pixels = np.random.default_rng(2).integers(0, 256, (2, 3072), dtype=np.uint8)
    (tmp_path / "batch").write_bytes(pickle.dumps({"data": pixels.tobytes(), "labels": [9, 0]}))
    x, y = cifar.read_batch(tmp_path / "batch")
    assert np.array_equal(x.reshape(2, -1), pixels) and list(y) == [9, 0]


def test_the_dataset_has_names_shapes_own_test_split_and_subsets(folder):
    full = make_dataset("cifar10")
    assert full.input_shape == (3, 32, 32) and full.class_names[0] == "airplane" and full.class_names[9] == "truck"
    assert (len(full.y_train), len(full.y_test)) == (100, 30)
    assert "CIFAR-10 from its local folder" in full.source and str(folder) in full.source
    small = make_dataset("cifar10", {"train_images": 40, "test_images": 10}, seed=3)
    assert (len(small.y_train), len(small.y_test)) == (40, 10)
    assert small.normalization == full.normalization  # the statistics of all the training images


def test_pixel_statistics_are_per_channel_and_equal_numpy(folder):
    loaded = load_images("cifar10")
    pixels = loaded.x_train.astype(np.float64) / 255.0
    assert np.allclose(loaded.mean, pixels.mean(axis=(0, 2, 3)), rtol=1e-9)
    assert np.allclose(loaded.std, pixels.std(axis=(0, 2, 3)), rtol=1e-6)
    assert "per colour channel: red (x − " in images.normalization_text(loaded)


def test_the_model_normalises_each_channel_with_its_own_statistics(folder):
    config = TrainConfig.from_dict({"dataset": {"name": "cifar10"}, "layers": CIFAR_CNN.stack()})
    engine = Engine(config)
    x = torch.from_numpy(engine.dataset.x_test[:4])
    mean, std = (torch.tensor(v).reshape(3, 1, 1) for v in engine.dataset.normalization)
    assert torch.allclose(engine.model[0](x), (x.float() / 255.0 - mean) / std, atol=1e-5)
    loaded = load_checkpoint(checkpoint_bytes(config, engine.model, engine.dataset.class_names))
    assert loaded.input_shape == (3, 32, 32) and loaded.class_names == engine.dataset.class_names
    expected = torch.softmax(engine.model.eval()(x), dim=1).detach().numpy()
    assert np.allclose(loaded.predict(x.numpy().astype(np.float32)), expected, atol=1e-6)


def test_a_short_training_learns_the_synthetic_colours(folder):
    config = TrainConfig.from_dict({"dataset": {"name": "cifar10"}, "layers": CIFAR_CNN.stack(), "epochs": 4,
                                    "batch_size": 16, "optimizer": {"name": "adam", "lr": 0.01}, "device": "cpu"})
    engine = Engine(config)
    for _ in engine.run():
        pass
    assert engine.final_metrics()["test_accuracy"] >= 0.9
    assert why_not_batched(config)  # images train alone, colour ones too


def test_a_pickle_that_names_os_system_is_refused_unrun(folder, tmp_path):
    marker = tmp_path / "ran"
    (folder / "data_batch_2").write_bytes(pickle.dumps(RunsCode(marker)))
    with pytest.raises(ValueError, match=r"data_batch_2 was refused: it names (posix|os|nt)\.system"):
        cifar.read_batch(folder / "data_batch_2")
    with pytest.raises(ImageDataError, match="refused"):
        load_images("cifar10")
    assert not marker.exists()


def test_a_class_inside_the_data_is_refused(tmp_path):
    (tmp_path / "batch").write_bytes(pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": [0],
                                                   b"extra": TrainConfig}))
    with pytest.raises(ValueError, match="refused: it names playground.config.TrainConfig"):
        cifar.read_batch(tmp_path / "batch")


def test_an_array_rebuilt_with_a_huge_shape_is_refused_before_it_is_made(tmp_path):
    class Huge:
        def __reduce__(self):
            return np.ndarray(0).__reduce__()[0], (np.ndarray, (10**6, 10**6), b"b")

    (tmp_path / "batch").write_bytes(pickle.dumps({b"data": Huge(), b"labels": []}, protocol=2))
    with pytest.raises(ValueError, match="refused: an array rebuilt other than numpy's pickles do"):
        cifar.read_batch(tmp_path / "batch")


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_damaged_files_say_which_file_and_what(folder, damage):
    path = folder / "data_batch_3"
    data = path.read_bytes()
    path.write_bytes({"truncated": data[:len(data) // 2], "garbage": os.urandom(5000), "empty": b""}[damage])
    with pytest.raises(ValueError, match="data_batch_3 is damaged or not a CIFAR-10 batch"):
        cifar.read_batch(path)
    with pytest.raises(ImageDataError, match="data_batch_3 is damaged"):
        load_images("cifar10")


@pytest.mark.parametrize("batch, problem", [
    ([1, 2, 3], "holds a list, not a CIFAR-10 batch"),
    ({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, "no 'data' of 3,072 uint8 values"),
    ({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}, "no 'data' of 3,072 uint8 values"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "2 images but its 'labels' are not one number"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, "a label outside 0-9"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": ["cat", "dog"]}, "no 'labels' of whole numbers"),
    ({b"labels": [0]}, "no 'data'"),
])
def test_wrong_contents_are_refused_with_a_reason(tmp_path, batch, problem):
    (tmp_path / "batch").write_bytes(pickle.dumps(batch))
    with pytest.raises(ValueError, match=problem):
        cifar.read_batch(tmp_path / "batch")


def test_a_file_larger_than_a_batch_is_not_read(tmp_path):
    write_batch(tmp_path / "batch", np.arange(10), np.random.default_rng(0))
    with pytest.raises(ValueError, match="more than a CIFAR-10 batch"):
        cifar.read_batch(tmp_path / "batch", max_bytes=1000)


def test_a_bad_meta_file_is_refused_and_a_missing_one_gives_the_standard_names(folder):
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [b"a"] * 3}))
    with pytest.raises(ValueError, match="not ten short names"):
        cifar.read_class_names(folder)
    (folder / "batches.meta").unlink()
    assert cifar.read_class_names(folder) == cifar.CLASS_NAMES


def test_offline_without_the_folder_the_error_says_where_to_get_it(data_root):
    with pytest.raises(ImageDataError) as caught:
        make_dataset("cifar10")
    message = str(caught.value)
    assert cifar.URL in message and "cifar-10-batches-py" in message and str(data_root) in message
    assert "PLAYGROUND_OFFLINE" in message

