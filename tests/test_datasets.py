"""Dataset generators: shapes, dtypes, labels, seeds, the stratified split and each dataset's rule;
image datasets: their split, seeded subsampling without copies, pixels, source and normalisation."""
import math
import os

import numpy as np
import pytest

from playground import images, settings
from playground.datasets import DATASETS, Dataset, coffee_roast, make_dataset, spiral
from playground.images import ImageSet, load_images
from playground.tasks import CLASSIFICATION, REGRESSION

TOYS = [name for name, spec in DATASETS.items() if not spec.is_image and not spec.is_table]
IMAGES = [name for name, spec in DATASETS.items() if spec.is_image and name != "class_digits"]  # test_class_digits
CLASSIFIERS = [name for name in TOYS if DATASETS[name].task == CLASSIFICATION]
REGRESSORS = [name for name in TOYS if DATASETS[name].task == REGRESSION]


def small(name: str) -> dict:
    """Parameters that keep each dataset to a few dozen points."""
    sizes = {"n_samples": 60, "n_per_class": 20}
    return {p.name: sizes[p.name] for p in DATASETS[name].params if p.name in sizes}


def test_both_tasks_are_registered():
    assert set(CLASSIFIERS) >= {"spiral", "circles", "xor", "blobs", "moons", "coffee_roast"}
    assert set(REGRESSORS) >= {"linear_regression", "sine"}


@pytest.mark.parametrize("name", TOYS)
def test_features_are_float32_rows_of_the_declared_width(name):
    data = make_dataset(name, small(name), test_fraction=0.25)
    shape = DATASETS[name].shape_for({**DATASETS[name].defaults(), **small(name)})  # (features,) or (steps, 1)
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        assert x.dtype == np.float32
        assert x.shape[1:] == shape
        assert len(x) == len(y)
    assert data.n_features == int(np.prod(shape))
    assert len(data.x_test) > 0
    assert data.x_all.shape == (len(data.x_train) + len(data.x_test), *shape)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classification_targets_are_int64_ids_0_to_c_minus_1(name):
    data = make_dataset(name, small(name))
    for y in (data.y_train, data.y_test):
        assert y.dtype == np.int64
        assert y.ndim == 1
    labels = set(np.concatenate([data.y_train, data.y_test]).tolist())
    assert labels == set(range(data.n_classes))
    assert data.task == CLASSIFICATION
    assert len(data.class_names) == data.n_classes >= 2


@pytest.mark.parametrize("name", REGRESSORS)
def test_regression_targets_are_float32_columns(name):
    data = make_dataset(name, small(name), test_fraction=0.25)
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        assert y.dtype == np.float32
        assert y.shape == (len(x), 1)
    assert data.task == REGRESSION
    assert data.class_names == () and data.n_classes == 0


@pytest.mark.parametrize("name", TOYS)
def test_same_seed_gives_same_data(name):
    a = make_dataset(name, small(name), test_fraction=0.25, seed=7)
    b = make_dataset(name, small(name), test_fraction=0.25, seed=7)
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@pytest.mark.parametrize("name", TOYS)
def test_different_seed_gives_different_data(name):
    params = {**small(name), "noise": 0.1}
    a = make_dataset(name, params, test_fraction=0.25, seed=7)
    b = make_dataset(name, params, test_fraction=0.25, seed=8)
    assert not (np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_train, b.y_train))


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_stratified_split_puts_every_class_in_the_test_set(name):
    data = make_dataset(name, small(name), test_fraction=0.1)
    assert set(data.y_test.tolist()) == set(range(data.n_classes))
    assert set(data.y_train.tolist()) == set(range(data.n_classes))


def test_split_takes_test_fraction_of_each_class():
    data = make_dataset("spiral", {"classes": 4, "n_per_class": 40}, test_fraction=0.25)
    assert len(data.x_test) == 40
    assert np.bincount(data.y_test).tolist() == [10, 10, 10, 10]
    assert np.bincount(data.y_train).tolist() == [30, 30, 30, 30]


def test_regression_split_takes_test_fraction_of_all_points():
    data = make_dataset("sine", {"n_samples": 200}, test_fraction=0.3)
    assert len(data.x_test) == 60 and len(data.x_train) == 140


