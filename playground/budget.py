"""What a run costs, and whether a classroom server should accept it.

Forward FLOPs: counted from each layer's input and output shape, as PyTorch's
`torch.utils.flop_counter.FlopCounterMode` counts them (2 per multiply-add of every matrix multiply and
convolution; a test checks the two agree for every layer type, preset and lesson). Elementwise layers
(ReLU, pooling, normalisation) and biases are not counted; they are small next to the layers that are.
Arithmetic, not torch: a page checks a run's budget before torch has even started.

Time: a training sample costs about 3 forward passes (forward, and backward's two products), every
evaluated epoch one forward pass per test sample, and every batch a fixed overhead (optimizer step,
Python). FLOPs become seconds at conservative single-thread CPU rates (a worker trains on one
thread). Measured on a 2-core AMD EPYC server with one torch thread: two Linear(2000) layers
trained at ~45 GFLOP/s, small CNNs on 28x28 images at 5-20 GFLOP/s (the one-conv CNN, whose
uncounted ReLU and pooling weigh most, at 5.4), and a tiny spiral net took ~0.6 ms per batch. The
rates below are at or under the slow end of those, so an estimate rather overstates the time
(a busy server is slower too).

Knows nothing about workers or pages: the server's runners and pages ask `run_problem` /
`race_problem`; the command line (a person's own machine) applies no budget.
"""
from __future__ import annotations

import math
from typing import Callable

from . import pretrained
from .config import TrainConfig
from .datasets import DATASETS
from .layers import RECURRENT_GATES, LayerError, Shape, recurrent_inputs, sequence_steps
from .model import ModelPlan, batch_problem, plan_for

MATMUL_FLOPS_PER_SECOND = 20e9  # Linear layers (matrix multiplies); measured ~45e9 on one thread
CONV_FLOPS_PER_SECOND = 5e9  # convolutions, and the uncounted layers around them; measured 5-20e9
SECONDS_PER_BATCH = 0.5e-3  # a training step's fixed cost (optimizer, Python); measured ~0.6 ms
TRAIN_PASSES = 3  # a training sample's forward and backward cost about three forward passes
MAX_EVALUATIONS = 250  # the engine evaluates on the test split at most about this often (engine.MAX_TEST_POINTS)


def _conv_flops(in_channels: int, kernel: int, out_shape: Shape) -> int:
    """Every output value of a convolution is `in_channels * kernel * kernel` multiply-adds."""
    return 2 * math.prod(out_shape) * in_channels * kernel * kernel


def _residual_flops(in_shape: Shape, spec: dict, out_shape: Shape) -> tuple[int, int]:
    """Two 3x3 convolutions, and a 1x1 one on the skip path when the block changes shape."""
    conv = _conv_flops(in_shape[0], 3, out_shape) + _conv_flops(out_shape[0], 3, out_shape)
    reshaped = spec["stride"] != 1 or in_shape[0] != out_shape[0]
    return 0, conv + (_conv_flops(in_shape[0], 1, out_shape) if reshaped else 0)


def _recurrent_flops(shape: Shape, spec: dict, out_shape: Shape) -> tuple[int, int]:
    """Every step, every layer and direction multiplies its input and hidden state by `gates` weight blocks."""
    steps, directions = sequence_steps(shape)[0], 2 if spec["bidirectional"] else 1
    per_step = sum(RECURRENT_GATES[spec["type"]] * spec["hidden"] * (n + spec["hidden"])
                   for n in recurrent_inputs(shape, spec))
    return 2 * steps * directions * per_step, 0


# (matrix-multiply FLOPs, convolution FLOPs) of one sample through a layer, from its spec, input and
# output shapes; a layer type not named here counts none (elementwise, pooling, normalisation, flatten).
LAYER_FLOPS: dict[str, Callable[[Shape, dict, Shape], tuple[int, int]]] = {
    "linear": lambda shape, spec, out: (2 * shape[0] * out[0], 0),
    "conv2d": lambda shape, spec, out: (0, _conv_flops(shape[0], spec["kernel"], out)),
    "residual": _residual_flops,
    **dict.fromkeys(RECURRENT_GATES, _recurrent_flops),
    "resnet18": pretrained.resnet18_flops,
}


def _counts(plan: ModelPlan) -> tuple[int, int]:
    """(matrix-multiply FLOPs, convolution FLOPs) of one sample's forward pass."""
    matmul = conv = 0
    shapes = (tuple(plan.input_shape), *(row.output_shape for row in plan.rows))
    for spec, shape, out in zip(plan.layers, shapes, shapes[1:]):
        flops = LAYER_FLOPS.get(spec["type"], lambda *_: (0, 0))(shape, spec, out)
        matmul, conv = matmul + flops[0], conv + flops[1]
    return matmul, conv


def forward_flops(plan: ModelPlan) -> int:
    """FLOPs of one sample's forward pass through the model `plan` describes (multiply-add = 2)."""
    return sum(_counts(plan))


def forward_seconds(plan: ModelPlan) -> float:
    """Estimated seconds of one sample's forward pass on one CPU thread."""
    matmul, conv = _counts(plan)
    return matmul / MATMUL_FLOPS_PER_SECOND + conv / CONV_FLOPS_PER_SECOND


