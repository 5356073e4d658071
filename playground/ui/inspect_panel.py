"""Inspecting the Playground's image classifier: the confusion matrix (click a cell to see its test
images), per-class scores, the test images the model gets most wrong, and the first layer's filters.

Reads the run's latest `ImageFrame` (predictions on the test images); the numbers are
`inspection`'s and the figures `plots`'. Knows nothing about toy data (`inside_panel` shows those
networks) or about the controls.
"""
from __future__ import annotations

import streamlit as st

from .. import inspection, plots
from ..datasets import DATASETS
from ..frames import ImageFrame
from . import server, session
from .live_view import INSPECT_SECONDS, active
from .widget_state import RUN

ROW_PX, MAX_TABLE_ROWS = 35, 12  # Streamlit's row height; the rows shown before the table scrolls (10 classes + macro)


def applies(is_image: bool) -> bool:
    """Whether to inspect: the setup shown, or the run on the page, is of image data."""
    run = session.run_handle(RUN)
    return is_image or (run is not None and DATASETS[run.config.dataset.name].is_image)


def live() -> None:
    """The inspection, refreshed while the run is active."""
    session.live(render_inspection, active=active(), every=INSPECT_SECONDS)


def render_inspection() -> bool:
    """Confusion matrix, per-class scores, test images and filters of the current image run."""
    run = session.run_handle(RUN)
    if run is None or not DATASETS[run.config.dataset.name].is_image:
        return False
    snap = run.snapshot()
    frame = snap.frame
    st.subheader("Inspect the model")
    if not isinstance(frame, ImageFrame):
        st.caption("The confusion matrix and the test images appear after the first epoch.")
        return snap.active
    dataset = server.cached_dataset(run.config.dataset)
    matrix = inspection.confusion_matrix(dataset.y_test, frame.predicted, dataset.n_classes)
    accuracy = float(matrix.trace() / max(matrix.sum(), 1))
    st.caption(f"On the {len(dataset.y_test):,} test images after epoch {frame.epoch}: accuracy {accuracy:.2%}.")
    confusion, scores, images, filters = st.tabs(["Confusion matrix", "Per-class scores", "Test images",
                                                  "First-layer filters"])
    with confusion:
        confusion_tab(matrix, dataset, frame)
    with scores:
        scores_tab(matrix, dataset.class_names)
    with images:
        st.caption("Mistakes first (the most confident ones), then the least confident correct answers.")
        image_grid(dataset, frame, None, None, key="pg_grid_all")
    with filters:
        filters_tab(frame)
    return snap.active


def confusion_tab(matrix, dataset, frame: ImageFrame) -> None:
    names = dataset.class_names
    options = [None, *range(len(names))]
    label = lambda c: "any class" if c is None else names[c]  # noqa: E731
    true_col, pred_col = st.columns(2)
    true_class = true_col.selectbox("True class", options, format_func=label, key="pg_cm_true")
    predicted = pred_col.selectbox("Predicted as", options, format_func=label, key="pg_cm_pred")
    st.plotly_chart(plots.confusion_figure(matrix, names, (true_class, predicted)), key="pg_confusion",
                    on_select=select_cell, selection_mode="points", width="stretch")
    worst = inspection.most_confused(matrix)
    if worst:
        st.caption("Most confused (true → predicted): " +
                   " · ".join(f"{names[t]} → {names[p]} ({n})" for t, p, n in worst))
    if true_class is None and predicted is None:
        st.caption("Click a cell, or pick a true and a predicted class, to see those test images.")
    else:
        image_grid(dataset, frame, true_class, predicted, key="pg_grid_cell")


def select_cell() -> None:
    """A click on a confusion-matrix cell picks that (true, predicted) pair."""
    points = st.session_state["pg_confusion"].selection.get("points", [])
    run = session.run_handle(RUN)
    names = list(DATASETS[run.config.dataset.name].class_names) if run else []
    if points and names and points[0].get("y") in names and points[0].get("x") in names:
        st.session_state["pg_cm_true"] = names.index(points[0]["y"])
        st.session_state["pg_cm_pred"] = names.index(points[0]["x"])


def image_grid(dataset, frame: ImageFrame, true_class, predicted, key: str, limit: int = 30) -> None:
    chosen = inspection.cell_examples(dataset.y_test, frame.predicted, true_class, predicted, frame.confidence, limit)
    if len(chosen) == 0:
        st.caption("No test images in this cell.")
        return
    names = dataset.class_names
    pictures = [inspection.upscale(inspection.picture(dataset.x_test[i]), 96) for i in chosen]
    captions = [(f"✓ {names[frame.predicted[i]]}" if frame.predicted[i] == dataset.y_test[i] else
                 f"✗ {names[frame.predicted[i]]} (true {names[dataset.y_test[i]]})") + f" {frame.confidence[i]:.0%}"
                for i in chosen]
    with st.container(key=key):
        st.image(pictures, caption=captions, width=96)


def scores_tab(matrix, class_names) -> None:
    rows = inspection.class_scores(matrix, class_names)
    table = [{"class": r.name, "precision": r.precision, "recall": r.recall, "F1": r.f1, "test images": r.support}
             for r in [*rows, inspection.macro_average(rows)]]
    st.dataframe(table, hide_index=True, width="stretch", key="pg_class_scores", height=table_height(len(table)),
                 column_config={name: st.column_config.NumberColumn(format="%.3f")
                                for name in ("precision", "recall", "F1")})
    st.caption("Precision: of the images predicted as the class, how many are. Recall: of the class's images, "
               "how many were found. F1: their harmonic mean. Empty: undefined (never predicted).")


def table_height(rows: int) -> int:
    """Pixels that show the header and every row (up to `MAX_TABLE_ROWS`, then the table scrolls)."""
    return (min(rows, MAX_TABLE_ROWS) + 1) * ROW_PX + 3  # + the border


def filters_tab(frame: ImageFrame) -> None:
    if frame.filters is None:
        st.caption("This model has no convolution layer, so there are no filters to show.")
        return
    out, inputs, k, _ = frame.filters.shape
    how = ("in colour: each filter's red, green and blue weights as one picture, stretched together"
           if inputs == 3 else f"averaged over its {inputs} input channel(s)")
    st.caption(f"The {out} filters ({k}x{k}) of the first Conv2d, {how}: white = most positive weight, "
               "black = most negative.")
    st.image(inspection.filter_images(frame.filters[:64], 56), caption=[f"#{i + 1}" for i in range(min(out, 64))],
             width=56)
