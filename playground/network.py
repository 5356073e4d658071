"""Seeing inside an MLP, as TensorFlow Playground does: the network diagram and neuron maps.

`diagram` reads an MLP's layer sizes, titles and weights as plain numbers; `network_figure`
draws them as columns of nodes joined by edges coloured by the weight's sign (orange negative,
blue positive) and drawn wider and more opaque the larger its magnitude. `neuron_maps` runs a
2-input MLP over a grid of the input plane and keeps every hidden neuron's output;
`neuron_figure` shows them as small heatmaps, one row per hidden layer. Layers wider than
MAX_UNITS show their first and last MAX_UNITS // 2 units. Figures are small because the page
re-sends them every refresh: edges go in a few traces (one per sign and width level) of
NaN-separated float32 segments, neuron maps as uint8 codes. Conv and image models are not MLPs:
the functions return None for them, and for stacks longer than a config allows.

Knows nothing about Streamlit, training loops or datasets (the page passes axis ranges and names).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from itertools import product
from typing import Iterator, Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from torch import nn

from .layers import MAX_LAYERS
from .model import Standardize
from .plots import figure

MAX_UNITS = 16  # units drawn per layer; wider layers show the first and last MAX_UNITS // 2
NEGATIVE, NEUTRAL, POSITIVE = "#f59322", "#e8eaeb", "#0877bd"  # TF Playground's orange, grey, blue
WIDTH_LEVELS = 5  # edge widths (and opacities) per sign: |w| / max |w| of its layer in 5 bins
MIN_WIDTH, MAX_WIDTH = 0.5, 6.0
MIN_OPACITY, MAX_OPACITY = 0.25, 0.9
GAP, ZERO, TOP = 0, 128, 255  # uint8 neuron codes: transparent gap, value 0, the layer's max |value|
_TRANSPARENT = "rgba(0,0,0,0)"
# Code 1 is -max |value| (orange), ZERO grey, TOP +max (blue); GAP is see-through. (0 as the gap
# keeps the base64 free of "/", which JSON escapes to six characters.)
_NEURON_SCALE = [[0.0, _TRANSPARENT], [0.5 / TOP, _TRANSPARENT], [0.5 / TOP, NEGATIVE], [1 / TOP, NEGATIVE],
                 [ZERO / TOP, NEUTRAL], [1.0, POSITIVE]]


@dataclass(frozen=True)
class _Kind:
    """A layer an MLP may hold after (or before) its Linear layers."""

    title: str
    activation: bool  # a neuron's output is read after the last activation following its Linear


_KINDS: dict[type, _Kind] = {
    nn.ReLU: _Kind("ReLU", True), nn.Tanh: _Kind("Tanh", True), nn.Sigmoid: _Kind("Sigmoid", True),
    nn.LeakyReLU: _Kind("LeakyReLU", True), nn.GELU: _Kind("GELU", True), nn.ELU: _Kind("ELU", True),
    nn.Softmax: _Kind("Softmax", True), nn.LogSoftmax: _Kind("LogSoftmax", True),
    nn.Dropout: _Kind("Dropout", False), nn.BatchNorm1d: _Kind("BatchNorm1d", False),
    nn.Identity: _Kind("Identity", False), Standardize: _Kind("Standardize", False),
}


@dataclass(frozen=True)
class Diagram:
    """An MLP as plain numbers: what `network_figure` draws."""

    layer_sizes: tuple[int, ...]  # inputs, then each Linear's outputs
    layer_titles: tuple[str, ...]  # "inputs", "Linear 100 · ReLU", ..., "outputs"
    weights: tuple[np.ndarray, ...]  # each Linear's weight (out, in), float32 copy


@dataclass(frozen=True)
class NeuronMaps:
    """Each hidden neuron's output over a grid of the 2-D input plane."""

    xs: np.ndarray  # (G,) grid coordinates along x1
    ys: np.ndarray  # (G,) along x2
    layers: tuple[tuple[str, np.ndarray], ...]  # per hidden layer: (title, (units, G, G) float32, rows along x2)


