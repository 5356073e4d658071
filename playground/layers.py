"""Layer registry: the layer types a stack may use, their parameters, and how each one is built.

A layer spec is a JSON-able dict such as {"type": "linear", "out": 100} or {"type": "conv2d",
"out": 32, "kernel": 3, "padding": 1}. This module checks one spec's parameters, builds one torch
module for a given per-sample input shape ((features,) or (channels, height, width)) and says the
output shape and parameter count, rejecting a layer that cannot take that shape with a message naming the fix.
It knows nothing about datasets, losses or training; whole-stack checks live in model.py. Checking
specs, shapes and parameter counts needs no torch: torch is imported when a layer is first built.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from . import pretrained
from .checks import check_number, clip, quote
from .lazy import lazy_module

nn = lazy_module("torch.nn")  # torch is imported when a layer is first built, not by the registry

Shape = tuple[int, ...]  # per-sample shape, batch dimension left out: (features,) or (C, H, W)

FLAT, IMAGE, ANY = "flat", "image", "any"  # the input a layer type accepts
SEQUENCE = "sequence"  # (steps, features), or an image read row by row: (C, H, W) as H steps of C*W features

MAX_FEATURES = 4096  # widest Linear a stack may ask for: keeps a typo from exhausting memory
MAX_CHANNELS = 512  # most channels a convolution may ask for
MAX_LAYERS = 64  # longest stack: every layer costs planning, drawing and training work on the server
RANDOM_LAYERS = {"dropout", "dropout2d"}  # layer types that draw from torch's global RNG while training
RECURRENT_GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # recurrent layer types (blocks.Recurrent): weight blocks per step
RECURRENT_LAYERS = tuple(RECURRENT_GATES)


class LayerError(ValueError):
    """A layer that cannot work, with its 0-based position and a message that names the fix."""

    def __init__(self, index: int | None, message: str, param: str | None = None):
        self.index, self.message, self.param = index, message, param
        where = "Model" if index is None else f"Layer {index + 1}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class LayerParam:
    """One parameter of a layer type. `default` None means optional (inferred or unused)."""

    name: str
    kind: type  # int or float
    default: Any
    low: float
    high: float
    help: str = ""

    def check(self, value: Any) -> Any:
        if value is None and self.default is None:
            return None
        if isinstance(value, bool) and self.kind is int and (self.low, self.high) == (0, 1):
            value = int(value)  # a 0/1 switch also takes true/false
        try:
            return check_number(value, self.kind, self.low, self.high)
        except ValueError as error:
            raise ValueError(f"'{self.name}' {error}") from None


@dataclass(frozen=True)
class LayerType:
    """A registered layer: its parameters, its module factory and its output shape."""

    name: str
    title: str
    make: Callable[[Shape, dict], nn.Module]
    params: tuple[LayerParam, ...] = ()
    out_shape: Callable[[Shape, dict], Shape] = field(default=lambda shape, params: shape)
    description: str = ""
    elementwise: bool = True  # output shape equals input shape
    accepts: str = ANY  # FLAT: (features,) only; IMAGE: (C, H, W) only
    weights: Callable[[Shape, dict], int] = field(default=lambda shape, params: 0)  # parameters the module has
    # values one sample keeps for backward beyond its output (a recurrent layer's states at every step)
    inner_values: Callable[[Shape, dict], int] = field(default=lambda shape, params: 0)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


def _linear_shape(shape: Shape, params: dict) -> Shape:
    return (params["out"],)


def _size(shape: Shape) -> str:
    return "x".join(map(str, shape))


def _check_input(layer: LayerType, shape: Shape) -> None:
    if layer.accepts == FLAT and len(shape) == 2:
        raise ValueError(f"{layer.title} needs flat features but gets a {_size(shape)} sequence (steps x features): "
                         "add an RNN, LSTM or GRU layer, or a Flatten layer, before it")
    if layer.accepts == FLAT and len(shape) != 1:
        raise ValueError(f"{layer.title} needs flat features but gets a {_size(shape)} image: "
                         "add a Flatten layer before it")
    if layer.accepts == SEQUENCE and len(shape) == 1:
        raise ValueError(f"{layer.title} reads a sequence (steps x features) or an image row by row but gets "
                         f"{shape[0]} flat features: put it before the Flatten and Linear layers")
    if layer.accepts == IMAGE and len(shape) != 3:
        hint = ("put it before the Flatten and Linear layers" if layer.name != "dropout2d"
                else "use Dropout for flat features")
        raise ValueError(f"{layer.title} needs an image input (channels x height x width) but gets "
                         f"{shape[0]} flat features: {hint}")


def _window_shape(title: str, shape: Shape, kernel: int, stride: int, padding: int, channels: int) -> Shape:
    """Output (C, H, W) of a sliding window; ValueError naming the fix when the kernel does not fit."""
    _, height, width = shape
    if kernel > min(height, width) + 2 * padding:
        padded = f" (with padding {padding})" if padding else ""
        raise ValueError(f"{title} kernel {kernel} is larger than its {height}x{width} input{padded}: "
                         f"use a kernel of at most {min(height, width) + 2 * padding}, add padding, "
                         "or remove a pooling layer before it")
    return (channels, (height + 2 * padding - kernel) // stride + 1, (width + 2 * padding - kernel) // stride + 1)


def _conv_shape(shape: Shape, p: dict) -> Shape:
    return _window_shape("Conv2d", shape, p["kernel"], p["stride"], p["padding"], p["out"])


def _pool_shape(title: str) -> Callable[[Shape, dict], Shape]:
    def shape_of(shape: Shape, p: dict) -> Shape:
        return _window_shape(title, shape, p["kernel"], p.get("stride") or p["kernel"], 0, shape[0])
    return shape_of


def _residual_shape(shape: Shape, p: dict) -> Shape:
    channels = p.get("out") or shape[0]
    return _window_shape("Residual block", shape, 3, p["stride"], 1, channels)


def _conv_weights(in_channels: int, out_channels: int, kernel: int, bias: bool) -> int:
    return in_channels * out_channels * kernel * kernel + (out_channels if bias else 0)


def _residual_weights(shape: Shape, p: dict) -> int:
    """Two bias-free 3x3 convolutions with batch norm, plus a 1x1 one when the skip must change shape."""
    channels = p.get("out") or shape[0]
    weights = _conv_weights(shape[0], channels, 3, False) + _conv_weights(channels, channels, 3, False) + 4 * channels
    reshaped = p["stride"] != 1 or shape[0] != channels
    return weights + (_conv_weights(shape[0], channels, 1, False) + 2 * channels if reshaped else 0)


def sequence_steps(shape: Shape) -> tuple[int, int]:
    """(steps, features per step) a recurrent layer reads: (T, F) as is, an image (C, H, W) row by row."""
    return (shape[0], shape[1]) if len(shape) == 2 else (shape[1], shape[0] * shape[2])


def _recurrent_shape(shape: Shape, p: dict) -> Shape:
    return (p["hidden"] * (2 if p["bidirectional"] else 1),)


def recurrent_inputs(shape: Shape, p: dict) -> list[int]:
    """Input features of each stacked recurrent layer: the data's, then the previous layer's output."""
    return [sequence_steps(shape)[1]] + [p["hidden"] * (2 if p["bidirectional"] else 1)] * (p["layers"] - 1)


def _recurrent_weights(gates: int) -> Callable[[Shape, dict], int]:
    """nn.RNN/LSTM/GRU's parameter count: per layer and direction, `gates` blocks of input and recurrent
    weights and two biases."""
    def weights(shape: Shape, p: dict) -> int:
        hidden, directions = p["hidden"], 2 if p["bidirectional"] else 1
        return directions * sum(gates * hidden * (n + hidden + 2) for n in recurrent_inputs(shape, p))
    return weights


def _recurrent_values(gates: int) -> Callable[[Shape, dict], int]:
    """Values a recurrent layer keeps per sample for backward: its gates, cell and hidden state at each step."""
    def values(shape: Shape, p: dict) -> int:
        return sequence_steps(shape)[0] * p["hidden"] * (gates + 2) * p["layers"] * (2 if p["bidirectional"] else 1)
    return values


def _recurrent(kind: str) -> Callable[[Shape, dict], nn.Module]:
    def make(shape: Shape, p: dict):
        from .blocks import Recurrent

        return Recurrent(kind, sequence_steps(shape)[1], p["hidden"], p["layers"], bool(p["bidirectional"]),
                         bool(p["batch_first"]))
    return make


def _residual(shape: Shape, p: dict):
    """A residual block for `shape` (its module, and torch, imported on first use)."""
    from .blocks import ResidualBlock

    return ResidualBlock(shape[0], p.get("out") or shape[0], p["stride"])


def __getattr__(name: str):
    """`layers.ResidualBlock`, imported (with torch) only when asked for."""
    if name == "ResidualBlock":
        from .blocks import ResidualBlock

        return ResidualBlock
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_P = LayerParam
_DROPOUT_P = _P("p", float, 0.5, 0.0, 0.95, "probability of zeroing each value in training")
_RECURRENT = (_P("hidden", int, 64, 1, 1024, "features of the hidden state (each direction)"),
              _P("layers", int, 1, 1, 4, "recurrent layers stacked on each other"),
              _P("bidirectional", int, 0, 0, 1, "1: also read the sequence backwards (output 2 x hidden)"),
              _P("batch_first", int, 1, 0, 1, "1: torch's batch_first=True (batch, steps, features); "
                                               "0: (steps, batch, features), same numbers"))
_RECURRENT_TEXT = "; reads (steps, features), or an image row by row, and outputs the last step's output"
_POOL = (_P("kernel", int, 2, 1, 16, "window size"),
         _P("stride", int, None, 1, 16, "step between windows (empty: the kernel size)"))

LAYERS: dict[str, LayerType] = {t.name: t for t in (
    LayerType("linear", "Linear", lambda s, p: nn.Linear(s[0], p["out"]),
              (_P("out", int, None, 1, MAX_FEATURES, "output features (empty on the last Linear: "
                                                     "inferred from the dataset)"),
               _P("in", int, None, 1, MAX_FEATURES, "input features (empty: inferred)")),
              _linear_shape, "Fully connected: y = xW^T + b.", elementwise=False, accepts=FLAT,
              weights=lambda s, p: s[0] * p["out"] + p["out"]),
    LayerType("relu", "ReLU", lambda s, p: nn.ReLU(), description="max(0, x)"),
    LayerType("leaky_relu", "LeakyReLU", lambda s, p: nn.LeakyReLU(p["negative_slope"]),
              (_P("negative_slope", float, 0.01, 0.0, 1.0, "slope for x < 0"),),
              description="x for x > 0, slope * x otherwise"),
    LayerType("tanh", "Tanh", lambda s, p: nn.Tanh(), description="squashes to (-1, 1)"),
    LayerType("sigmoid", "Sigmoid", lambda s, p: nn.Sigmoid(), description="squashes to (0, 1)"),
    LayerType("gelu", "GELU", lambda s, p: nn.GELU(), description="smooth ReLU used by transformers"),
    LayerType("elu", "ELU", lambda s, p: nn.ELU(p["alpha"]),
              (_P("alpha", float, 1.0, 0.0, 10.0, "saturation for x < 0"),),
              description="x for x > 0, alpha * (exp(x) - 1) otherwise"),
    LayerType("softmax", "Softmax", lambda s, p: nn.Softmax(dim=1), description="scores to probabilities"),
    LayerType("log_softmax", "LogSoftmax", lambda s, p: nn.LogSoftmax(dim=1),
              description="scores to log-probabilities (pair with NLL loss)"),
    LayerType("dropout", "Dropout", lambda s, p: nn.Dropout(p["p"]), (_DROPOUT_P,),
              description="randomly zeroes values while training"),
    LayerType("batchnorm1d", "BatchNorm1d", lambda s, p: nn.BatchNorm1d(s[0]),
              description="normalises each feature over the batch", accepts=FLAT, weights=lambda s, p: 2 * s[0]),
    LayerType("conv2d", "Conv2d", lambda s, p: nn.Conv2d(s[0], p["out"], p["kernel"], p["stride"], p["padding"]),
              (_P("out", int, 16, 1, MAX_CHANNELS, "output channels (filters)"),
               _P("kernel", int, 3, 1, 15, "filter size (kernel x kernel)"),
               _P("stride", int, 1, 1, 8, "step between filter positions"),
               _P("padding", int, 0, 0, 7, "zeros added around each side")),
              _conv_shape, "Slides learned filters over the image.", elementwise=False, accepts=IMAGE,
              weights=lambda s, p: _conv_weights(s[0], p["out"], p["kernel"], True)),
    LayerType("maxpool2d", "MaxPool2d", lambda s, p: nn.MaxPool2d(p["kernel"], p.get("stride")), _POOL,
              _pool_shape("MaxPool2d"), "keeps the largest value of each window", elementwise=False,
              accepts=IMAGE),
    LayerType("avgpool2d", "AvgPool2d", lambda s, p: nn.AvgPool2d(p["kernel"], p.get("stride")), _POOL,
              _pool_shape("AvgPool2d"), "averages each window", elementwise=False, accepts=IMAGE),
    LayerType("flatten", "Flatten", lambda s, p: nn.Flatten(), (),
              lambda s, p: (math.prod(s),), "image to flat features, for the Linear layers after it",
              elementwise=False),
    LayerType("dropout2d", "Dropout2d", lambda s, p: nn.Dropout2d(p["p"]),
              (_P("p", float, 0.25, 0.0, 0.95, "probability of zeroing each whole channel in training"),),
              description="randomly zeroes whole channels while training", accepts=IMAGE),
    LayerType("batchnorm2d", "BatchNorm2d", lambda s, p: nn.BatchNorm2d(s[0]),
              description="normalises each channel over the batch", accepts=IMAGE, weights=lambda s, p: 2 * s[0]),
    LayerType("residual", "Residual block", _residual,
              (_P("out", int, None, 1, MAX_CHANNELS, "output channels (empty: same as its input)"),
               _P("stride", int, 1, 1, 2, "2 halves the image size")),
              _residual_shape, "two 3x3 convolutions plus a skip connection", elementwise=False,
              accepts=IMAGE, weights=_residual_weights),
    *(LayerType(name, title, _recurrent(name), _RECURRENT, _recurrent_shape, text + _RECURRENT_TEXT,
                elementwise=False, accepts=SEQUENCE, weights=_recurrent_weights(gates),
                inner_values=_recurrent_values(gates))
      for name, title, text in (("rnn", "RNN", "plain recurrent layer, tanh(W x + U h)"),
                                ("lstm", "LSTM", "long short-term memory (4 gates)"),
                                ("gru", "GRU", "gated recurrent unit (3 gates)"))
      for gates in (RECURRENT_GATES[name],)),
    LayerType("resnet18", "ResNet-18", pretrained.resnet18_features, (), pretrained.resnet18_shape,
              "torchvision's ResNet-18 without its fc: colour images to 512 features (start_from "
              "torchvision:resnet18 gives it ImageNet's weights)", elementwise=False, accepts=IMAGE,
              weights=lambda s, p: pretrained.RESNET18_WEIGHTS),
)}


def check_spec(index: int, spec: Any) -> dict:
    """Return a clean copy of one layer spec (defaults filled in) or raise LayerError."""
    if not isinstance(spec, dict) or "type" not in spec:
        raise LayerError(index, 'each layer must be an object with a "type", e.g. {"type": "relu"}')
    if not isinstance(spec["type"], str) or spec["type"] not in LAYERS:
        raise LayerError(index, f"unknown layer type {quote(spec['type'])}; choose one of {', '.join(LAYERS)}",
                         param="type")
    layer = LAYERS[spec["type"]]
    unknown = set(spec) - {"type"} - {p.name for p in layer.params}
    if unknown:
        known = ", ".join(p.name for p in layer.params) or "none"
        name = clip(str(sorted(unknown)[0]))
        raise LayerError(index, f"{layer.title} has no parameter {name!r} (its parameters: {known})", param=name)
    clean = {"type": layer.name}
    for param in layer.params:
        try:
            value = param.check(spec.get(param.name, param.default))
        except ValueError as error:
            raise LayerError(index, f"{layer.title}: {error}", param=param.name) from None
        if value is not None:  # empty optional sizes stay absent: {"type": "linear"}
            clean[param.name] = value
    return clean


def layer_shape(index: int, spec: dict, in_shape: Shape) -> Shape:
    """The output shape of one layer for `in_shape`, without building it (no torch); LayerError naming
    the fix when the layer cannot take that input."""
    layer = LAYERS[spec["type"]]
    try:
        _check_input(layer, in_shape)
        out_shape = layer.out_shape(in_shape, spec)
    except ValueError as error:
        raise LayerError(index, str(error)) from None
    if spec.get("in") is not None and (spec["in"],) != tuple(in_shape):
        source = f"the data has {in_shape[0]} features" if index == 0 else f"it receives {in_shape[0]}"
        raise LayerError(index, f"{layer.title} declares {spec['in']} inputs but {source}: "
                                "leave 'in' empty to infer it", param="in")
    return out_shape


def layer_weights(spec: dict, in_shape: Shape) -> int:
    """How many parameters the layer has for `in_shape` (arithmetic: no torch; a test checks it against torch)."""
    return LAYERS[spec["type"]].weights(in_shape, spec)


def layer_inner_values(spec: dict, in_shape: Shape) -> int:
    """Values one sample keeps inside the layer for backward, beyond its output (0 for most layers)."""
    return LAYERS[spec["type"]].inner_values(in_shape, spec)


def build_layer(index: int, spec: dict, in_shape: Shape) -> tuple[nn.Module, Shape]:
    """Build one layer for `in_shape`; returns the module and its output shape."""
    out_shape = layer_shape(index, spec, in_shape)
    try:
        return LAYERS[spec["type"]].make(in_shape, spec), out_shape
    except ValueError as error:
        raise LayerError(index, str(error)) from None
