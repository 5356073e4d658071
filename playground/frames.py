"""What a model predicts, as compact numpy frames for live figures.

`boundary_frame` evaluates a 2-D classifier on a grid (class id and confidence per cell, uint8);
`curve_frame` evaluates a 1-D regressor along x;
`sequence_frame` a next-value regressor on its test windows. Both take a `predict` function and the dataset.
`image_frame` packs an image classifier's latest test predictions and first-layer filters. None
of them knows about torch, training or plotting.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .datasets import Dataset
from .tasks import CLASSIFICATION

GRID_SIZE = 100  # cells per axis: TF Playground's density
SEQUENCE_POINTS = 300  # test windows a sequence regressor's prediction chart shows (the first ones, in time order)
CONFIDENCE_LEVELS = 8  # shades of confidence per class colour

Predict = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class BoundaryFrame:
    epoch: int
    xs: np.ndarray  # (G,) cell centres along x1, float32
    ys: np.ndarray  # (G,) cell centres along x2
    classes: np.ndarray  # (G, G) uint8 predicted class per cell, rows along x2
    confidence: np.ndarray  # (G, G) uint8 in [0, CONFIDENCE_LEVELS), how sure (rescaled from 1/C..1)


@dataclass(frozen=True)
class CurveFrame:
    epoch: int
    xs: np.ndarray  # (G,) float32
    ys: np.ndarray  # (G,) model output at xs


@dataclass(frozen=True)
class ImageFrame:
    epoch: int  # the epoch whose end the predictions were made at
    predicted: np.ndarray  # (N_test,) int16 predicted class of each test image
    confidence: np.ndarray  # (N_test,) float32 probability of the predicted class
    filters: np.ndarray | None  # (out, in, k, k) float32 weights of the first Conv2d, if any


Frame = BoundaryFrame | CurveFrame | ImageFrame


def image_frame(epoch: int, predictions: tuple[np.ndarray, np.ndarray] | None,
                filters: np.ndarray | None) -> ImageFrame | None:
    """An ImageFrame from (labels, confidence) of the latest test evaluation; None before one."""
    if predictions is None:
        return None
    return ImageFrame(epoch, predictions[0], predictions[1], filters)


def axis_ranges(dataset: Dataset, margin: float = 0.1) -> list[tuple[float, float]]:
    """Per feature (low, high) covering every point plus `margin` of the span on each side."""
    x = dataset.x_all
    low, high = x.min(axis=0), x.max(axis=0)
    pad = np.maximum((high - low) * margin, 1e-3)
    return [(float(a), float(b)) for a, b in zip(low - pad, high + pad)]


def frame_for(dataset: Dataset, predict: Predict, epoch: int, size: int = GRID_SIZE) -> Frame | None:
    """The frame this dataset can show: a boundary for 2-D classification, a curve for 1-D regression,
    the predicted next values for sequence regression."""
    if dataset.is_sequence:
        return sequence_frame(dataset, predict, epoch) if dataset.task != CLASSIFICATION else None
    if dataset.n_features == 2 and dataset.task == CLASSIFICATION:
        return boundary_frame(dataset, predict, epoch, size)
    if dataset.n_features == 1 and dataset.task != CLASSIFICATION:
        return curve_frame(dataset, predict, epoch, size * 2)
    return None


def boundary_frame(dataset: Dataset, predict: Predict, epoch: int, size: int = GRID_SIZE) -> BoundaryFrame:
    (x_low, x_high), (y_low, y_high) = axis_ranges(dataset)
    xs = np.linspace(x_low, x_high, size, dtype=np.float32)
    ys = np.linspace(y_low, y_high, size, dtype=np.float32)
    grid_x, grid_y = np.meshgrid(xs, ys)  # rows follow x2
    probabilities = predict(np.stack([grid_x.ravel(), grid_y.ravel()], axis=1))  # (G*G, C)
    n_classes = probabilities.shape[1]
    top = probabilities.max(axis=1)
    # Confidence 1/C (a coin toss) maps to 0 and certainty to the top level.
    sureness = np.clip((top - 1.0 / n_classes) / (1.0 - 1.0 / n_classes), 0.0, 1.0)
    levels = np.minimum((sureness * CONFIDENCE_LEVELS).astype(np.uint8), CONFIDENCE_LEVELS - 1)
    return BoundaryFrame(epoch, xs, ys, probabilities.argmax(axis=1).astype(np.uint8).reshape(size, size),
                         levels.reshape(size, size))


def sequence_frame(dataset: Dataset, predict: Predict, epoch: int) -> CurveFrame:
    """The model's next value for each of the first SEQUENCE_POINTS test windows; xs number the windows."""
    windows = dataset.x_test[:SEQUENCE_POINTS]
    return CurveFrame(epoch, np.arange(len(windows), dtype=np.float32), predict(windows)[:, 0].astype(np.float32))


def curve_frame(dataset: Dataset, predict: Predict, epoch: int, size: int = 2 * GRID_SIZE) -> CurveFrame:
    ((low, high),) = axis_ranges(dataset)
    xs = np.linspace(low, high, size, dtype=np.float32)
    return CurveFrame(epoch, xs, predict(xs[:, None])[:, 0].astype(np.float32))