@dataclass(frozen=True)
class _Group:
    """One Linear and the elementwise layers after it, up to the next Linear."""

    linear: nn.Linear
    position: int  # the Linear's index in the Sequential
    followers: tuple[tuple[int, _Kind], ...]  # (index in the Sequential, kind) of the layers after it

    @property
    def title(self) -> str:
        return " · ".join([f"Linear {self.linear.out_features}", *(kind.title for _, kind in self.followers)])

    @property
    def tap(self) -> int:
        """Index of the module whose output is the neuron's: the last activation, else the Linear."""
        return max([self.position, *(i for i, kind in self.followers if kind.activation)])


def is_mlp(model: nn.Module) -> bool:
    """A flat-input model of Linear and elementwise layers only, with at least one Linear, and no
    longer than a config allows (MAX_LAYERS, plus its input normalisation): the view's work is bounded."""
    if not isinstance(model, nn.Sequential) or len(model) > MAX_LAYERS + 1:
        return False
    types = [type(m) for m in model]
    return nn.Linear in types and all(t is nn.Linear or t in _KINDS for t in types)


def diagram(model: nn.Module) -> Diagram | None:
    """Sizes, titles and weights of an MLP; None for any other model."""
    if not is_mlp(model):
        return None
    groups = _groups(model)
    sizes = (groups[0].linear.in_features, *(g.linear.out_features for g in groups))
    titles = ("inputs", *(g.title for g in groups[:-1]), "outputs")
    weights = tuple(g.linear.weight.detach().cpu().numpy().astype(np.float32, copy=True) for g in groups)
    return Diagram(sizes, titles, weights)


def _groups(model: nn.Sequential) -> list[_Group]:
    positions = [i for i, m in enumerate(model) if type(m) is nn.Linear]
    ends = [*positions[1:], len(model)]
    return [_Group(model[start], start, tuple((i, _KINDS[type(model[i])]) for i in range(start + 1, end)))
            for start, end in zip(positions, ends)]


def _shown(size: int, max_units: int) -> np.ndarray:
    """Indices of the units drawn: all, or the first and last max_units // 2 of a wider layer."""
    if size <= max_units:
        return np.arange(size)
    half = max_units // 2
    return np.concatenate([np.arange(half), np.arange(size - half, size)])


