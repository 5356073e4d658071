"""What the Playground's picture shows without a run's curves: the data of the setup before a run (a chart
of 2-D data, sample images of image data) beside why it cannot train or how to start, and the data a
queued run will train on (its boundary forms in place once it starts: the same chart key). The picture's
columns and the data chart, prepared once per dataset and frame object, are shared with `live_view`.
Knows nothing about runs' progress.
"""
from __future__ import annotations

import streamlit as st

from .. import inspection, plots
from ..config import TrainConfig
from ..tasks import CLASSIFICATION
from . import live_chart, pinned_view, server
from .live_chart import Same

SAMPLE_PX, SAMPLES_PER_CLASS, MAX_SAMPLES = 48, 2, 20  # sample images before a run: 2 rows of 10 (no gaps: 480 px)


def picture_columns():
    """The picture's column (wider while a pinned run shares it) and the column of the metrics and curves."""
    return st.columns([2, 1] if pinned_view.pinned() is not None else [11, 10], gap="small")

def data_chart(dataset, frame=None):
    """The dataset's picture (with `frame`), prepared once per dataset and frame object; None if it has none."""
    return live_chart.prepared(("data", Same(dataset), Same(frame)), lambda: plots.data_spec(dataset, frame))

def chart_caption(dataset) -> str:
    """How to read the live chart of this dataset: a boundary, a fitted curve, or a sequence's next values."""
    if dataset.x_train.ndim == 3:  # (samples, steps, features): the next value of each test window
        return "Orange: the true next value of each test window, in time order · red: the model's prediction."
    if dataset.task == CLASSIFICATION:
        return "Dots: training points · diamonds: test points · stronger shade: more confident."
    return "Dots: training points · diamonds: test points · red: the model's prediction."


def before_a_run(preview: TrainConfig | None) -> None:
    """The data of the setup beside why it cannot train (the disabled Train button is above) or how to start."""
    dataset = None if preview is None else server.cached_dataset(preview.dataset)
    if dataset is not None and dataset.is_image:
        sample_images(dataset)
    figure = None if dataset is None or dataset.is_image else data_chart(dataset)
    if figure is None:
        how_to_start(preview)
        return
    picture, beside = picture_columns()
    with picture, pinned_view.beside_pinned():
        live_chart.chart(figure, key="pg_boundary")
    with beside:
        how_to_start(preview)


def while_queued(dataset) -> None:
    """A queued run's page: its data (the boundary forms in place once it starts), prepared once per dataset."""
    if dataset.is_image:
        sample_images(dataset)
        return
    figure = data_chart(dataset)
    if figure is None:
        return
    picture, beside = picture_columns()
    with picture, pinned_view.beside_pinned():
        live_chart.chart(figure, key="pg_boundary")
    with beside:
        st.caption("Your run starts by itself as soon as the server has room for it; its boundary forms here.")


def how_to_start(preview: TrainConfig | None) -> None:
    """Why the setup cannot train (the Model column's reason), what to do first, or how to start."""
    if st.session_state.get("pg_blocked"):
        message, icon = st.session_state["pg_blocked"]
        st.error(message, icon=icon)
    elif preview is None:  # e.g. a table still to upload: the Model column says what to do first
        st.caption("Train becomes available once the setup is ready: see the Model column.")
    else:
        st.info("Press **Train** to start, or **Step** to train one epoch at a time.", icon=":material/touch_app:")


def sample_images(dataset) -> None:
    """The first training images of each class, captioned with their labels (drawn at twice the size shown,
    so the browser's scaling keeps the pixels sharp)."""
    chosen = inspection.sample_per_class(dataset.y_train, SAMPLES_PER_CLASS, MAX_SAMPLES)
    height, width = dataset.x_train.shape[2:]
    with st.container(key="pg_samples"):
        st.image([inspection.upscale(inspection.picture(dataset.x_train[i]), 2 * SAMPLE_PX) for i in chosen],
                 caption=[dataset.class_names[dataset.y_train[i]] for i in chosen], width=SAMPLE_PX)
    colours = "grey pixels" if dataset.x_train.shape[1] == 1 else "colour pixels (red, green and blue channels)"
    st.caption(f"Sample training images ({len(dataset.y_train):,} of them); the model sees each as "
               f"{height}x{width} {colours}.")
