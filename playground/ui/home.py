"""The home page's panels, for a first visit: the promise and a picture of a boundary forming, three
large entries (Lessons, Playground, Draw a digit), then everything the app can do, folded away.

Plain words above the fold; the feature list with its jargon sits in an expander. Shows a static
picture (docs/home.png, drawn by `python -m docs.home_picture`) and names the training device only
once the server's background warm-up knows it, so nothing here needs torch (tests/test_app_home.py
checks). Knows nothing about training or any page's content beyond its path and a one-line description.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from . import server

PICTURE = Path(__file__).resolve().parents[2] / "docs" / "home.png"
PROMISE = "Build a small neural network, press Train, and watch it learn to tell the colours apart."
DEVICE_POLL_SECONDS = 1.0  # how often a home page shown before torch was ready checks again
PICTURE_CAPTION = "One network learning the spiral: its colours bend around the points as training goes on."


@dataclass(frozen=True)
class Entry:
    page: str  # the page's path, as st.page_link takes it
    title: str
    icon: str  # a Material icon, as the sidebar's links have (it needs no emoji font)
    line: str  # what a first-time visitor finds there, in plain words


ENTRIES = (
    Entry("pages/3_Lessons.py", "Lessons", ":material/school:",
          "Start here: classic experiments, one click each, with what to look for."),
    Entry("pages/1_Playground.py", "Playground", ":material/tune:",
          "Stack the layers yourself, press Train and watch the network learn."),
    Entry("pages/2_Draw.py", "Draw a digit", ":material/draw:",
          "Draw a number with your mouse and see what a trained network reads."),
)

INTRO = (
    "Build a neural network layer by layer, pick a loss, an optimizer and a learning rate, and "
    "train it with **real PyTorch** while the loss, the accuracy and the decision boundary update "
    "live. Start with the classic: a linear model gets about half of the spiral right; add a "
    "hidden ReLU layer and it gets about 95%."
)
FEATURES = (
    "- **Datasets**: spiral, circles, XOR, Gaussian blobs, moons, coffee-roast quality, "
    "linear regression y = 2x and a sine curve, each with seed, size, noise and a train/test split; "
    "MNIST, Fashion-MNIST and 8x8 digits (offline too).\n"
    "- **Layers**: Linear, ReLU, LeakyReLU, Tanh, Sigmoid, GELU, ELU, Softmax, LogSoftmax, "
    "Dropout, BatchNorm1d, Conv2d, pooling, Flatten, Dropout2d, BatchNorm2d and a residual block; "
    "sizes are inferred where they can be.\n"
    "- **Inspect**: a CNN's confusion matrix, per-class scores, its mistakes and its filters; an MLP's "
    "weights as a network diagram and each hidden neuron's output as a small map.\n"
    "- **Your data**: upload a CSV, pick the label and the features; download any dataset as CSV.\n"
    "- **Share and compare**: the address bar holds the whole setup (a teacher's link can hide controls); "
    "every finished run is saved, so the Runs page can overlay and compare them; export a standalone "
    "PyTorch script of any setup.\n"
    "- **Training**: cross-entropy, NLL, BCE, BCE with logits, MSE, L1, Huber; SGD (momentum, Nesterov), "
    "Adam, AdamW, RMSprop, Adagrad, Adadelta; step and cosine schedules; change the learning rate while "
    "it trains.\n"
    "- **Same run anywhere**: download the config JSON and train it headlessly with "
    "`python -m playground train config.json`, or save the model and query it with "
    "`python -m playground predict model.pt X1 X2`."
)


def welcome() -> None:
    """The title and the one-sentence promise beside the picture of a boundary forming."""
    words, picture = st.columns([2, 3], gap="large", vertical_alignment="center")
    with words:
        st.title("Neural Playground")
        st.markdown(f"#### {PROMISE}")
    with picture:
        if PICTURE.is_file():
            st.image(str(PICTURE), caption=PICTURE_CAPTION, width="stretch")


def entries() -> None:
    """The three ways in, side by side: each a bordered box with an icon, a title, a line and a link."""
    for column, entry in zip(st.columns(len(ENTRIES), gap="medium"), ENTRIES):
        with column, st.container(border=True):
            st.markdown(f"### {entry.icon} {entry.title}")
            st.markdown(entry.line)
            st.page_link(entry.page, label=f"Open {entry.title}", icon=entry.icon, width="stretch")


def everything() -> None:
    """The full feature list, folded away below the fold."""
    with st.expander("Everything it can do"):
        st.markdown(INTRO)
        st.markdown(FEATURES)


def training_device() -> None:
    """Where training runs: the device, once the server's background warm-up has started torch; until
    then a box saying PyTorch is starting, which shows the device when it is known."""
    name, problem = server.device(), server.warm_up_problem()
    if name is not None:
        st.info(f"Training runs on **{name}**.", icon=":material/memory:")
    elif problem is not None:
        st.warning(f"PyTorch could not start on this server: {problem}. The server's log says why.",
                   icon=":material/warning:")
    else:
        _device_pending()


@st.fragment(run_every=DEVICE_POLL_SECONDS)
def _device_pending() -> None:
    """Checks every DEVICE_POLL_SECONDS; once torch is ready, reruns the page (which stops the checks)."""
    if server.device() is not None or server.warm_up_problem() is not None:
        st.rerun()
    st.info("Training runs on this server with PyTorch, which is starting up in the background…",
            icon=":material/hourglass_top:")
