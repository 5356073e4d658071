"""Which model the Draw page predicts with: the Playground's finished run, an uploaded one, or the default.

Owns the sidebar's model choice (`dr_choice`), the upload (`dr_upload`, its check and its error
`dr_upload_error`, the accepted model `dr_uploaded`), the CPU copy of the Playground's run
(`dr_session_model`) and the default model's progress bar while the server prepares it.
Knows nothing about the canvas or the explanations (`draw_panel`); the checks themselves are
the core's (`draw_models`).
"""
from __future__ import annotations

import copy

import streamlit as st

from ..checkpoint import LoadedModel
from ..datasets import DATASETS
from ..draw_models import DIGIT_SHAPE, drawing_work, input_problem, too_large
from ..text import markdown_literal
from . import server, session, uploads

PROGRESS_SECONDS = 0.5  # the default model's progress bar moves this often while it is prepared
SESSION, UPLOADED, DEFAULT = "session", "uploaded", "default"
CHOICE_TITLES = {SESSION: "The model trained on the Playground", UPLOADED: "An uploaded model (.pt)",
                 DEFAULT: "The default MNIST model"}


def session_model() -> LoadedModel | None:
    """The Playground's finished run, if it is a 28x28 image classifier (copied once to the CPU)."""
    run = session.run_handle("pg_run")
    if run is None or run.active or run.engine is None or DATASETS[run.config.dataset.name].image_shape != DIGIT_SHAPE:
        return None
    cached = st.session_state.get("dr_session_model")
    if cached is None or cached[0] is not run:
        engine = run.engine
        model = copy.deepcopy(engine.model).cpu().eval()
        cached = (run, LoadedModel(run.config, model, engine.dataset.class_names, run.snapshot().final or {}))
        st.session_state["dr_session_model"] = cached
    return cached[1]


def session_problem() -> str | None:
    """Why the Playground's finished image run cannot read drawings (a colour model, other sizes), else None."""
    run = session.run_handle("pg_run")
    if run is None or run.active or run.engine is None or not DATASETS[run.config.dataset.name].is_image:
        return None
    return input_problem(DATASETS[run.config.dataset.name].image_shape)


def load_upload() -> None:
    """The uploader's callback: keep the uploaded model if drawings can use it, else say why."""
    st.session_state.pop("dr_uploaded", None)
    loaded = uploads.uploaded_checkpoint("dr_upload", "dr_upload_error")
    if loaded is None:
        return
    if problem := input_problem(loaded.input_shape):
        st.session_state["dr_upload_error"] = problem
        return
    if not drawing_work(loaded.config).fits:
        st.session_state["dr_upload_error"] = too_large(drawing_work(loaded.config))
        return
    st.session_state["dr_uploaded"] = loaded
    st.session_state["dr_choice"] = UPLOADED


def choose_model() -> LoadedModel | None:
    """The sidebar's model choice and upload; returns the chosen model (waits for the default one)."""
    with st.sidebar:
        st.header("Model")
        choices = [c for c, ok in ((SESSION, session_model() is not None),
                                   (UPLOADED, "dr_uploaded" in st.session_state), (DEFAULT, True)) if ok]
        if st.session_state.get("dr_choice") not in choices:
            st.session_state["dr_choice"] = choices[0]
        choice = st.radio("Predict with", choices, format_func=CHOICE_TITLES.get, key="dr_choice")
        st.file_uploader("Upload a model (.pt)", type=["pt"], key="dr_upload", on_change=load_upload,
                         help="a checkpoint downloaded from the Playground, trained on 28x28 images")
        if st.session_state.get("dr_upload_error"):
            st.error(markdown_literal(st.session_state["dr_upload_error"]), icon="🚫")
        if problem := session_problem():
            st.caption(f"The Playground's model is not offered: {markdown_literal(problem)}")
    if choice == SESSION:
        return session_model()
    if choice == UPLOADED:
        return st.session_state["dr_uploaded"]
    return default_model()


def default_model() -> LoadedModel:
    """The server's default model; while it is still being prepared, its progress (this run waits)."""
    preparing, bar = server.default_digit_model(), None
    while not preparing.wait(PROGRESS_SECONDS):  # a click elsewhere reruns the page, which waits again
        fraction, text = preparing.progress()
        bar = bar or st.progress(0.0)
        bar.progress(fraction, text=f"{text} (once per server)")
    if bar is not None:
        bar.empty()
    if preparing.model is None:
        st.error(f"The default model could not be prepared ({preparing.error}). Upload a model (.pt) trained "
                 "on 28x28 digits in the sidebar instead.", icon="🚫")
        st.stop()
    return preparing.model
