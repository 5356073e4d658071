"""The parts of the Class page's "class digits" that the teacher and the students share: how many drawings each
digit has, the downloads (CSV and a PNG grid), the Draw page's MNIST model tested on the drawings, and "Train
on them" (the Playground with the class's digits and a small CNN).

Widget keys start with `cl_dg_`. Knows nothing about moderation (`class_digits_panel`), nor how the numbers are
made (`class_digits`).
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from .. import class_digits, plots, share
from ..config import TrainConfig
from ..images import DIGIT_NAMES
from ..kept import Kept
from ..presets import ONE_CONV_CNN
from . import class_session, draw_model, server

TRAIN_EPOCHS, TRAIN_BATCH = 10, 32  # "Train on them": a few quick epochs of mini-batches (a class has few drawings)
_TESTS = Kept(8)  # (code, the drawings' state) -> the MNIST model's (accuracy, confusion matrix)


def counts_chart(labels: np.ndarray) -> None:
    """A small bar chart of the drawings per digit."""
    counts = class_digits.per_label(labels)
    st.bar_chart({"digit": list(DIGIT_NAMES), "drawings": counts.tolist()}, x="digit", y="drawings", height=180,
                 x_label="digit", y_label="drawings")


def downloads(code: str, x: np.ndarray, y: np.ndarray) -> None:
    """The drawings as CSV (label, pixel0 ... pixel783) and as one PNG picture of them all."""
    row = st.container(horizontal=True)
    with row:
        st.download_button("Download as CSV", lambda: class_digits.csv_text(x, y), f"class-{code}-digits.csv",
                           "text/csv", key="cl_dg_csv", icon=":material/download:", disabled=not len(y),
                           help="one row a drawing: its label, then the 784 pixels (0-255, row by row)")
        st.download_button("Download as a PNG grid", lambda: class_digits.png_grid(x), f"class-{code}-digits.png",
                           "image/png", key="cl_dg_png", icon=":material/grid_on:", disabled=not len(y),
                           help=f"every drawing, {class_digits.GRID_COLUMNS} a row, oldest first")


def train_config(code: str) -> TrainConfig:
    """The Playground setup "Train on them" opens: the class's digits and the one-conv CNN."""
    return TrainConfig.from_dict({"dataset": {"name": "class_digits", "class": code}, "layers": ONE_CONV_CNN.stack(),
                                  **ONE_CONV_CNN.training, "epochs": TRAIN_EPOCHS, "batch_size": TRAIN_BATCH})


def train_button(code: str, count: int, label: str = "Train on them") -> None:
    """Open the Playground on the class's digits (once the class has enough of them)."""
    problem = class_digits.too_few_digits(count)
    if st.button(label, key="cl_dg_train", icon=":material/model_training:", disabled=problem is not None,
                 help=problem or "opens the Playground with the class's digits and a small CNN: press Train there"):
        st.switch_page("pages/1_Playground.py", query_params=share.to_query(train_config(code)))


def mnist_test(code: str, x: np.ndarray, y: np.ndarray) -> None:
    """The Draw page's model (trained on MNIST) on the class's drawings: its accuracy and confusion matrix (worked
    out once per state of the class's drawings: about a second for 3000 on one thread)."""
    if not len(y):
        return
    if not st.toggle("Test the Draw page's MNIST model on them", key="cl_dg_test",
                     help="how well does a model trained on MNIST read this class's handwriting?"):
        return
    server.warm_up()  # torch on one thread
    model = draw_model.default_model()
    key = (code, class_session.store().digits_state(code))
    accuracy, matrix = _TESTS.get_or_make(key, lambda: class_digits.model_on_digits(model.predict, x, y))
    st.metric("The MNIST model reads", f"{accuracy:.0%}", f"of the class's {len(y):,} drawings right",
              delta_color="off", delta_arrow="off")
    st.plotly_chart(plots.confusion_figure(matrix, DIGIT_NAMES), key="cl_dg_confusion", width="stretch")
    st.caption("Rows: the label the drawing was given · columns: what the MNIST model read. Off the diagonal: "
               "where this class writes a digit differently from MNIST's writers.")