def test_split_keeps_every_point_exactly_once():
    data = make_dataset("sine", {"n_samples": 50}, test_fraction=0.2, seed=3)
    full = make_dataset("sine", {"n_samples": 50}, test_fraction=0.0, seed=3)
    assert sorted(data.x_all[:, 0].tolist()) == sorted(full.x_all[:, 0].tolist())


def test_zero_test_fraction_leaves_no_test_points():
    data = make_dataset("spiral", {"n_per_class": 10}, test_fraction=0.0)
    assert data.x_test.shape == (0, 2) and data.y_test.shape == (0,)
    assert len(data.x_train) == 30


@pytest.mark.parametrize("classes, n_per_class", [(2, 5), (3, 20), (7, 11)])
def test_spiral_has_c_classes_of_n_per_class_points(classes, n_per_class):
    data = make_dataset("spiral", {"classes": classes, "n_per_class": n_per_class})
    labels = np.concatenate([data.y_train, data.y_test])
    assert len(labels) == classes * n_per_class
    assert np.bincount(labels).tolist() == [n_per_class] * classes
    assert data.class_names == tuple(f"class {c}" for c in range(classes))


def test_spiral_default_is_three_arms_of_a_thousand_points():
    data = make_dataset("spiral")
    assert len(data.x_all) == 3000 and data.n_classes == 3
    assert len(data.x_test) == 600


def test_spiral_arms_follow_the_classic_formula_without_noise():
    x, y = spiral(np.random.default_rng(0), classes=3, n_per_class=5, noise=0.0)
    radius = np.linspace(0, 1, 5)
    for c in range(3):
        angle = np.linspace(2 * math.pi * c / 3, 2 * math.pi * (2 + c) / 3, 5)
        expected = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
        np.testing.assert_allclose(x[y == c], expected, atol=1e-12)


def test_linear_regression_default_is_x_1_to_4_on_y_equals_2x_with_no_test_points():
    data = make_dataset("linear_regression")
    assert data.x_train[:, 0].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert data.y_train[:, 0].tolist() == [2.0, 4.0, 6.0, 8.0]
    assert data.x_test.shape == (0, 1) and data.y_test.shape == (0, 1)


def test_linear_regression_noise_moves_points_off_the_line():
    data = make_dataset("linear_regression", {"n_samples": 20, "noise": 1.0}, test_fraction=0.0)
    residual = data.y_train[:, 0] - 2 * data.x_train[:, 0]
    assert np.abs(residual).max() > 0.1


def _good_roast(temperature, duration):
    return ((temperature > 175) & (temperature < 260) & (duration > 12) & (duration < 15)
            & (duration <= -3 / 85 * temperature + 21))


def test_coffee_roast_generator_labels_follow_the_triangle_rule():
    x, y = coffee_roast(np.random.default_rng(5), n_samples=2000)
    np.testing.assert_array_equal(y, _good_roast(x[:, 0], x[:, 1]).astype(int))
    assert 0 < y.sum() < len(y)


def test_coffee_roast_dataset_ranges_names_and_labels():
    data = make_dataset("coffee_roast", {"n_samples": 400})
    x, y = data.x_all, np.concatenate([data.y_train, data.y_test])
    assert x[:, 0].min() >= 150 and x[:, 0].max() <= 285
    assert x[:, 1].min() >= 11.5 and x[:, 1].max() <= 15.5
    np.testing.assert_array_equal(y, _good_roast(x[:, 0].astype(float), x[:, 1].astype(float)).astype(int))
    assert data.class_names == ("bad roast", "good roast")
    assert data.standardize is True