def _slots(size: int, max_units: int) -> np.ndarray:
    """y of each drawn unit in its column, centred on 0, with a free slot for the "more" marker."""
    slot = np.arange(len(_shown(size, max_units)))
    elided = size > max_units
    if elided:
        slot[max_units // 2:] += 1
    return ((len(slot) + elided - 1) / 2 - slot).astype(np.float32)


def network_figure(d: Diagram, input_names: Sequence[str], output_names: Sequence[str],
                   max_units: int = MAX_UNITS) -> go.Figure:
    """Columns of nodes (one per layer) joined by edges: colour = sign, width and opacity = |w|.

    Edges are drawn in at most 2 x WIDTH_LEVELS traces whatever their number. Input and output
    nodes are labelled with the names given (by position; a missing name becomes "#i").
    """
    slots = [_slots(size, max_units) for size in d.layer_sizes]
    data = _edge_traces(d, slots, max_units)
    data += [_node_trace(d, slots, input_names, output_names, max_units), _more_trace(d, max_units)]
    tall = max(float(np.abs(s).max(initial=0.0)) for s in slots) + 0.7
    titles = [title.replace(" · ", "<br>") for title in d.layer_titles]
    axis = dict(showgrid=False, zeroline=False, fixedrange=True)
    layout = dict(height=360, margin=dict(l=70, r=80, t=60, b=10), showlegend=False,
                  paper_bgcolor=_TRANSPARENT, plot_bgcolor=_TRANSPARENT, hovermode="closest",
                  xaxis=dict(axis, range=[-0.3, len(slots) - 0.7], side="top", tickvals=list(range(len(slots))),
                             ticktext=titles, tickfont=dict(size=14, color="#1f2430")),
                  yaxis=dict(axis, range=[-tall, tall], showticklabels=False))
    return figure(data, layout)


def _edge_traces(d: Diagram, slots: list[np.ndarray], max_units: int) -> list[dict]:
    """One line trace per (sign, width level) that has edges, thin levels first.

    Segments are separated by NaN: a gap in the line as None would be, but sent as binary float32.
    """
    parts = [_edges(w, layer, slots, max_units) for layer, w in enumerate(d.weights)]
    x, y, negative, level = (np.concatenate(column) for column in zip(*parts))
    traces = []
    for lvl, neg in product(range(WIDTH_LEVELS), (True, False)):
        keep = (level == lvl) & (negative == neg)
        if keep.any():
            share = lvl / (WIDTH_LEVELS - 1)
            traces.append(dict(type="scatter", x=x[keep].ravel(), y=y[keep].ravel(), mode="lines",
                               hoverinfo="skip", opacity=MIN_OPACITY + (MAX_OPACITY - MIN_OPACITY) * share,
                               line=dict(color=NEGATIVE if neg else POSITIVE,
                                         width=MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * share)))
    return traces


def _edges(w: np.ndarray, layer: int, slots: list[np.ndarray], max_units: int) -> tuple[np.ndarray, ...]:
    """Per drawn edge of one layer: x and y (E, 3) segments ending in NaN, sign and width level."""
    out_units, in_units = _shown(w.shape[0], max_units), _shown(w.shape[1], max_units)
    sub = w[np.ix_(out_units, in_units)]  # (out, in) drawn weights
    finite = np.isfinite(sub)  # a diverged weight draws no edge
    magnitude = np.abs(w[np.isfinite(w)]).max(initial=0.0)
    level = np.minimum(np.abs(sub) / max(magnitude, 1e-30) * WIDTH_LEVELS, WIDTH_LEVELS - 1)
    y_in, y_out = np.meshgrid(slots[layer], slots[layer + 1])  # (out, in)
    gap = np.full(y_in.shape, np.nan, np.float32)
    x = np.stack([np.full(y_in.shape, layer, np.float32), np.full(y_in.shape, layer + 1, np.float32), gap], -1)
    y = np.stack([y_in, y_out, gap], -1)
    return x[finite], y[finite], sub[finite] < 0, level[finite].astype(np.int8)


def _node_trace(d: Diagram, slots: list[np.ndarray], input_names: Sequence[str], output_names: Sequence[str],
                max_units: int) -> dict:
    """Every drawn unit as a square marker; hover says its layer and unit; ends carry their names."""
    x, y, hover, text, where = [], [], [], [], []
    last = len(slots) - 1
    for layer, (size, title) in enumerate(zip(d.layer_sizes, d.layer_titles)):
        names = input_names if layer == 0 else output_names if layer == last else ()
        for unit, height in zip(_shown(size, max_units), slots[layer]):
            x.append(layer)
            y.append(float(height))
            hover.append(f"{title}<br>unit {unit + 1} of {size}")
            text.append(_name(names, unit) if layer in (0, last) else "")
            where.append("middle left" if layer == 0 else "middle right")
    return dict(type="scatter", x=np.asarray(x, np.float32), y=np.asarray(y, np.float32), mode="markers+text",
                text=text, textposition=where, hovertext=hover, hoverinfo="text", cliponaxis=False,
                textfont=dict(size=14), marker=dict(symbol="square", size=11, color=NEUTRAL,
                                                    line=dict(color="#555555", width=1)))


def _name(names: Sequence[str], unit: int) -> str:
    return str(names[unit]) if unit < len(names) else f"#{unit + 1}"


def _more_trace(d: Diagram, max_units: int) -> dict:
    """The "⋮ +N more" marker in the middle of every elided column."""
    columns = [(layer, size) for layer, size in enumerate(d.layer_sizes) if size > max_units]
    hidden = [size - len(_shown(size, max_units)) for _, size in columns]
    return dict(type="scatter", x=[layer for layer, _ in columns], y=[0.0] * len(columns), mode="text",
                text=[f"⋮ +{n} more" for n in hidden], hoverinfo="skip", cliponaxis=False,
                textfont=dict(size=13, color="#555555"))


def neuron_maps(model: nn.Module, ranges: Sequence[tuple[float, float]], grid: int = 32,
                max_units: int = MAX_UNITS) -> NeuronMaps | None:
    """Each hidden layer's outputs (after its activation) over a grid x grid raster of the input plane.

    Only for MLPs with 2 inputs (None otherwise). `ranges` is [(x1_low, x1_high), (x2_low, x2_high)].
    The model runs in eval mode; its train/eval mode is restored afterwards.
    """
    if not is_mlp(model) or len(ranges) != 2 or _groups(model)[0].linear.in_features != 2:
        return None
    (x_low, x_high), (y_low, y_high) = ranges
    xs = np.linspace(x_low, x_high, grid, dtype=np.float32)
    ys = np.linspace(y_low, y_high, grid, dtype=np.float32)
    grid_x, grid_y = np.meshgrid(xs, ys)  # rows follow x2, as in frames.boundary_frame
    hidden = _groups(model)[:-1]
    outputs = _outputs_at(model, [group.tap for group in hidden], np.stack([grid_x.ravel(), grid_y.ravel()], 1))
    layers = []
    for group, out in zip(hidden, outputs):  # out: (G*G, units)
        units = _shown(out.shape[1], max_units)
        layers.append((group.title, np.ascontiguousarray(out[:, units].T.reshape(len(units), grid, grid))))
    return NeuronMaps(xs, ys, tuple(layers))


def _outputs_at(model: nn.Sequential, taps: list[int], points: np.ndarray) -> list[np.ndarray]:
    """What the modules at `taps` (ascending indices) output for `points`, stepping the Sequential in eval mode."""
    parameter = next(model.parameters())
    x = torch.as_tensor(points, dtype=parameter.dtype, device=parameter.device)
    outputs = []
    with _evaluating(model), torch.inference_mode():
        for i, module in enumerate(list(model)[:max(taps, default=-1) + 1]):
            x = module(x)
            if i in taps:
                outputs.append(x.float().cpu().numpy())
    return outputs


@contextmanager
def _evaluating(model: nn.Module) -> Iterator[None]:
    """Eval mode inside; every submodule's own train/eval flag restored after."""
    modes = [m.training for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in zip(model.modules(), modes):
            module.training = training


def neuron_figure(maps: NeuronMaps) -> go.Figure:
    """Small multiples: one row of heatmap tiles per hidden layer, one tile per unit, titled by layer.

    Each row is one heatmap of uint8 codes (transparent gaps between tiles), coloured orange
    (negative) through grey (0) to blue (positive), scaled to the row's largest |value|.
    """
    size = len(maps.xs)
    gap, band = max(1, size // 16), max(8, size // 2)  # cells between tiles, cells for a row's title
    data, notes = [], []
    for row, (title, values) in enumerate(maps.layers):
        top = row * (size + band)
        data.append(dict(type="heatmap", z=_mosaic(_codes(values), gap), y0=top, dy=1, zmin=0, zmax=TOP,
                         colorscale=_NEURON_SCALE, showscale=False, hoverinfo="skip"))
        notes.append(dict(text=title, x=-0.5, y=top - 0.5, xanchor="left", yanchor="bottom", showarrow=False,
                          xref="x", yref="y", font=dict(size=13)))
    columns = max((values.shape[0] for _, values in maps.layers), default=1)
    width = columns * (size + gap) - gap
    rows = len(maps.layers)
    axis = dict(showgrid=False, zeroline=False, showticklabels=False, ticks="", fixedrange=True)
    layout = dict(height=30 + 80 * max(rows, 1), margin=dict(l=5, r=5, t=5, b=5), showlegend=False,
                  paper_bgcolor=_TRANSPARENT, plot_bgcolor=_TRANSPARENT, annotations=notes,
                  xaxis=dict(axis, range=[-0.5, width - 0.5], constrain="domain"),
                  yaxis=dict(axis, range=[rows * (size + band) - band - 0.5, -band - 0.5],
                             scaleanchor="x", constrain="domain"))
    return figure(data, layout)


def _codes(values: np.ndarray) -> np.ndarray:
    """(units, G, G) values as uint8: 1 = -max |value|, ZERO = 0, TOP = +max; GAP where not finite."""
    finite = np.isfinite(values)
    scale = max(float(np.abs(values[finite]).max(initial=0.0)), 1e-30)
    codes = ZERO + np.rint(np.where(finite, values, 0.0) / scale * (TOP - ZERO))
    return np.where(finite, codes, GAP).astype(np.uint8)


def _mosaic(codes: np.ndarray, gap: int) -> np.ndarray:
    """(units, G, G) tiles side by side with `gap` transparent columns between; each tile flipped so x2 points up."""
    units, size, _ = codes.shape
    row = np.full((size, units * (size + gap) - gap), GAP, np.uint8)
    for unit in range(units):
        start = unit * (size + gap)
        row[:, start:start + size] = codes[unit, ::-1]
    return row
