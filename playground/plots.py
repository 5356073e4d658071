"""Pure Plotly figure builders: data in, `go.Figure` out, or the same figure as a plain spec.

The live figures (boundary, fitted curve, loss and score curves) are built as specs first:
{"data": [trace dicts], "layout": dict}, what `go.Figure(...).to_plotly_json()` would hold, with numpy arrays
left for the caller to encode (`live_chart` turns them into base64 "bdata" as plotly does). A live page
polls several times a second, so it uses the specs directly (`*_spec`); `*_figure` wraps one in a Figure.

Curves of loss and accuracy (or R^2), the decision boundary of a 2-D classifier with its points,
the fitted curve of a 1-D regressor, a sequence regressor's next values against the truth. Axis
ranges are fixed here, on the server, because the page re-sends whole figures while training.
Numpy arrays are passed as float32/uint8 so Plotly sends them as compact binary. User text (class
names, column names, run names) goes through `text.plotly_literal` here, so Plotly shows it as
typed, never as its HTML-like markup. Knows nothing about Streamlit, torch or training.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

import numpy as np
import plotly.graph_objects as go

from .datasets import Dataset
from .frames import CONFIDENCE_LEVELS, SEQUENCE_POINTS, BoundaryFrame, CurveFrame, axis_ranges
from .tasks import CLASSIFICATION
from .text import plotly_literal, plotly_literals

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
TRAIN_COLOUR, TEST_COLOUR = "#1f77b4", "#ff7f0e"
MAX_CURVE_POINTS = 2000
MAX_LOG_TICKS = 8
# The top margin holds two bands: the title at the very top, then up to two rows of a horizontal legend
# sitting on the plot area, so a legend that wraps in a narrow column still stays under the title.
TITLE_SIZE, TITLE_BAND, LEGEND_ROW = 16, 34, 22
_TITLE = dict(font=dict(size=TITLE_SIZE), x=0.0, xanchor="left", xref="paper",
              y=1.0, yanchor="top", yref="container", pad=dict(t=8))
_LEGEND = dict(orientation="h", yanchor="bottom", y=1.0, yref="paper", xanchor="left", x=0.0)
_TOP_MARGIN = TITLE_BAND + 2 * LEGEND_ROW
# Readable on a projector: 14 px dark ticks and axis titles on every figure (Streamlit's theme would draw
# 12 px light grey). The Playground's live curves are short (two stacked beside the boundary), so their legend
# sits inside the plot, in the corner the curve leaves empty: top right for a falling loss, bottom right for a
# rising score.
TICK_SIZE, TEXT_COLOUR = 14, "#1f2430"
_READABLE = dict(tickfont=dict(size=TICK_SIZE, color=TEXT_COLOUR))
MOST_DATASETS = 8  # datasets whose points traces are kept (`_per_dataset`)
STATIC_TRACE = "static"  # a trace's `meta` when it stays the same while a run trains (the data points):
# the live chart sends such traces once and then only a key to them
BOUNDARY_HEIGHT, CURVE_HEIGHT = 400, 205  # the live boundary, and each of the two curves stacked beside it
_CORNER = {"top right": dict(yanchor="top", y=0.98, xanchor="right", x=0.99),
           "bottom right": dict(yanchor="bottom", y=0.02, xanchor="right", x=0.99)}


def figure(data: list[dict], layout: dict) -> go.Figure:
    """A Figure from plain dicts, skipping Plotly's validation: ~50x faster, so live polling stays cheap.
    Its text is readable at a distance (`readable`)."""
    return as_figure(spec(data, layout))


def spec(data: list[dict], layout: dict) -> dict:
    """A figure as plain dicts, {"data", "layout"}, its text readable at a distance (`readable`)."""
    return {"data": data, "layout": readable(layout)}


def as_figure(figure_spec: dict | None) -> go.Figure | None:
    """The Figure of a spec (None stays None), without Plotly's validation."""
    if figure_spec is None:
        return None  # a Figure moves its traces' keys around: it gets copies (a spec's points are shared)
    return go.Figure(data=[dict(trace) for trace in figure_spec["data"]], layout=figure_spec["layout"], _validate=False)


