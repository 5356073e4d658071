"""Layer registry: the layer types a stack may use, their parameters, and how each one is built.

A layer spec is a JSON-able dict such as {"type": "linear", "out": 100}. This module checks one
spec's parameters, builds one torch module for a given input shape and says the output shape.
It knows nothing about datasets, losses or training; whole-stack checks live in model.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from torch import nn

from .checks import check_number

Shape = tuple[int, ...]  # per-sample shape, batch dimension left out: (features,)

MAX_FEATURES = 4096  # widest Linear a stack may ask for: keeps a typo from exhausting memory


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

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


def _linear_shape(shape: Shape, params: dict) -> Shape:
    return (params["out"],)


def _need_flat(layer: LayerType, shape: Shape) -> None:
    if len(shape) != 1:
        raise ValueError(f"{layer.title} needs flat features but gets shape {shape}: add a Flatten before it")


LAYERS: dict[str, LayerType] = {t.name: t for t in (
    LayerType("linear", "Linear", lambda s, p: nn.Linear(s[0], p["out"]),
              (LayerParam("out", int, None, 1, MAX_FEATURES, "output features (empty on the last Linear: "
                                                              "inferred from the dataset)"),
               LayerParam("in", int, None, 1, MAX_FEATURES, "input features (empty: inferred)")),
              _linear_shape, "Fully connected: y = xW^T + b.", elementwise=False),
    LayerType("relu", "ReLU", lambda s, p: nn.ReLU(), description="max(0, x)"),
    LayerType("leaky_relu", "LeakyReLU", lambda s, p: nn.LeakyReLU(p["negative_slope"]),
              (LayerParam("negative_slope", float, 0.01, 0.0, 1.0, "slope for x < 0"),),
              description="x for x > 0, slope * x otherwise"),
    LayerType("tanh", "Tanh", lambda s, p: nn.Tanh(), description="squashes to (-1, 1)"),
    LayerType("sigmoid", "Sigmoid", lambda s, p: nn.Sigmoid(), description="squashes to (0, 1)"),
    LayerType("gelu", "GELU", lambda s, p: nn.GELU(), description="smooth ReLU used by transformers"),
    LayerType("elu", "ELU", lambda s, p: nn.ELU(p["alpha"]),
              (LayerParam("alpha", float, 1.0, 0.0, 10.0, "saturation for x < 0"),),
              description="x for x > 0, alpha * (exp(x) - 1) otherwise"),
    LayerType("softmax", "Softmax", lambda s, p: nn.Softmax(dim=1), description="scores to probabilities"),
    LayerType("log_softmax", "LogSoftmax", lambda s, p: nn.LogSoftmax(dim=1),
              description="scores to log-probabilities (pair with NLL loss)"),
    LayerType("dropout", "Dropout", lambda s, p: nn.Dropout(p["p"]),
              (LayerParam("p", float, 0.5, 0.0, 0.95, "probability of zeroing each value in training"),),
              description="randomly zeroes values while training"),
    LayerType("batchnorm1d", "BatchNorm1d", lambda s, p: nn.BatchNorm1d(s[0]),
              description="normalises each feature over the batch"),
)}

FLAT_ONLY = {"linear", "batchnorm1d"}  # need (features,) input


def check_spec(index: int, spec: Any) -> dict:
    """Return a clean copy of one layer spec (defaults filled in) or raise LayerError."""
    if not isinstance(spec, dict) or "type" not in spec:
        raise LayerError(index, 'each layer must be an object with a "type", e.g. {"type": "relu"}')
    if not isinstance(spec["type"], str) or spec["type"] not in LAYERS:
        raise LayerError(index, f"unknown layer type {spec['type']!r}; choose one of {', '.join(LAYERS)}",
                         param="type")
    layer = LAYERS[spec["type"]]
    unknown = set(spec) - {"type"} - {p.name for p in layer.params}
    if unknown:
        known = ", ".join(p.name for p in layer.params) or "none"
        raise LayerError(index, f"{layer.title} has no parameter {sorted(unknown)[0]!r} (its parameters: {known})",
                         param=sorted(unknown)[0])
    clean = {"type": layer.name}
    for param in layer.params:
        try:
            value = param.check(spec.get(param.name, param.default))
        except ValueError as error:
            raise LayerError(index, f"{layer.title}: {error}", param=param.name) from None
        if value is not None:  # empty optional sizes stay absent: {"type": "linear"}
            clean[param.name] = value
    return clean


def build_layer(index: int, spec: dict, in_shape: Shape) -> tuple[nn.Module, Shape]:
    """Build one layer for `in_shape`; returns the module and its output shape."""
    layer = LAYERS[spec["type"]]
    try:
        if layer.name in FLAT_ONLY:
            _need_flat(layer, in_shape)
        if spec.get("in") is not None and (spec["in"],) != tuple(in_shape):
            source = f"the data has {in_shape[0]} features" if index == 0 else f"it receives {in_shape[0]}"
            raise LayerError(index, f"{layer.title} declares {spec['in']} inputs but {source}: "
                                    "leave 'in' empty to infer it", param="in")
        return layer.make(in_shape, spec), layer.out_shape(in_shape, spec)
    except LayerError:
        raise
    except ValueError as error:
        raise LayerError(index, str(error)) from None
