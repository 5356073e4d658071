"""The Playground's Data section (sidebar, folded under the dataset's name): the dataset, its settings, its
test share and seed, and where its images come from.

Folded, the section of a toy dataset draws no widgets (`lazy_blocks`): its settings are read from session
state, where the widgets keep them while hidden (`persist_state="page"`). Images and tables are drawn
folded or not (loading them may report a problem the page must show).

Returns the dataset settings as `DatasetConfig.to_dict()` spells them; whether they make a valid
config is decided later (`plan_panel`). A table's upload and columns are `table_panel`'s. Problems
with the data go to session state (`pg_data_error`, `pg_data_prompt`) for the plan to show.
"""
from __future__ import annotations

import streamlit as st

from ..config import default_batch
from ..datasets import CLASS_DIGITS, DATASETS
from ..images import ImageDataError, load_images, needs_download, normalization_text
from ..presets import starting_preset, suggested_epochs
from . import class_data, data_download, table_panel
from .lazy_blocks import lazy_expander
from .link import link_config, shown
from .widget_state import use_preset


def dataset_changed() -> None:
    """Switching between toy data and images swaps in a model and batch size that fit the new kind."""
    is_image = DATASETS[st.session_state["pg_dataset"]].is_image
    if st.session_state.get("pg_image_mode", False) == is_image:
        return
    st.session_state["pg_image_mode"] = is_image
    use_preset(starting_preset(is_image, DATASETS[st.session_state["pg_dataset"]].input_shape[0]))
    st.session_state.update(pg_batch=default_batch(st.session_state["pg_dataset"]),
                            pg_epochs=suggested_epochs(is_image))


def is_image(data: dict) -> bool:
    """Whether the dataset settings `data` are of an image dataset."""
    return DATASETS[data["name"]].is_image


def dataset_section() -> dict:
    """The Data section, folded under its dataset's name (open it to change the data); returns the dataset
    settings it shows (a teacher's link may fix them)."""
    st.session_state.update(pg_data_error=None, pg_data_prompt=None)
    if not shown("data"):
        st.header("Data")
        st.caption(f"🔒 {DATASETS[link_config().dataset.name].title}, set by the link.")
        if needs_download(link_config().dataset.name):
            data_download.offer(link_config().dataset.name)
        return link_config().dataset.to_dict()
    name = st.session_state.get("pg_dataset") or next(iter(DATASETS))
    box = lazy_expander(f"Data · {DATASETS[name].title}", "pg_data_box", icon=":material/scatter_plot:")
    if not box.open and not (DATASETS[name].is_image or DATASETS[name].is_table):
        return toy_settings(name)
    with box:
        return data_settings()


def toy_settings(name: str) -> dict:
    """What `data_settings` returns for a toy dataset, read from session state (its widgets not drawn)."""
    spec, state = DATASETS[name], st.session_state
    values = {"name": name, **{p.name: state.get(f"pg_ds_{name}_{p.name}", default_value(p)) for p in spec.params}}
    return {**values, "test_fraction": state.get(f"pg_ds_{name}_test_fraction", spec.test_fraction),
            "seed": state.get("pg_ds_seed", 0)}


def default_value(p):
    return int(p.default) if p.integer else float(p.default)


def data_settings() -> dict:
    """The dataset, its own settings, its test share and seed, and where its images come from."""
    name = st.selectbox("Dataset", class_data.dataset_names(), format_func=lambda n: DATASETS[n].title,
                        key="pg_dataset", on_change=dataset_changed, persist_state="page")
    spec = DATASETS[name]
    st.caption(spec.description)
    values = {"name": name, **(table_panel.table_section() if spec.is_table else {}),
              **(class_data.class_section() if name == CLASS_DIGITS else {})}
    for p in spec.params:
        values[p.name] = param_input(name, p)
    images = image_source(name) if spec.is_image and name != CLASS_DIGITS else None
    if images is None or images.x_test is None:
        key = f"pg_ds_{name}_test_fraction"
        st.session_state.setdefault(key, spec.test_fraction)
        values["test_fraction"] = st.slider("Test share", 0.05 if spec.is_image else 0.0, 0.9, step=0.05, key=key,
                                            help="fraction of points held out to measure generalisation",
                                            persist_state="page")
    values["seed"] = st.number_input("Data seed", 0, 2**32 - 1, step=1, key="pg_ds_seed", persist_state="page")
    if images is not None:
        st.caption(f"**Source:** {images.source}. Pixels are scaled to 0–1, then normalised as "
                   f"{normalization_text(images)}.")
    return values


def param_input(name: str, p):
    """One of the dataset's own settings: a whole number (image counts) or a slider (noise, factor)."""
    spec = DATASETS[name]
    key = f"pg_ds_{name}_{p.name}"
    st.session_state.setdefault(key, default_value(p))
    label = p.name.replace("_", " ").capitalize() if spec.is_image else p.help.capitalize()
    if p.integer:
        return st.number_input(label, int(p.low), int(p.high), step=1 if not spec.is_image else 1000,
                               key=key, help=p.help if spec.is_image else None, persist_state="page")
    return st.slider(label, float(p.low), float(p.high), step=0.01, key=key, persist_state="page")


def image_source(name: str):
    """The loaded images of `name`, or None: with an error shown when no source could be read, with the
    offer to download it when it must be (`data_download`: never in this script run)."""
    if needs_download(name):
        data_download.offer(name)
        return None
    try:
        with st.spinner(f"Loading {DATASETS[name].title}…"):
            return load_images(name)
    except ImageDataError as error:
        st.session_state["pg_data_error"] = f"{DATASETS[name].title} is not available here: {error}"
        return None
