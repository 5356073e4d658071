"""The Draw page's drawing and what the model makes of it: the canvas, the 28x28 image the model
sees, its guess, and the tabs explaining it (occlusion map, first conv layer's feature maps).

Owns the canvas's keys (`dr_pen`, `dr_canvas_<version>`, `dr_clear`, `dr_canvas_version`) and
`dr_probabilities`. Knows nothing about where the model came from (`draw_model`); it is handed a
model and what a drawing costs it (`draw_models.drawing_work`).
"""
from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from .. import explain, inspection, plots
from ..checkpoint import LoadedModel
from ..draw_models import no_occlusion
from ..drawing import mnist_digit
from ..explain import DrawingWork
from ..text import markdown_literal

PREVIEW, MAP = 168, 84  # pixels: the 28x28 image as shown, one feature map as shown
MAX_MAPS = 32  # feature maps shown at most


def clear_canvas() -> None:
    st.session_state["dr_canvas_version"] = st.session_state.get("dr_canvas_version", 0) + 1


def canvas_digit() -> np.ndarray | None:
    """The pen width, the canvas and Clear; returns the drawing as a 28x28 MNIST-style digit (None: no ink)."""
    width = st.slider("Pen width", 6, 40, 18, key="dr_pen")
    canvas = st_canvas(stroke_width=width, stroke_color="#FFFFFF", background_color="#000000", width=280, height=280,
                       drawing_mode="freedraw", return_image_data=True,
                       key=f"dr_canvas_{st.session_state.get('dr_canvas_version', 0)}")
    st.button("Clear", icon=":material/delete:", on_click=clear_canvas, key="dr_clear",
              help="start again (the canvas toolbar also has undo and redo)")
    return mnist_digit(canvas.image_data) if canvas is not None and canvas.image_data is not None else None


def what_the_model_sees(digit: np.ndarray | None) -> None:
    st.markdown("**What the model sees**")
    if digit is not None:
        st.image(inspection.upscale(digit, PREVIEW), width=PREVIEW,
                 caption="28x28: cropped to the ink, scaled to 20 px, centred by mass, as MNIST was made")


def guess(model: LoadedModel, digit: np.ndarray | None) -> int | None:
    """The model's guess and its probabilities (a hint while there is no ink); returns the guessed class."""
    if digit is None:
        st.info("Draw a digit from 0 to 9 in the black square: the guess appears as you draw.",
                icon=":material/draw:")
        return None
    probabilities = model.predict(digit[None, None])[0]
    best = int(probabilities.argmax())
    st.metric("The model's guess", markdown_literal(model.class_names[best]), f"{probabilities[best]:.0%} sure",
              delta_color="off", delta_arrow="off")
    st.plotly_chart(plots.probability_figure(probabilities, model.class_names), key="dr_probabilities",
                    width="stretch")
    return best


def explanations(model: LoadedModel, digit: np.ndarray, best: int, work: DrawingWork) -> None:
    """Two tabs: which strokes drove the guess `best`, and the first conv layer on the drawing."""
    why, inside = st.tabs(["Which strokes drove the guess", "First conv layer on your drawing"])
    with why:
        occlusion(model, digit, best, work)
    with inside:
        feature_maps(model, digit)


def occlusion(model: LoadedModel, digit: np.ndarray, best: int, work: DrawingWork) -> None:
    if not work.explains:
        st.caption(no_occlusion(work))
        return
    heat = explain.occlusion_map(model.predict, digit, best)
    st.image(explain.overlay(inspection.upscale(digit, PREVIEW), inspection.upscale(heat, PREVIEW)), width=PREVIEW)
    st.caption(f"Red: where hiding a small patch of the drawing lowers the model's confidence in "
               f"**{markdown_literal(model.class_names[best])}** the most (occlusion: the 28x28 image with "
               "one 6x6 patch blacked out at a time).")


def feature_maps(model: LoadedModel, digit: np.ndarray) -> None:
    maps = explain.conv_activations(model.model, digit)
    if maps is None:
        st.caption("This model has no convolution layer, so there are no feature maps to show.")
        return
    shown = maps[:MAX_MAPS]
    st.image(explain.activation_pictures(shown, MAP), width=MAP, caption=[f"#{i + 1}" for i in range(len(shown))])
    st.caption(f"What the first Conv2d's {len(maps)} filters respond to in your drawing "
               f"({maps.shape[1]}x{maps.shape[2]} each; white = strong response).")
