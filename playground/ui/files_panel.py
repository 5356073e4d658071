"""The Playground's files: the config as JSON (see it, download it, load one) and the trained model
as a `.pt` checkpoint (download it, or load one to inspect it or train it further).

A loaded config or model fills the widgets (`widget_state`); a loaded model also starts a paused run
from its weights, and Train may start from them (`controls.loaded_weights_for`). The file formats
are `config`'s and `checkpoint`'s; reading an upload is `uploads`'.
"""
from __future__ import annotations

import streamlit as st

from ..config import ConfigError, TrainConfig
from ..datasets import DATASETS
from ..lazy import lazy_module
from ..text import markdown_literal
from . import class_data, session, uploads
from .controls import chosen_pace
from .lazy_blocks import lazy_expander
from .widget_state import RUN, apply_config

checkpoint = lazy_module("playground.checkpoint")  # imports torch: only when a model is saved


def config_panel(config: TrainConfig | None) -> None:
    """The config as JSON (download, load) and the trained model as a checkpoint."""
    box = lazy_expander("Config JSON — share it, or train it headlessly with `python -m playground train`",
                        "pg_config_panel")
    if box.open:
        config_json(box, config)
    model_upload()
    run = session.run_handle(RUN)
    if run is not None and run.engine is not None and not run.active:
        engine, final = run.engine, run.snapshot().final
        st.download_button("Download trained model (.pt)",  # the bytes are made only when it is clicked
                           lambda: checkpoint.checkpoint_bytes(run.config, engine.model, engine.dataset.class_names,
                                                               final),
                           "playground-model.pt", key="pg_download_model",
                           help="config and weights in one file: load it here again, or use it with "
                                "python -m playground predict playground-model.pt X1 X2 (or IMAGE.png)")


def config_json(box, config: TrainConfig | None) -> None:
    """The Config JSON section's contents (drawn only while it is open): the JSON, its download, a file to load."""
    with box:
        if config is not None:
            st.code(config.to_json(), language="json")
            st.download_button("Download config", config.to_json(), "playground-config.json", "application/json",
                               key="pg_download_config")
        st.file_uploader("Load a config", type=["json"], key="pg_upload_config", on_change=load_uploaded_config)
        if st.session_state.get("pg_upload_error"):
            st.error(markdown_literal(st.session_state["pg_upload_error"]), icon="🚫")


def model_upload() -> None:
    """Load a .pt checkpoint: its config fills the page and its weights can be trained further."""
    with st.expander("Load a trained model (.pt) to inspect it or continue training it", key="pg_model_panel"):
        st.file_uploader("Model file", type=["pt"], key="pg_upload_model", on_change=load_uploaded_model)
        if st.session_state.get("pg_model_error"):
            st.error(markdown_literal(st.session_state["pg_model_error"]), icon="🚫")
        loaded = st.session_state.get("pg_loaded")
        if loaded is not None:
            metrics = loaded.metrics
            score = metrics.get("test_accuracy", metrics.get("test_r2"))
            scored = f", test score {score:.4f}" if score is not None else ""
            st.success(f"Loaded a {DATASETS[loaded.config.dataset.name].title} model with "
                       f"{len(loaded.config.layers)} layers{scored}. Press Resume to continue training it.", icon="✅")
            st.checkbox("Train starts from the loaded weights (when the model and dataset still match)",
                        value=True, key="pg_continue")


def load_uploaded_model() -> None:
    loaded = uploads.uploaded_checkpoint("pg_upload_model", "pg_model_error")
    if loaded is None:
        return
    st.session_state["pg_loaded"] = loaded
    apply_config(loaded.config)
    refused = class_data.refusal(loaded.config)  # another class's drawings: the setup shows, no run starts
    if refused:
        st.session_state["pg_model_error"] = refused
        return
    session.start_run(RUN, class_data.pinned(loaded.config), paused=True, initial_state=loaded.model.state_dict(),
                      pace=chosen_pace())


def load_uploaded_config() -> None:
    upload = st.session_state.get("pg_upload_config")
    st.session_state["pg_upload_error"] = None
    if upload is None:
        return
    try:
        apply_config(TrainConfig.from_json(upload.getvalue().decode("utf-8", errors="replace")))
    except ConfigError as error:
        st.session_state["pg_upload_error"] = f"That config was not loaded: {error}"
