"""Model builder: turns a JSON-able layer stack into a checked plan and a torch model.

`plan_model` infers the first layer's input size and the last Linear's output size, computes
each layer's output shape and parameter count (arithmetic from the layer registry: planning imports no
torch and a huge layer costs no memory), rejects stacks that cannot work, naming the layer and the fix,
and notes stacks that work but teach the wrong lesson (two Linears in a row, an activation the loss
already applies). `build_model` makes the real `nn.Sequential` (and imports torch). `plan_for` plans a
config's stack for its dataset and loss, and `batch_problem` says whether a training batch of that model
fits in memory. Knows nothing about datasets' contents or training.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .layers import (
    LAYERS,
    MAX_LAYERS,
    LayerError,
    Shape,
    build_layer,
    check_spec,
    layer_inner_values,
    layer_shape,
    layer_weights,
)
from .lazy import lazy_module
from .losses import LOSSES, LossSpec
from .pretrained import LAYER_TYPES as PRETRAINED_LAYERS

if TYPE_CHECKING:  # only for the annotations: planning needs no config module and no torch
    import torch

    from .config import TrainConfig

nn = lazy_module("torch.nn")  # torch is imported when a model is built, never by planning

MAX_PARAMETERS = 5_000_000  # a stack larger than this is refused before anything is allocated
TRAIN_MEMORY = 2 * 2**30  # bytes of layer outputs (and their gradients) one training batch may need


@dataclass(frozen=True)
class LayerRow:
    """One line of the layer summary table."""

    index: int  # 0-based position in the stack
    title: str
    detail: str  # "2 -> 100", "p=0.5", ...
    output_shape: Shape
    parameters: int
    inner_values: int = 0  # values kept inside the layer for backward (a recurrent layer's states per step)


@dataclass(frozen=True)
class ModelPlan:
    """A checked stack: resolved layer specs (inferred sizes filled in) and its summary."""

    layers: tuple[dict, ...]
    rows: tuple[LayerRow, ...]
    input_shape: Shape
    output_shape: Shape
    warnings: tuple[str, ...] = ()

    @property
    def parameters(self) -> int:
        return sum(row.parameters for row in self.rows)

    @property
    def activations_per_sample(self) -> int:
        """Values every layer outputs for one sample: what a batch keeps in memory for backward."""
        return math.prod(self.input_shape) + sum(math.prod(row.output_shape) + row.inner_values for row in self.rows)


def plan_model(layers: list | tuple, input_shape: Shape, n_outputs: int, loss: LossSpec | None = None) -> ModelPlan:
    """Check `layers` for this input and output size (and loss); raise LayerError naming the fix."""
    if not layers:
        raise LayerError(None, "the stack is empty: add at least one Linear layer")
    if len(layers) > MAX_LAYERS:
        raise LayerError(None, f"{len(layers):,} layers is over the limit of {MAX_LAYERS}: use a shorter stack")
    specs = [check_spec(i, spec) for i, spec in enumerate(layers)]
    specs = _infer_sizes(specs, input_shape, n_outputs)
    rows, shape = [], input_shape
    for i, spec in enumerate(specs):
        out_shape = layer_shape(i, spec, shape)
        count = layer_weights(spec, shape)
        rows.append(LayerRow(i, LAYERS[spec["type"]].title, _detail(spec, shape, out_shape), out_shape, count,
                             layer_inner_values(spec, shape)))
        shape = out_shape
    plan = ModelPlan(tuple(specs), tuple(rows), input_shape, shape, collapse_warnings(specs))
    _check_output(plan, n_outputs)
    if plan.parameters == 0:
        raise LayerError(None, "the model has no weights to learn: add a Linear layer")
    own = plan.parameters - sum(row.parameters for row in rows if specs[row.index]["type"] in PRETRAINED_LAYERS)
    if own > MAX_PARAMETERS:  # a pretrained network's known size does not count against the limit on typos
        raise LayerError(None, f"{own:,} parameters is over the limit of {MAX_PARAMETERS:,}: "
                               "use fewer or narrower layers")
    return _check_loss(plan, loss) if loss else plan


def plan_for(config: TrainConfig) -> ModelPlan:
    """Check the config's layer stack against its dataset and loss without generating any data."""
    loss = LOSSES[config.loss]
    input_shape = config.dataset.input_shape
    return plan_model(config.layers, input_shape, loss.n_outputs(config.dataset.n_classes), loss)