def readable(layout: dict) -> dict:
    """`layout` with dark 14 px text on both axes (ticks and titles) and in the legend, unless it sets its own."""
    axes = {name: {**_READABLE, **layout.get(name, {})} for name in ("xaxis", "yaxis")}
    for axis in axes.values():
        if isinstance(axis.get("title"), dict):
            axis["title"] = {"font": dict(size=TICK_SIZE, color=TEXT_COLOUR), **axis["title"]}
    return {"font": dict(size=TICK_SIZE, color=TEXT_COLOUR), **layout, **axes}


def _layout(title: str, height: int = 320, **axes) -> dict:
    return dict(title=dict(_TITLE, text=title), height=height, margin=dict(l=50, r=10, t=_TOP_MARGIN, b=40),
                legend=_LEGEND, **axes)


def _curve_layout(title: str, corner: str, **axes) -> dict:
    """A live curve's layout: short, its title alone above the plot, its legend inside the plot at `corner`."""
    legend = dict(orientation="h", bgcolor="rgba(255,255,255,0.75)", **_CORNER[corner])
    return dict(title=dict(_TITLE, text=title), height=CURVE_HEIGHT, margin=dict(l=56, r=10, t=TITLE_BAND, b=44),
                legend=legend, **axes)


def loss_figure(history, total_epochs: int, loss_title: str = "loss") -> go.Figure:
    """`loss_spec` as a Figure."""
    return as_figure(loss_spec(history, total_epochs, loss_title))


def loss_spec(history, total_epochs: int, loss_title: str = "loss") -> dict:
    """Train and test loss per epoch on a log axis, x fixed to the run's length.

    Runs with long epochs also report the train loss every few batches: that line is drawn
    thin, under the per-epoch means (markers), so the curve moves within an epoch.
    """
    values = history.train_loss + history.test_loss + history.batch_loss
    data = _curves(history.epochs, history.train_loss, history.eval_epochs, history.test_loss,
                   markers=bool(history.batch_epochs))
    if history.batch_epochs:
        xs, ys = _thin(np.asarray(history.batch_epochs, np.float32), np.asarray(history.batch_loss, np.float32))
        data.insert(0, dict(type="scatter", x=xs, y=ys, mode="lines", name="batches",
                            line=dict(color=TRAIN_COLOUR, width=1), opacity=0.45))
    return spec(data, _curve_layout(f"Loss ({loss_title})", "top right", xaxis=_epoch_axis(total_epochs),
                                      yaxis=_log_axis(values, "loss")))


def confusion_figure(matrix: np.ndarray, class_names: tuple[str, ...], selected: tuple | None = None) -> go.Figure:
    """Counts of (true, predicted) test images with the count in each cell; diagonal = correct.

    An invisible marker sits on every cell so a click selects it (Plotly cannot select heatmap
    cells). Colour is the share of the true class's images, so rare classes show as clearly.
    """
    n, class_names = len(class_names), plotly_literals(class_names)
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    cells_x, cells_y = np.meshgrid(np.arange(n), np.arange(n))
    xs, ys = [class_names[i] for i in cells_x.ravel()], [class_names[i] for i in cells_y.ravel()]
    data = [dict(type="heatmap", z=share.astype(np.float32), x=class_names, y=class_names,
                 text=matrix.astype(str), texttemplate="%{text}", colorscale=[[0, "#ffffff"], [1, "#4a90d9"]],
                 zmin=0, zmax=1, showscale=False, hoverinfo="skip"),
            # The clickable layer: it carries the hover text too, so a click lands on it, not the heatmap.
            dict(type="scatter", x=xs, y=ys, mode="markers", customdata=matrix.ravel().astype(np.int32),
                 marker=dict(size=24, opacity=0.01, symbol="square", color="#000000"), showlegend=False,
                 hovertemplate="true %{y}, predicted %{x}: %{customdata}<extra></extra>")]
    if selected is not None and selected[0] is not None and selected[1] is not None:
        t, p = selected
        data.append(dict(type="scatter", x=[class_names[p]], y=[class_names[t]], mode="markers", hoverinfo="skip",
                         showlegend=False, marker=dict(size=30, symbol="square-open", color="#d62728",
                                                       line=dict(width=3))))
    side = 90 + 34 * n
    return figure(data, dict(height=side + 40, margin=dict(l=90, r=10, t=40, b=80), clickmode="event+select",
                             title=dict(text="Confusion matrix (click a cell)"),
                             xaxis=dict(title=dict(text="predicted"), type="category", tickangle=-40),
                             yaxis=dict(title=dict(text="true"), type="category", autorange="reversed")))