def sample_counts(config: TrainConfig) -> tuple[int, int]:
    """(training samples, test samples) the config's dataset will have, near enough for an estimate.

    Toy sets are counted from their settings; images and tables are read (both are cached per process).
    """
    spec = DATASETS[config.dataset.name]
    if config.dataset.classroom is not None:  # a class's drawings, as pinned (none before)
        n = config.dataset.classroom.count or 0
        n_test = round(n * max(config.dataset.test_fraction, 0.05))
        return n - n_test, n_test
    if spec.is_image:
        return _image_counts(config)
    if spec.is_table:
        from .datasets import table_columns

        n = len(table_columns(config.dataset.table).x)
    else:
        values = {**spec.defaults(), **config.dataset.values}
        n = int(values["n_samples"] if "n_samples" in values else values["classes"] * values["n_per_class"])
    n_test = round(n * config.dataset.test_fraction)
    return n - n_test, n_test


def _image_counts(config: TrainConfig) -> tuple[int, int]:
    from .images import load_images

    images, values = load_images(config.dataset.name), config.dataset.values
    n_train = len(images.y_train)
    share = max(config.dataset.test_fraction, 0.05)
    n_test = len(images.y_test) if images.y_test is not None else round(n_train * share)
    n_train -= 0 if images.y_test is not None else n_test
    wanted_train, wanted_test = int(values.get("train_images", 0)), int(values.get("test_images", 0))
    return (min(wanted_train, n_train) if wanted_train > 0 else n_train,
            min(wanted_test, n_test) if wanted_test > 0 else n_test)


def epoch_seconds(plan: ModelPlan, batch_size: int, n_train: int, n_test: int, evaluated: float = 1.0) -> float:
    """Estimated seconds of one epoch: training, plus `evaluated` (0-1) of a test-set evaluation."""
    batches = math.ceil(n_train / batch_size) if 0 < batch_size < n_train else 1
    sample = forward_seconds(plan)
    return TRAIN_PASSES * sample * n_train + evaluated * sample * n_test + batches * SECONDS_PER_BATCH


def run_seconds(config: TrainConfig, plan: ModelPlan | None = None) -> float:
    """Estimated seconds to train `config` to the end on one CPU thread."""
    plan = plan or plan_for(config)
    n_train, n_test = sample_counts(config)
    evaluated = min(config.epochs, MAX_EVALUATIONS + 2) / config.epochs
    return config.epochs * epoch_seconds(plan, config.batch_size, n_train, n_test, evaluated)


def duration(seconds: float) -> str:
    """A rough duration in words: "about 40 seconds", "about 3 hours", "about 22 days"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= 1.5 * size:
            return f"about {seconds / size:,.0f} {unit}s"
    count = max(1, round(seconds))
    return f"about {count} second{'s' if count > 1 else ''}"


def run_problem(config: TrainConfig, minutes: float | None) -> str | None:
    """Why `config` is refused on a server whose runs may take `minutes` (None: no budget), else None."""
    if minutes is None:
        return None
    seconds = run_seconds(config)
    if seconds <= minutes * 60:
        return None
    per_epoch = seconds / config.epochs
    fit = _epochs_that_fit(config, minutes * 60)
    epochs = f"at most {fit:,} epochs of this setup fit" if fit else "not even one epoch of this setup fits"
    return (f"This run would take {duration(seconds)} on this server ({config.epochs:,} epochs), but a run may take "
            f"at most {minutes:g} minutes here; {epochs}. Make it smaller: fewer epochs, fewer or narrower "
            f"layers, fewer data points{_batch_hint(config, per_epoch)}.")


def _epochs_that_fit(config: TrainConfig, seconds: float) -> int:
    """The most epochs of `config` estimated to take at most `seconds` (0 if not even one)."""
    low, high = 0, config.epochs  # run_seconds(low epochs) fits, high epochs does not
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if run_seconds(config.replace(epochs=middle)) <= seconds else (low, middle)
    return low


def _batch_hint(config: TrainConfig, per_epoch: float) -> str:
    """", or a larger batch size" when the per-batch overhead is most of an epoch's estimate."""
    n_train, _ = sample_counts(config)
    batches = math.ceil(n_train / config.batch_size) if 0 < config.batch_size < n_train else 1
    return ", or a larger batch size" if batches * SECONDS_PER_BATCH > per_epoch / 2 else ""


def race_problem(entrants, minutes: float | None) -> str | None:
    """Why a race of `entrants` ((name, config) pairs, trained in turn) is refused, else None."""
    if minutes is None:
        return None
    seconds = sum(run_seconds(config) for _, config in entrants)
    if seconds <= minutes * 60:
        return None
    return (f"This race would take {duration(seconds)} on this server, but a run may take at most "
            f"{minutes:g} minutes here. Race fewer epochs, smaller models or less data.")


LAYERS, BATCH, BUDGET = "layers", "batch", "budget"  # what a training problem is about


def training_problem(config: TrainConfig, n_train: int, minutes: float | None):
    """Whether `config` (with `n_train` training samples) can train on a server whose runs may take
    `minutes` (None: no budget), as (plan, problem): the plan is None when the layers do not fit the
    data; the problem is None when it can train, else (LAYERS, BATCH or BUDGET, the reason)."""
    try:
        plan = plan_for(config)
    except LayerError as error:
        return None, (LAYERS, str(error))
    if problem := batch_problem(plan, config.batch_size, n_train):
        return plan, (BATCH, f"Batch size: {problem}.")
    if problem := run_problem(config, minutes):
        return plan, (BUDGET, problem)
    return plan, None
