"""The Playground's Augmentation section (sidebar, image datasets only, folded under what it does): random
crop, flip and rotation of the training batches, and a grid of what training sees of a few images.

Returns the `augment` part of a config ({"augment": {...}} when anything is on, else {}); folded, its
widgets are not drawn (`lazy_blocks`) and their values come from session state, where they stay while
hidden. A teacher's link that hides the training settings keeps the link's augmentation. Knows nothing
about runs: the engine augments (`playground.augment`), `plots` draws the grid.
"""
from __future__ import annotations

import streamlit as st

from .. import inspection, plots
from ..config import MAX_CROP, MAX_ROTATE
from ..datasets import DATASETS
from ..images import ImageDataError, load_images, needs_download
from .lazy_blocks import lazy_expander
from .link import link_config, shown
from .widget_state import AUGMENT_KEYS as KEYS
from .widget_state import AUGMENT_OFF as DEFAULTS

PREVIEW_IMAGES, PREVIEW_VARIANTS = 4, 3  # a 4x4 grid: each image, then three of its variants


def augment_section(data: dict) -> dict:
    """The Augmentation section for the dataset settings `data`; returns the config part it shows."""
    if not DATASETS[data["name"]].is_image:
        return {}
    if not shown("training"):
        settings = link_config().augment
        return {"augment": settings.to_dict()} if settings else {}
    box = lazy_expander(f"Augmentation · {summary(current())}", "pg_aug_box", icon=":material/transform:")
    if not box.open:
        return as_config(current())
    with box:
        values = controls()
        preview(data["name"], values)
    return as_config(values)


def current() -> dict:
    return {name: st.session_state.get(key, DEFAULTS[name]) for name, key in KEYS.items()}


def as_config(values: dict) -> dict:
    return {"augment": values} if values != DEFAULTS else {}


def summary(values: dict) -> str:
    """What the section's title says: "crop 2 · flip · rotate ±10°", or "off"."""
    parts = [f"crop {values['crop']}" if values["crop"] else "", "flip" if values["flip"] else "",
             f"rotate ±{values['rotate']:g}°" if values["rotate"] else ""]
    return " · ".join(filter(None, parts)) or "off"


def controls() -> dict:
    for name, key in KEYS.items():
        st.session_state.setdefault(key, DEFAULTS[name])
    st.caption("Each training batch is changed at random, every epoch anew; the test images never are.")
    return {"crop": st.slider("Random crop (pixels of padding)", 0, MAX_CROP, key=KEYS["crop"], persist_state="page",
                              help="pad with zeros, then cut the image's size out at a random place"),
            "flip": st.checkbox("Random horizontal flip", key=KEYS["flip"], persist_state="page",
                                help="mirror half the images left to right (a mirrored digit may mean another)"),
            "rotate": st.slider("Random rotation (± degrees)", 0.0, float(MAX_ROTATE), step=1.0, key=KEYS["rotate"],
                                persist_state="page", help="turn each image by a random angle up to this")}


def preview(name: str, values: dict) -> None:
    """A few training images, each followed by variants drawn as training would draw them."""
    if values == DEFAULTS or needs_download(name):  # the Data section offers the download
        return
    try:
        images = load_images(name)
    except ImageDataError:
        return  # the Data section says why
    from .. import augment  # torch, only once someone looks at the augmentation

    originals = images.x_train[inspection.sample_per_class(images.y_train, 1, PREVIEW_IMAGES)]
    variants = augment.variants(originals, values["crop"], values["flip"], values["rotate"], PREVIEW_VARIANTS)
    st.plotly_chart(plots.augmented_figure(originals, variants), key="pg_aug_grid",
                    config={"displayModeBar": False, "staticPlot": True})