def score_figure(history, total_epochs: int, task: str) -> go.Figure:
    """`score_spec` as a Figure."""
    return as_figure(score_spec(history, total_epochs, task))


def score_spec(history, total_epochs: int, task: str) -> dict:
    """Train and test accuracy (0 to 1) or R^2 (clipped below at -1) per epoch."""
    name = "Accuracy" if task == CLASSIFICATION else "R²"
    low = 0.0 if task == CLASSIFICATION else max(-1.0, min([0.0, *_finite(history.train_score)]))
    return spec(_curves(history.eval_epochs, history.train_score, history.eval_epochs, history.test_score),
                  _curve_layout(name, "bottom right", xaxis=_epoch_axis(total_epochs), yaxis=dict(range=[low, 1.02])))


def lr_spec(history, total_epochs: int) -> dict:
    """The learning rate each evaluated epoch trained with (schedule and hand changes included), log axis."""
    data = [dict(type="scatter", x=list(history.eval_epochs), y=list(history.lr), mode="lines", name="learning rate",
                 line=dict(color=TRAIN_COLOUR, width=2, shape="hv"))] if history.lr else []
    return spec(data, _curve_layout("Learning rate", "top right", xaxis=_epoch_axis(total_epochs),
                                      yaxis=_log_axis(history.lr, "learning rate")) | {"height": 220})


def boundary_figure(dataset: Dataset, frame: BoundaryFrame | None = None) -> go.Figure:
    """`boundary_spec` as a Figure."""
    return as_figure(boundary_spec(dataset, frame))


def boundary_spec(dataset: Dataset, frame: BoundaryFrame | None = None) -> dict:
    """Decision regions (colour = class, shade = confidence) under the train (dots) and test (diamonds) points."""
    data = []
    if frame is not None:
        codes = dataset.n_classes * CONFIDENCE_LEVELS
        data.append(dict(type="heatmap", x=frame.xs, y=frame.ys,
                         z=(frame.classes * CONFIDENCE_LEVELS + frame.confidence).astype(np.uint8),
                         zmin=-0.5, zmax=codes - 0.5, colorscale=_region_scale(dataset.n_classes),
                         showscale=False, hoverinfo="skip"))
    points, ((x0, x1), (y0, y1)) = _per_dataset(dataset, _class_points)
    data += points
    epoch = "" if frame is None else f" — epoch {frame.epoch}"
    return spec(data, _layout(f"Decision boundary{epoch}", height=BOUNDARY_HEIGHT,
                                xaxis=dict(range=[x0, x1], title=dict(text=plotly_literal(dataset.feature_names[0])),
                                           constrain="domain"),
                                yaxis=dict(range=[y0, y1], title=dict(text=plotly_literal(dataset.feature_names[1])),
                                           scaleanchor="x", scaleratio=(x1 - x0) / (y1 - y0))))


def _class_points(dataset: Dataset) -> tuple[list[dict], list[tuple[float, float]]]:
    """The points' traces of a 2-D classification, train then test per class, and the axis ranges."""
    data = []
    for c, name in enumerate(plotly_literals(dataset.class_names)):
        colour = PALETTE[c % len(PALETTE)]
        data.append(_points(dataset.x_train[dataset.y_train == c], name, colour, "circle", "white", str(c)))
        data.append(_points(dataset.x_test[dataset.y_test == c], f"{name} (test)", colour, "diamond", "black",
                            str(c), legend=False))
    return data, axis_ranges(dataset)


_PER_DATASET: OrderedDict[tuple[int, Callable], tuple[Dataset, object]] = OrderedDict()
_PER_DATASET_LOCK = threading.Lock()


def _per_dataset(dataset: Dataset, make: Callable):
    """`make(dataset)`, made once per dataset object (a few kept): a live page draws its points every poll.
    What it returns is shared: read-only (the live chart recognises the very same points traces)."""
    key = (id(dataset), make)
    with _PER_DATASET_LOCK:
        held = _PER_DATASET.get(key)
        if held is not None and held[0] is dataset:
            _PER_DATASET.move_to_end(key)
            return held[1]
    value = make(dataset)
    with _PER_DATASET_LOCK:
        _PER_DATASET[key] = (dataset, value)
        while len(_PER_DATASET) > MOST_DATASETS:
            _PER_DATASET.popitem(last=False)
    return value