def test_param_overrides_change_the_generated_data():
    data = make_dataset("blobs", {"classes": 5, "n_per_class": 8})
    assert data.n_classes == 5 and len(data.x_all) == 40
    rings = make_dataset("circles", {"n_samples": 40, "noise": 0.0, "factor": 0.3}, test_fraction=0.0)
    radius = np.linalg.norm(rings.x_train, axis=1)
    np.testing.assert_allclose(radius[rings.y_train == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(radius[rings.y_train == 1], 0.3, atol=1e-6)


def test_missing_params_take_their_defaults():
    data = make_dataset("circles", {"noise": 0.0})
    assert len(data.x_all) == DATASETS["circles"].defaults()["n_samples"]


def test_integer_params_given_as_floats_are_used_as_integers():
    data = make_dataset("spiral", {"classes": 2.0, "n_per_class": 6.0})
    assert len(data.x_all) == 12 and data.n_classes == 2


def test_xor_labels_are_the_sign_of_the_product_without_noise():
    data = make_dataset("xor", {"n_samples": 200, "noise": 0.0}, test_fraction=0.0)
    product = data.x_train[:, 0] * data.x_train[:, 1]
    np.testing.assert_array_equal(data.y_train, (product > 0).astype(np.int64))


def test_dataset_spec_defaults_lie_within_their_ranges():
    for spec in DATASETS.values():
        for param in spec.params:
            assert param.low <= param.default <= param.high, (spec.name, param.name)
        assert 0.0 <= spec.test_fraction < 1.0


def test_dataset_is_frozen():
    data = make_dataset("moons", {"n_samples": 20})
    assert isinstance(data, Dataset)
    with pytest.raises(Exception):
        data.name = "other"


# --- image datasets --------------------------------------------------------------------------------


def require_images(name: str) -> None:
    """Fashion-MNIST needs Debian's dataset-fashion-mnist (or a local copy): skip without it, except on CI."""
    if name != "fashion_mnist" or images.find_idx_folder(images.DEBIAN_FASHION) is not None \
            or images.find_idx_folder(settings.data_root() / "FashionMNIST" / "raw") is not None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must install dataset-fashion-mnist ({images.DEBIAN_FASHION} is missing)")
    pytest.skip("Fashion-MNIST is not on this machine (apt install dataset-fashion-mnist)")


def indexed_images(n: int = 300):
    """A fake ImageSet whose image i carries i in its pixels, so a subsample's rows can be read back."""
    index = np.arange(n)
    x = np.stack([index // 256, index % 256, np.zeros(n), np.zeros(n)], axis=1).astype(np.uint8).reshape(n, 1, 2, 2)
    return ImageSet("digits", x, (index % 10).astype(np.int64), None, None, tuple("0123456789"), "fake", 0.25, 0.5)


def rows(x: np.ndarray) -> list[int]:
    return (x[:, 0, 0, 0].astype(int) * 256 + x[:, 0, 0, 1]).tolist()


@pytest.fixture
def fake_digits(monkeypatch):
    fake = indexed_images()
    monkeypatch.setattr(images, "load_images", lambda name: fake)
    return fake


def test_image_datasets_are_registered_with_their_shapes():
    assert IMAGES == ["mnist", "fashion_mnist", "digits", "cifar10"]
    assert DATASETS["mnist"].input_shape == DATASETS["fashion_mnist"].input_shape == (1, 28, 28)
    assert DATASETS["digits"].input_shape == (1, 8, 8) and DATASETS["cifar10"].input_shape == (3, 32, 32)
    for name in IMAGES:
        spec = DATASETS[name]
        assert spec.is_image and spec.task == CLASSIFICATION and len(spec.class_names) == 10
        assert spec.defaults() == {"train_images": 0, "test_images": 0}
    assert not any(DATASETS[name].is_image for name in TOYS)


@pytest.mark.parametrize("name", [name for name in IMAGES if name != "cifar10"])  # CIFAR-10: test_cifar.py
def test_image_dataset_is_uint8_pixels_with_source_and_normalisation(name):
    require_images(name)
    data = make_dataset(name, {"train_images": 50, "test_images": 20})
    loaded = load_images(name)
    assert data.is_image and data.task == CLASSIFICATION
    assert data.input_shape == DATASETS[name].image_shape
    assert data.n_features == int(np.prod(DATASETS[name].image_shape))
    assert data.x_train.shape == (50, *data.input_shape) and data.x_test.shape == (20, *data.input_shape)
    assert data.x_train.dtype == data.x_test.dtype == np.uint8
    assert data.y_train.dtype == data.y_test.dtype == np.int64
    assert data.normalization == (loaded.mean, loaded.std)
    assert 0 < data.normalization[0] < 1 and 0 < data.normalization[1] < 1
    assert data.source == loaded.source != ""
    assert data.class_names == loaded.class_names == DATASETS[name].class_names
    assert data.feature_names == () and data.standardize is False


def test_toy_datasets_have_no_source_or_normalisation():
    data = make_dataset("spiral", small("spiral"))
    assert not data.is_image and data.source == "" and data.normalization is None


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.5])
def test_digits_have_a_stratified_split_by_test_fraction(fraction):
    counts = np.bincount(load_images("digits").y_train)
    data = make_dataset("digits", test_fraction=fraction)
    assert len(data.x_train) + len(data.x_test) == 1797
    expected = [int(round(n * fraction)) for n in counts]
    assert np.bincount(data.y_test, minlength=10).tolist() == expected
    assert np.bincount(data.y_train, minlength=10).tolist() == (counts - expected).tolist()


def test_digits_default_test_fraction_puts_every_class_in_the_test_set():
    data = make_dataset("digits")
    assert set(data.y_test.tolist()) == set(range(10))
    assert len(data.x_test) == pytest.approx(0.2 * 1797, abs=5)


def test_unsplit_images_always_hold_some_test_images_back():
    data = make_dataset("digits", test_fraction=0.0)
    assert set(data.y_test.tolist()) == set(range(10))
    assert 0 < len(data.x_test) < 0.1 * 1797


def test_digits_split_keeps_every_image_exactly_once(fake_digits):
    data = make_dataset("digits", test_fraction=0.3)
    assert sorted(rows(data.x_train) + rows(data.x_test)) == list(range(300))
    np.testing.assert_array_equal(data.y_train, np.array(rows(data.x_train)) % 10)


@pytest.mark.parametrize("train, test", [(1, 1), (100, 30), (1000, 300)])
def test_image_subsample_takes_exact_counts(train, test):
    data = make_dataset("digits", {"train_images": train, "test_images": test})
    assert len(data.x_train) == len(data.y_train) == train
    assert len(data.x_test) == len(data.y_test) == test


def test_image_subsample_keeps_distinct_rows_in_their_original_order(fake_digits):
    data = make_dataset("digits", {"train_images": 50, "test_images": 10}, test_fraction=0.2)
    picked = rows(data.x_train)
    assert len(set(picked)) == 50 and picked == sorted(picked)
    np.testing.assert_array_equal(data.y_train, np.array(picked) % 10)  # labels travel with their images
    assert len(rows(data.x_test)) == 10 and not set(rows(data.x_test)) & set(picked)


def test_image_subsample_is_seeded(fake_digits):
    params = {"train_images": 40, "test_images": 10}
    a = make_dataset("digits", params, seed=3)
    b = make_dataset("digits", params, seed=3)
    c = make_dataset("digits", params, seed=4)
    assert rows(a.x_train) == rows(b.x_train) and rows(a.x_test) == rows(b.x_test)
    assert rows(a.x_train) != rows(c.x_train)


def test_image_subsample_of_all_or_more_keeps_everything(fake_digits):
    everything = make_dataset("digits", {"train_images": 0, "test_images": 0})
    larger = make_dataset("digits", {"train_images": 10_000, "test_images": 10_000})
    assert len(everything.x_train) + len(everything.x_test) == 300
    assert rows(larger.x_train) == rows(everything.x_train) and rows(larger.x_test) == rows(everything.x_test)


def test_fashion_mnist_keeps_its_own_split_and_zero_means_all_without_a_copy():
    require_images("fashion_mnist")
    loaded = load_images("fashion_mnist")
    data = make_dataset("fashion_mnist", {"train_images": 0, "test_images": 0}, test_fraction=0.5)
    assert len(data.x_train) == 60000 and len(data.x_test) == 10000
    assert np.shares_memory(data.x_train, loaded.x_train) and np.shares_memory(data.x_test, loaded.x_test)
    assert np.shares_memory(data.y_train, loaded.y_train)


def test_fashion_mnist_subsample_is_seeded():
    require_images("fashion_mnist")
    params = {"train_images": 500, "test_images": 100}
    a, b = make_dataset("fashion_mnist", params, seed=1), make_dataset("fashion_mnist", params, seed=1)
    c = make_dataset("fashion_mnist", params, seed=2)
    assert len(a.x_train) == 500 and len(a.x_test) == 100
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)
    assert not np.shares_memory(a.x_train, c.x_train)
