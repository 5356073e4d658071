"""Per-process resources every session shares: a warmed-up torch, datasets, the training pool,
the run store and the Draw page's default model.

Everything here is created once per server process (`st.cache_resource` or a lock) and is
read-only or thread-safe for sessions. `start_warm_up()`, which every page calls first, prepares
torch, the pool and the default model on a background thread, so neither the home page nor the
Playground waits for torch to show; what needs torch calls `warm_up()` first, which waits for it
(a run's start, the Draw page). Nothing here imports torch at import time. Knows nothing about any
one browser: per-session state is in `session` and `workspace`.
"""
from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
from typing import TYPE_CHECKING

import streamlit as st

from ..config import DatasetConfig
from ..datasets import Dataset, make_dataset
from ..kept import Kept

if TYPE_CHECKING:
    from ..backend import TrainingBackend

log = logging.getLogger(__name__)
_WARM_UP_LOCK = threading.Lock()
_warm_up_threads: list[threading.Thread] = []  # the one background warm-up of this process
_device: list[str] = []  # the training device's description, once torch knows it
_devices: list[list[str]] = []  # the device names usable here ("cuda", "cpu"), once torch knows them
_problems: list[str] = []  # what went wrong in the background warm-up, if anything did
# The background warm-up waits this long first, so the page whose visit started it reaches the browser
# before torch's import takes the interpreter's lock for seconds. A page that needs torch meanwhile
# warms it up itself (`warm_up`), which the warm-up thread then finds done.
WARM_UP_DELAY_SECONDS = 1.0


def start_warm_up() -> threading.Thread:
    """Start preparing torch, the training pool and the default digit model on a background thread,
    once per process (thread-safe); returns that thread. Never waits for it."""
    with _WARM_UP_LOCK:
        if not _warm_up_threads:
            thread = threading.Thread(target=_warm_up_everything, name="playground-warm-up", daemon=True)
            _warm_up_threads.append(thread)
            thread.start()
        return _warm_up_threads[0]


def _warm_up_everything() -> None:
    """Torch first (pages wait for it), then the pool's workers, then the Draw page's default model."""
    time.sleep(WARM_UP_DELAY_SECONDS)
    for name, step in (("PyTorch warm-up", warm_up), ("training pool", training_pool),
                       ("default digit model", default_digit_model)):
        try:
            step()
        except Exception as error:  # a page that needs the step calls it again and shows what went wrong
            log.exception("background warm-up of the %s failed", name)
            _problems.append(f"the {name} failed ({type(error).__name__})")


def device() -> str | None:
    """The training device's description once torch has warmed up ("CPU (1 threads)"); None before."""
    return _device[-1] if _device else None


def device_choices(current: str) -> list[str]:
    """The Device box's choices: "auto" and the devices torch found here once it has warmed up; before
    that "auto", "cpu" and the `current` choice (a link's "cuda" stays until torch can say whether it is
    here), so the box shows without waiting for torch. A run on a missing device says so when it starts."""
    if _devices:
        return ["auto", *_devices[-1]]
    return list(dict.fromkeys(["auto", "cpu", current]))


def warm_up_problem() -> str | None:
    """What went wrong while warming up in the background (details in the server log); None if nothing."""
    return _problems[0] if _problems else None


@st.cache_resource(show_spinner="Starting PyTorch…")
def warm_up() -> str:
    """Pay torch's one-off start-up costs (its import, optimizer imports, first kernels) once per server;
    the training device's description. A page calling it while the background warm-up runs waits for
    that one (with a spinner), it does not start a second.

    Also keeps the server's own torch work (drawings, inspection, training without a pool) on one
    thread: one student's upload must not take every core from the class.
    """
    import torch

    from ..devices import available_devices, describe_device, resolve_device
    from ..engine import warm_up as warm_up_torch

    torch.set_num_threads(1)
    warm_up_torch()
    _devices.append(available_devices())
    _device.append(describe_device(resolve_device("auto")))
    return _device[-1]


_RECENT_DATASETS = Kept(8)  # config -> dataset, in front of Streamlit's cache, which hashes its argument per call


def cached_dataset(config: DatasetConfig) -> Dataset:
    """The data of a dataset config, shared read-only by every session (images are not copied). The few
    used last are looked up by the (frozen, hashable) config itself: every live poll asks. A class's drawings
    are those it has now, unless a run pinned them (`class_digits.pin`)."""
    if config.classroom is not None:
        from ..class_digits import pinned_config

        config = pinned_config(config)
    return _RECENT_DATASETS.get_or_make(config, lambda: _shared_dataset(config))


@st.cache_resource(max_entries=32, show_spinner="Loading the dataset…")
def _shared_dataset(config: DatasetConfig) -> Dataset:
    return make_dataset(config.name, config.values, config.test_fraction, config.seed, config.table, config.classroom)


@st.cache_resource(show_spinner=False)
def training_pool() -> TrainingBackend | None:
    """The server's training backend (`backend.make_backend`): the Ray cluster at `$PLAYGROUND_RAY_ADDRESS`,
    else worker processes (`$PLAYGROUND_WORKERS`, default one per CPU core); None for 0, which trains on
    threads inside the server instead (the tests' default)."""
    from ..backend import make_backend

    pool = make_backend()
    if pool is None:
        return None
    atexit.register(pool.close)  # a server shutting down stops the runs in progress, which saves them
    return pool


@st.cache_resource
def poll_meter():
    """How long live pages' polls take and how many there are (`pollrate`): one for the server process."""
    from ..pollrate import PollMeter

    return PollMeter()


RENDER_TURNS = 2  # live polls that build their view at once; the others wait without taking the interpreter


@st.cache_resource
def _render_turns() -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(RENDER_TURNS)


_holding = threading.local()  # whether this script thread holds a turn (a page run's fragments run inside it)


@contextlib.contextmanager
def render_turn():
    """A turn for building a live poll's view, server-wide (RENDER_TURNS at once; re-entrant on one
    thread). Thirty views built at once in thirty script threads starve the one thread that sends
    every page its messages (the event loop gets ~1/31 of the interpreter): the views are built, and
    nobody receives them, and Streamlit drops a finished run's messages that a new request overtook.
    A run waiting for its turn sleeps."""
    if getattr(_holding, "turn", False):
        yield
        return
    with _render_turns():
        _holding.turn = True
        try:
            yield
        finally:
            _holding.turn = False


@st.cache_resource
def run_store():
    """The store every session saves finished runs to (each under its own workspace): $PLAYGROUND_DB_URL's
    database, else the runs file (`runstore.default_location`)."""
    from ..runstore import RunStore, default_location

    return RunStore(default_location())


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