def curve_figure(dataset: Dataset, frame: CurveFrame | None = None) -> go.Figure:
    """`curve_spec` as a Figure."""
    return as_figure(curve_spec(dataset, frame))


def curve_spec(dataset: Dataset, frame: CurveFrame | None = None) -> dict:
    """Training and test points of a 1-D regression and the model's fitted curve."""
    data = [_points(np.column_stack([dataset.x_train[:, 0], dataset.y_train[:, 0]]), "train", TRAIN_COLOUR,
                    "circle", "white")]
    if len(dataset.x_test):
        data.append(_points(np.column_stack([dataset.x_test[:, 0], dataset.y_test[:, 0]]), "test", TEST_COLOUR,
                            "diamond", "black"))
    if frame is not None:
        data.append(dict(type="scatter", x=frame.xs, y=frame.ys, mode="lines", name="model",
                         line=dict(color="#d62728", width=3)))
    (x0, x1), = axis_ranges(dataset)
    y = np.concatenate([dataset.y_train[:, 0], dataset.y_test[:, 0]])
    pad = max(float(y.max() - y.min()) * 0.15, 0.5)
    epoch = "" if frame is None else f" — epoch {frame.epoch}"
    return spec(data, _layout(f"Fitted curve{epoch}", height=BOUNDARY_HEIGHT,
                                xaxis=dict(range=[x0, x1], title=dict(text=plotly_literal(dataset.feature_names[0]))),
                                yaxis=dict(range=[float(y.min()) - pad, float(y.max()) + pad], title=dict(text="y"))))


def sequence_figure(dataset: Dataset, frame: CurveFrame | None = None) -> go.Figure:
    """`sequence_spec` as a Figure."""
    return as_figure(sequence_spec(dataset, frame))


def sequence_spec(dataset: Dataset, frame: CurveFrame | None = None) -> dict:
    """A next-value regressor on its first test windows in time order: the true next values, and the model's."""
    truth = dataset.y_test[:SEQUENCE_POINTS, 0].astype(np.float32)
    windows = np.arange(len(truth), dtype=np.float32)
    data = [dict(type="scatter", x=windows, y=truth, mode="lines+markers", name="truth",
                 line=dict(color=TEST_COLOUR, width=1), marker=dict(size=4))]
    if frame is not None:
        data.append(dict(type="scatter", x=frame.xs, y=frame.ys, mode="lines", name="model",
                         line=dict(color="#d62728", width=3)))
    low, high = (float(truth.min()), float(truth.max())) if len(truth) else (-1.0, 1.0)
    pad = max((high - low) * 0.15, 0.5)
    epoch = "" if frame is None else f" — epoch {frame.epoch}"
    return spec(data, _layout(f"Next value: model vs truth{epoch}", height=BOUNDARY_HEIGHT,
                                xaxis=dict(range=[-0.5, max(len(truth), 1) - 0.5],
                                           title=dict(text="test window (in time order)")),
                                yaxis=dict(range=[low - pad, high + pad], title=dict(text="next value"))))


def data_figure(dataset: Dataset, frame=None) -> go.Figure | None:
    """`data_spec` as a Figure (or None)."""
    return as_figure(data_spec(dataset, frame))


def data_spec(dataset: Dataset, frame=None) -> dict | None:
    """The picture this dataset supports: boundary (2-D classes), curve (1-D regression), predicted next
    values (sequence regression) or None."""
    if dataset.is_sequence:
        return sequence_spec(dataset, frame) if dataset.task != CLASSIFICATION else None
    if dataset.n_features == 2 and dataset.task == CLASSIFICATION:
        return boundary_spec(dataset, frame)
    if dataset.n_features == 1 and dataset.task != CLASSIFICATION:
        return curve_spec(dataset, frame)
    return None


def _epoch_axis(total_epochs: int) -> dict:
    return dict(title=dict(text="epoch"), range=[0, max(total_epochs, 1)])


def _curves(epochs, train, test_epochs, test, markers: bool = False) -> list[dict]:
    traces = []
    for name, xs, ys, colour in (("train", epochs, train, TRAIN_COLOUR), ("test", test_epochs, test, TEST_COLOUR)):
        if len(xs) and len(ys):
            xs, ys = _thin(np.asarray(xs, dtype=np.int32), np.asarray(ys, dtype=np.float32))
            traces.append(dict(type="scatter", x=xs, y=ys, mode="lines+markers" if markers else "lines", name=name,
                               line=dict(color=colour, width=2)))
    return traces


