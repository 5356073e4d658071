"""What a classifier gets wrong: confusion matrix, per-class scores, which test images to look at,
which training images show the classes before a run, and first-layer filters as pictures (in colour
when the images are).

Pure numpy on label arrays and weight arrays: knows nothing about torch, training or the UI.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassScores:
    """Precision, recall and F1 of one class (None where undefined: nothing predicted / present)."""

    name: str
    precision: float | None
    recall: float | None
    f1: float | None
    support: int  # test images of this class


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(C, C) counts: row = true class, column = predicted class."""
    y_true, y_pred = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    for name, labels in (("true label", y_true), ("prediction", y_pred)):
        if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(f"a {name} lies outside the {n_classes} classes (0 to {n_classes - 1})")
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def class_scores(matrix: np.ndarray, class_names: tuple[str, ...]) -> list[ClassScores]:
    """Per-class precision (of the images predicted as it), recall (of its images) and F1."""
    hits = np.diag(matrix)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    rows = []
    for c, name in enumerate(class_names):
        precision = _ratio(hits[c], predicted[c])
        recall = _ratio(hits[c], actual[c])
        # F1 = 2TP / (2TP + FP + FN): 0 when the class was predicted or present but never hit.
        both = predicted[c] + actual[c]
        f1 = float(2 * hits[c] / both) if both else None
        rows.append(ClassScores(name, precision, recall, f1, int(actual[c])))
    return rows


def macro_average(rows: list[ClassScores]) -> ClassScores:
    """The unweighted mean of each score over the classes where it is defined."""
    def mean(values):
        values = [v for v in values if v is not None]
        return float(np.mean(values)) if values else None
    return ClassScores("macro average", mean(r.precision for r in rows), mean(r.recall for r in rows),
                       mean(r.f1 for r in rows), sum(r.support for r in rows))


def most_confused(matrix: np.ndarray, top: int = 3) -> list[tuple[int, int, int]]:
    """The largest off-diagonal cells as (true, predicted, count), biggest first, counts > 0 only."""
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:top]
    cells = [(int(i // matrix.shape[1]), int(i % matrix.shape[1])) for i in order]
    return [(t, p, int(off[t, p])) for t, p in cells if off[t, p] > 0]


def cell_examples(y_true: np.ndarray, y_pred: np.ndarray, true_class: int | None, predicted_class: int | None,
                  confidence: np.ndarray | None = None, limit: int = 40) -> np.ndarray:
    """Indices of test images in one confusion cell (None = any class), mistakes first.

    Mistakes come first, the most confident mistakes before the rest; then correct predictions,
    the least confident first (the ones closest to being wrong).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    keep = np.ones(len(y_true), dtype=bool)
    if true_class is not None:
        keep &= y_true == true_class
    if predicted_class is not None:
        keep &= y_pred == predicted_class
    index = np.flatnonzero(keep)
    wrong = y_true[index] != y_pred[index]
    sureness = confidence[index] if confidence is not None else np.zeros(len(index))
    # lexsort: last key is primary. Wrong first; wrong by decreasing, right by increasing confidence.
    order = np.lexsort((np.where(wrong, -sureness, sureness), ~wrong))
    return index[order][:limit]


def sample_per_class(labels: np.ndarray, per_class: int = 1, limit: int | None = None) -> np.ndarray:
    """Indices of the first `per_class` examples of each class, one round of classes at a time.

    Round 1 is the first example of each class (in class order), round 2 the second, and so on, so a
    row of the grid shows every class once. Deterministic: the same labels give the same images.
    """
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")  # by class, first examples first
    rank = np.arange(len(labels)) - np.searchsorted(labels[order], labels[order], side="left")  # n-th of its class
    keep = rank < per_class
    chosen, rounds = order[keep], rank[keep]
    return chosen[np.lexsort((labels[chosen], rounds))][:limit]


def filter_images(filters: np.ndarray, size: int = 48) -> list[np.ndarray]:
    """Each output channel's filter as a uint8 picture of size x size: in colour (height, width, 3) when it
    reads three input channels (red, green, blue), else grey with its input channels averaged.

    Each filter is stretched to its own range: black is its most negative weight, white its most
    positive (in colour: over all three channels, so a filter that looks for red shows red), so the
    pattern it looks for is visible whatever its scale.
    """
    kernels = np.asarray(filters, dtype=np.float32)
    if kernels.ndim != 4:
        raise ValueError(f"expected conv weights (out, in, k, k), got shape {kernels.shape}")
    colour = kernels.shape[1] == 3
    kernels = kernels.transpose(0, 2, 3, 1) if colour else kernels.mean(axis=1)
    pictures = []
    for kernel in kernels:
        low, high = float(kernel.min()), float(kernel.max())
        scaled = (kernel - low) / (high - low) if high > low else np.full_like(kernel, 0.5)
        pictures.append(upscale((scaled * 255).round().astype(np.uint8), size))
    return pictures


def picture(image: np.ndarray) -> np.ndarray:
    """One (C, H, W) image as st.image shows it: (H, W) grey, or (H, W, 3) colour."""
    return image[0] if image.shape[0] == 1 else np.ascontiguousarray(image.transpose(1, 2, 0))


def upscale(image: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour enlargement of a small image, (H, W) grey or (H, W, C) colour, so its longer side is
    about `size` pixels."""
    factor = max(1, size // max(image.shape[:2]))
    block = np.ones((factor, factor) + (1,) * (image.ndim - 2), dtype=image.dtype)
    return np.kron(image, block)


def _ratio(numerator: int, denominator: int) -> float | None:
    return float(numerator) / float(denominator) if denominator else None
