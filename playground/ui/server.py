"""Per-process resources every session shares: a warmed-up torch, datasets, the training pool,
the run store and the Draw page's default model.

Everything here is created once per server process (`st.cache_resource` or a lock) and is
read-only or thread-safe for sessions. Knows nothing about any one browser: per-session state is
in `session` and `workspace`.
"""
from __future__ import annotations

import atexit
import threading

import streamlit as st

from ..config import DatasetConfig
from ..datasets import Dataset, make_dataset
from ..devices import describe_device, resolve_device
from ..pool import TrainingPool
from ..settings import default_workers


@st.cache_resource(show_spinner="Starting PyTorch…")
def warm_up() -> str:
    """Pay torch's one-off start-up costs (optimizer imports, first kernels) once per server.

    Also keeps the server's own torch work (drawings, inspection, training without a pool) on one
    thread: one student's upload must not take every core from the class.
    """
    import torch

    from ..engine import warm_up as warm_up_torch

    torch.set_num_threads(1)
    warm_up_torch()
    return describe_device(resolve_device("auto"))


@st.cache_resource(max_entries=32, show_spinner="Loading the dataset…")
def cached_dataset(config: DatasetConfig) -> Dataset:
    """The data of a dataset config, shared read-only by every session (images are not copied)."""
    return make_dataset(config.name, config.values, config.test_fraction, config.seed, config.table)


@st.cache_resource(show_spinner=False)
def training_pool() -> TrainingPool | None:
    """The server's worker processes (`$PLAYGROUND_WORKERS`, default one per CPU core); None for 0,
    which trains on threads inside the server instead (the tests' default)."""
    workers = default_workers()
    if not workers:
        return None
    pool = TrainingPool(workers)
    atexit.register(pool.close)  # a server shutting down stops the runs in progress, which saves them
    return pool


@st.cache_resource
def run_store():
    """The runs file every session saves finished runs to (each under its own workspace)."""
    from ..runstore import RunStore, default_path

    return RunStore(default_path())


_DEFAULT_DIGITS_LOCK = threading.Lock()
_default_digits: list = []  # the one Preparation of the default digit model in this process


def default_digit_model():
    """The draw page's default model as it is being prepared (a `default_model.Preparation`): loaded,
    or trained once, on a background thread that the first call of this process starts; every
    session shares it. `navigation.navigation()` calls it, so it is ready before anyone opens the Draw page."""
    from ..default_model import Preparation

    with _DEFAULT_DIGITS_LOCK:
        if not _default_digits:
            _default_digits.append(Preparation().start())
        return _default_digits[0]