def _points(xy: np.ndarray, name: str, colour: str, symbol: str, edge: str, group: str | None = None,
            legend: bool = True) -> dict:
    return dict(type="scattergl", x=xy[:, 0].astype(np.float32), y=xy[:, 1].astype(np.float32), mode="markers",
                name=name, legendgroup=group, showlegend=legend, hoverinfo="skip", meta=STATIC_TRACE,
                marker=dict(color=colour, symbol=symbol, size=6 if symbol == "circle" else 7,
                            line=dict(color=edge, width=0.6)))


def _region_scale(n_classes: int) -> list[list]:
    """A stepped colourscale: code c * L + l gets class c's colour, lighter for low confidence."""
    colours = [f"rgb({r},{g},{b})" for r, g, b in region_rgb(n_classes)]
    scale = []
    for code, colour in enumerate(colours):
        scale += [[code / len(colours), colour], [(code + 1) / len(colours), colour]]
    return scale


def region_rgb(n_classes: int) -> list[tuple[int, int, int]]:
    """The (r, g, b) of each boundary code c * CONFIDENCE_LEVELS + level: class c's colour, lighter for low
    confidence (the decision boundary's shades; the class board's thumbnails use them too)."""
    colours = []
    for code in range(n_classes * CONFIDENCE_LEVELS):
        c, level = divmod(code, CONFIDENCE_LEVELS)
        colours.append(_blend(PALETTE[c % len(PALETTE)], 0.12 + 0.5 * level / (CONFIDENCE_LEVELS - 1)))
    return colours


def _blend(hex_colour: str, alpha: float) -> tuple[int, int, int]:
    """`hex_colour` painted with opacity `alpha` over white, as (r, g, b)."""
    rgb = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    r, g, b = (round(255 + (v - 255) * alpha) for v in rgb)
    return r, g, b