def batch_problem(plan: ModelPlan, batch_size: int, n_train: int) -> str | None:
    """Why this batch would not fit in memory (with the largest batch that would), or None."""
    batch = n_train if batch_size == 0 or batch_size > n_train else batch_size
    needed = batch * batch_memory_per_sample(plan)
    if needed <= TRAIN_MEMORY:
        return None
    most = max(1, TRAIN_MEMORY // batch_memory_per_sample(plan))
    what = f"a full batch of {batch:,} samples" if batch == n_train else f"a batch of {batch:,} samples"
    return (f"{what} needs about {needed / 2**30:.1f} GB of memory for this model: "
            f"set the batch size to at most {most:,} (64 is a good start)")


def batch_memory_per_sample(plan: ModelPlan) -> int:
    """Bytes one training sample costs: its layer outputs, their gradients and autograd's copies."""
    return 3 * 4 * plan.activations_per_sample


def build_model(plan: ModelPlan, mean: torch.Tensor | None = None, std: torch.Tensor | None = None) -> nn.Sequential:
    """The torch model for a plan, optionally preceded by input normalisation.

    For flat inputs `mean`/`std` are per-feature (Standardize); for images they are the pixel
    statistics on the 0-1 scale and the model takes raw 0-255 pixels (ImageNormalize).
    """
    modules, shape = [], plan.input_shape
    for i, spec in enumerate(plan.layers):
        module, shape = build_layer(i, spec, shape)
        modules.append(module)
    if mean is not None:
        from .blocks import ImageNormalize, Standardize

        normalize = ImageNormalize if len(plan.input_shape) == 3 else Standardize
        modules.insert(0, normalize(mean, std))
    return nn.Sequential(*modules)


def __getattr__(name: str):
    """`model.ImageNormalize` and `model.Standardize` (in `blocks`), imported with torch only when asked for."""
    if name in ("ImageNormalize", "Standardize"):
        from . import blocks

        return getattr(blocks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _infer_sizes(specs: list[dict], input_shape: Shape, n_outputs: int) -> list[dict]:
    """Fill the last Linear's empty `out` with n_outputs (declared `in` sizes are checked when built)."""
    linear_positions = [i for i, s in enumerate(specs) if s["type"] == "linear"]
    for i in linear_positions:
        if specs[i].get("out") is None:
            if i != linear_positions[-1]:
                raise LayerError(i, "Linear needs an output size; only the last Linear may be left empty "
                                    "(it then gets the number of outputs)", param="out")
            specs[i] = {**specs[i], "out": n_outputs}
    return specs


def _check_output(plan: ModelPlan, n_outputs: int) -> None:
    if plan.output_shape == (n_outputs,):
        return
    if len(plan.output_shape) != 1:
        shape = "x".join(map(str, plan.output_shape))
        raise LayerError(None, f"the model outputs a {shape} image but needs {n_outputs} values: "
                               "add a Flatten and a Linear layer (output size left empty) at the end")
    linear = [row for row in plan.rows if plan.layers[row.index]["type"] == "linear"]
    if not linear:
        raise LayerError(None, f"the model outputs {plan.output_shape[0]} values but needs {n_outputs}: "
                               "add a Linear layer (output size left empty) at the end")
    raise LayerError(linear[-1].index, f"Linear outputs {plan.output_shape[0]} values but the loss needs "
                                       f"{n_outputs}: set its output size to {n_outputs} or leave it empty",
                     param="out")


def _check_loss(plan: ModelPlan, loss: LossSpec) -> ModelPlan:
    """Reject a last layer the loss cannot use; collect warnings for ones that train badly."""
    last_index = len(plan.layers) - 1
    last = plan.layers[-1]["type"]
    if loss.needs_last and last != loss.needs_last:
        need = LAYERS[loss.needs_last].title
        raise LayerError(last_index, f"{loss.title} needs the model to end with {need}, but it ends with "
                                     f"{LAYERS[last].title}: add a {need} layer at the end")
    warnings = tuple(f"Layer {last_index + 1} {text}" for kind, text in loss.warn_last if kind == last)
    return ModelPlan(plan.layers, plan.rows, plan.input_shape, plan.output_shape, plan.warnings + warnings)


def collapse_warnings(specs: list[dict] | tuple[dict, ...]) -> tuple[str, ...]:
    """A note for each two Linear layers in a row: with nothing between them they are one linear map."""
    types = [spec["type"] for spec in specs]
    return tuple(f"Layers {i + 1} and {i + 2} are two Linear layers in a row: they collapse into one linear map "
                 "— put an activation (e.g. ReLU) between them."
                 for i in range(len(types) - 1) if types[i] == types[i + 1] == "linear")


def _detail(spec: dict, in_shape: Shape, out_shape: Shape) -> str:
    if in_shape != out_shape or spec["type"] == "linear":
        extra = [f"{k}={v:g}" for k, v in spec.items() if k not in ("type", "in", "out")]
        sizes = f"{_size(in_shape)} -> {_size(out_shape)}"
        return ", ".join([sizes, *extra])
    return ", ".join(f"{k}={v:g}" for k, v in spec.items() if k != "type")


def _size(shape: Shape) -> str:
    return "x".join(map(str, shape))