def _thin(xs: np.ndarray, ys: np.ndarray, limit: int = MAX_CURVE_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most about `limit` evenly spaced points, always keeping the last."""
    if len(xs) <= limit:
        return xs, ys
    keep = np.unique(np.append(np.linspace(0, len(xs) - 1, limit).astype(int), len(xs) - 1))
    return xs[keep], ys[keep]


def _finite(values) -> list[float]:
    return [v for v in values if v is not None and np.isfinite(v)]


def _log_axis(values, name: str = "") -> dict:
    """A log y axis over `values`, its title saying so, its ticks 1-2-5 numbers written in full (`log_ticks`)."""
    axis = dict(type="log", title=dict(text=f"{name} (log scale)" if name else "log scale"))
    span = _log_range(values)
    if span is not None:
        ticks = log_ticks(10 ** span[0], 10 ** span[1])
        axis.update(range=span, tickmode="array", tickvals=list(ticks), ticktext=[tick_label(t) for t in ticks])
    return axis


def log_ticks(low: float, high: float, most: int = MAX_LOG_TICKS) -> tuple[float, ...]:
    """Readable tick values in [low, high] for a log axis: 1, 2, 5 per decade, at most `most` of them.

    Wide ranges keep only the powers of ten (every few decades if need be); ranges holding fewer than
    three 1-2-5 values get evenly spaced round numbers (0.55, 0.6, 0.65) instead. Empty, non-positive,
    NaN or infinite bounds give no ticks; a zero-width range gives its one value.
    """
    if not (np.isfinite(low) and np.isfinite(high) and 0 < low <= high):
        return ()
    if low == high:
        return (float(f"{low:.3g}"),)
    ticks = _decade_ticks(low, high, (1, 2, 5))
    if len(ticks) > most:
        ticks = _decade_ticks(low, high, (1,))
        ticks = ticks[::-(-len(ticks) // most)]
    return ticks if len(ticks) >= 3 else _round_ticks(low, high, min(most, 5))


def _decade_ticks(low: float, high: float, mantissas: tuple[int, ...]) -> tuple[float, ...]:
    first, last = int(np.floor(np.log10(low))), int(np.ceil(np.log10(high)))
    values = (float(f"{m}e{e}") for e in range(first, last + 1) for m in mantissas)
    return tuple(v for v in values if low <= v <= high)


def _round_ticks(low: float, high: float, most: int) -> tuple[float, ...]:
    """Multiples of the finest 1-2-5 step that puts at most `most` ticks in [low, high]."""
    exponent = int(np.floor(np.log10(high - low))) - 1
    for step in (float(f"{m}e{e}") for e in range(exponent, exponent + 3) for m in (1, 2, 5)):
        first, last = int(np.ceil(low / step - 1e-9)), int(np.floor(high / step + 1e-9))
        if last - first + 1 <= most:
            return tuple(float(f"{k * step:.12g}") for k in range(first, last + 1))
    return ()


def tick_label(value: float) -> str:
    """A tick value written in full ("0.05", "200"), scientific only beyond a millionth or a million."""
    if 1e-6 <= abs(value) < 1e7:
        return np.format_float_positional(value, precision=6, trim="-")
    return f"{value:.0e}"


def _log_range(values) -> list[float] | None:
    values = np.array(values, dtype=np.float64)  # None -> NaN; vectorised: a live poll's loss has ~1,000
    positive = values[np.isfinite(values) & (values > 0)]
    if not positive.size:
        return None
    low, high = np.log10(positive.min()), np.log10(positive.max())
    pad = max((high - low) * 0.05, 0.05)
    return [float(low - pad), float(high + pad)]


def probability_figure(probabilities: np.ndarray, class_names: tuple[str, ...]) -> go.Figure:
    """One bar per class, the most likely one highlighted; the y axis is fixed to 0-1."""
    best = int(np.argmax(probabilities))
    colours = [PALETTE[0] if i == best else "#b8c7d9" for i in range(len(class_names))]
    data = [dict(type="bar", x=plotly_literals(class_names), y=np.asarray(probabilities, np.float32),
                 marker=dict(color=colours), text=[f"{p:.0%}" for p in probabilities], textposition="outside",
                 hoverinfo="skip")]
    return figure(data, _layout("What the model thinks", height=300, xaxis=dict(type="category"),
                                yaxis=dict(range=[0, 1.15], tickformat=".0%")))


def overlay_figure(series: list[tuple[str, tuple, tuple]], title: str, total_epochs: int, log: bool = False,
                   y_title: str = "") -> go.Figure:
    """Several runs' curves of one quantity on one chart: (name, epochs, values) each, a colour per run.

    Used for optimizer races and for comparing saved runs; losses go on a log axis.
    """
    data, values = [], []
    for i, (name, xs, ys) in enumerate(series):
        if not len(xs):
            continue
        xs, ys = _thin(np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.float32))
        values += _finite(ys.tolist())
        data.append(dict(type="scatter", x=xs, y=ys, mode="lines", name=plotly_literal(name),
                         line=dict(color=PALETTE[i % len(PALETTE)], width=2)))
    yaxis = _log_axis(values, plotly_literal(y_title)) if log else dict(title=dict(text=plotly_literal(y_title)))
    return figure(data, _layout(title, xaxis=_epoch_axis(total_epochs), yaxis=yaxis))


def augmented_figure(originals: np.ndarray, variants: np.ndarray, gap: int = 1) -> go.Figure:
    """A grid of images: row i is originals[i] (N, C, H, W uint8) followed by its variants[i] (N, K, C, H, W),
    with `gap` dark pixels between them; grey images are drawn grey, three channels in colour."""
    grid = np.concatenate([originals[:, None], variants], axis=1)  # (N, 1 + K, C, H, W)
    rows, columns, channels, height, width = grid.shape
    mosaic = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap, 3), 40, np.uint8)
    for row in range(rows):
        for column in range(columns):
            top, left = row * (height + gap), column * (width + gap)
            picture = grid[row, column].transpose(1, 2, 0)  # (H, W, C)
            mosaic[top:top + height, left:left + width] = picture if channels == 3 else picture[..., :1]
    figure = go.Figure(go.Image(z=mosaic, hoverinfo="skip"))
    axis = dict(visible=False, showgrid=False)
    figure.update_layout(margin=dict(l=0, r=0, t=24, b=0), height=60 * rows + 24, xaxis=axis, yaxis=axis,
                         title=dict(text="original, then what training sees", font=dict(size=12), x=0.0))
    return figure
