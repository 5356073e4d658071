"""The only core module that imports Streamlit: small helpers the pages share.

Per-session training runners, cached read-only resources (generated datasets, a warmed-up torch),
the device label and the live-polling fragment. Widgets and layout live in the pages; training
math and figures live in the rest of the package.
"""
from __future__ import annotations

import atexit
import secrets
import threading
import time
from typing import Callable

import streamlit as st

from .config import DatasetConfig, TrainConfig
from .datasets import Dataset, make_dataset
from .devices import describe_device, resolve_device
from .pool import TrainingPool, default_workers, idle_seconds
from .budget import budget_minutes
from .race import Race
from .progress import REPLACED, Owners
from .runner import TrainingRunner

POLL_SECONDS = 0.4  # live charts refresh 2.5 times a second while a run is active
QUEUED_POLL_SECONDS = 2.0  # a page whose run waits in the queue checks its place this often
REPEAT_SECONDS = 0.3  # the same action again within this time is taken as a repeated callback


PAGES = (("app.py", "Home", ":material/home:"), ("pages/3_Lessons.py", "Lessons", ":material/school:"),
         ("pages/1_Playground.py", "Playground", ":material/tune:"), ("pages/4_Runs.py", "Runs", ":material/compare:"),
         ("pages/2_Draw.py", "Draw a digit", ":material/draw:"))
WORKSPACE_KEY = "ui_workspace"


def navigation() -> None:
    """Page links at the top of the sidebar (Streamlit's own list is hidden in config.toml).

    Every page calls it first, so the training pool starts warming up on the server's first visit
    and the draw page's default model starts being prepared.
    """
    training_pool()
    default_digit_model()
    with st.sidebar:
        for path, label, icon in PAGES:
            st.page_link(path, label=label, icon=icon)
        st.divider()
        remember_workspace()


@st.cache_resource(show_spinner="Starting PyTorch…")
def warm_up() -> str:
    """Pay torch's one-off start-up costs (optimizer imports, first kernels) once per server.

    Also keeps the server's own torch work (drawings, inspection, training without a pool) on one
    thread: one student's upload must not take every core from the class.
    """
    import torch

    from .engine import warm_up as warm_up_torch

    torch.set_num_threads(1)
    warm_up_torch()
    return describe_device(resolve_device("auto"))


@st.cache_resource(max_entries=32, show_spinner="Loading the dataset…")
def cached_dataset(config: DatasetConfig) -> Dataset:
    """The data of a dataset config, shared read-only by every session (images are not copied)."""
    return make_dataset(config.name, config.values, config.test_fraction, config.seed, config.table)


_DEFAULT_DIGITS_LOCK = threading.Lock()
_default_digits: list = []  # the one Preparation of the default digit model in this process


def default_digit_model():
    """The draw page's default model as it is being prepared (a `default_model.Preparation`): loaded,
    or trained once, on a background thread that the first call of this process starts; every
    session shares it. `navigation()` calls it, so it is ready before anyone opens the Draw page."""
    from .default_model import Preparation

    with _DEFAULT_DIGITS_LOCK:
        if not _default_digits:
            _default_digits.append(Preparation().start())
        return _default_digits[0]


def uploaded_checkpoint(upload_key: str, error_key: str):
    """The model in the file uploader `upload_key` (a LoadedModel), or None.

    A file that cannot be loaded leaves its reason in session state under `error_key`, for the
    page to show; the key is cleared on every new upload.
    """
    from .checkpoint import CheckpointError, load_checkpoint

    upload = st.session_state.get(upload_key)
    st.session_state[error_key] = None
    if upload is None:
        return None
    try:
        return load_checkpoint(upload.getvalue())
    except CheckpointError as error:
        st.session_state[error_key] = f"That model was not loaded: {error}"
        return None


WORKSPACE_COOKIE = "neural_playground_workspace"
WORKSPACE_DAYS = 365
# Runs in the browser (a Components v2 module, no iframe): keeps the workspace token in a cookie of
# this site, never in the address. A cookie another tab of this browser set first wins, so two tabs
# opened at once end up in one workspace.
_WORKSPACE_JS = """
export default function ({ data, setStateValue }) {
  const prefix = data.cookie + "=";
  const found = document.cookie.split("; ").find((c) => c.startsWith(prefix));
  const kept = found ? found.slice(prefix.length) : "";
  const value = /^[A-Za-z0-9_-]{1,64}$/.test(kept) ? kept : data.token;
  document.cookie = `${prefix}${value}; path=/; max-age=${data.maxAge}; SameSite=Strict`;
  if (value !== data.token) setStateValue("workspace", value);
}
"""
_workspace_cookie = st.components.v2.component("neural_playground_workspace", js=_WORKSPACE_JS)


def workspace() -> str:
    """This browser's workspace: the token its saved runs are filed under, kept in a cookie.

    Read from the cookie the browser sent when the page opened (so a reload, a new tab or a server
    restart finds the same runs), else made up. It never appears in the address: a copied link
    hands out the setup, not the runs. A legacy `ws=` in the address is ignored and removed.
    """
    from .share import WORKSPACE

    name = st.session_state.get(WORKSPACE_KEY)
    if name is None:
        name = _valid_workspace(st.context.cookies.get(WORKSPACE_COOKIE, "")) or secrets.token_hex(16)
        st.session_state[WORKSPACE_KEY] = name
    if WORKSPACE in st.query_params:
        del st.query_params[WORKSPACE]
    return name


def remember_workspace() -> None:
    """Store this session's workspace in the browser's cookie; adopt the one another tab stored first."""
    name = workspace()
    result = _workspace_cookie(key="ui_workspace_cookie", on_workspace_change=lambda: None,
                               data={"cookie": WORKSPACE_COOKIE, "token": name, "maxAge": WORKSPACE_DAYS * 86400})
    adopted = _valid_workspace(result.get("workspace") or "")
    if adopted and adopted != name:
        st.session_state[WORKSPACE_KEY] = adopted
        st.rerun()


def _valid_workspace(candidate: str) -> str | None:
    from .runstore import check_workspace

    try:
        return check_workspace(candidate)
    except ValueError:
        return None


@st.cache_resource
def run_store():
    """The runs file every session saves finished runs to (each under its own workspace)."""
    from .runstore import RunStore, default_path

    return RunStore(default_path())


def saver(config: TrainConfig) -> Callable:
    """An `on_end` for a runner: saves the finished run under this session's workspace."""
    from .runstore import RunStoreError

    name, store = workspace(), run_store()

    def save(snap) -> None:
        try:
            store.save(name, config, snap.history, snap.final, snap.status)
        except RunStoreError as error:  # the runner adds the reason to the run's message
            raise RunStoreError(f"{error}. The run itself stays on this page until you train again or "
                                "close it") from error
    return save


def first_call(action: str) -> bool:
    """False when `action` already ran in this session less than REPEAT_SECONDS ago.

    Streamlit 1.67 can run a button's callback twice for one click when a `run_every` fragment
    rerun races the click (seen 9 ms apart); callbacks that cannot be repeated safely check this.
    """
    now = time.monotonic()
    last = st.session_state.setdefault("ui_last_actions", {})
    if now - last.get(action, -REPEAT_SECONDS) < REPEAT_SECONDS:
        return False
    last[action] = now
    return True


def runner(key: str) -> TrainingRunner | None:
    """This session's runner stored under `key`, if any."""
    return st.session_state.get(key)


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


_THREAD_RUNS = Owners()  # without a pool: which run each browser has going on the server's threads


def start_runner(key: str, config: TrainConfig, paused: bool = False, initial_state: dict | None = None):
    """Stop this session's previous run under `key` and start a new one (from `initial_state` weights).

    The run goes to the training pool (queued while every worker is busy), or to a thread without one.
    It is refused when estimated over the server's budget, and it stops this browser's other run.
    """
    discard_runner(key)
    pool, idle, on_end, limits = training_pool(), idle_seconds(), saver(config), _run_limits()
    if pool is None:
        run = TrainingRunner(config, initial_state=initial_state, on_end=on_end, idle_pause=idle, idle_end=idle,
                             budget_minutes=limits["budget_minutes"])
        _THREAD_RUNS.claim(limits["owner"], run, REPLACED)
    else:
        run = pool.run(config, initial_state, on_end, idle_pause=idle, idle_end=idle, **limits)
    st.session_state[key] = run.start(paused=paused)
    return run


def start_race(key: str, entrants, on_end: Callable) -> None:
    """Stop this session's previous race under `key` and start `entrants` racing (in the pool if any)."""
    discard_runner(key)
    pool, idle, limits = training_pool(), idle_seconds(), _run_limits()
    if pool is None:
        race = Race(entrants, idle_end=idle, on_end=on_end, budget_minutes=limits["budget_minutes"])
        _THREAD_RUNS.claim(limits["owner"], race, REPLACED)
    else:
        race = pool.race(entrants, on_end, idle_end=idle, **limits)
    st.session_state[key] = race.start()


def _run_limits() -> dict:
    """What a classroom server asks of every run: its owner (this browser) and the compute budget."""
    return {"owner": workspace(), "budget_minutes": budget_minutes()}


def discard_runner(key: str) -> None:
    """Stop and forget this session's run or race under `key`."""
    old = st.session_state.pop(key, None)
    if old is not None:
        old.stop()


def live(render: Callable[[], bool], active: bool, key: str, every: float = POLL_SECONDS,
         waiting: Callable[[], bool] | None = None) -> None:
    """Call `render` now and, if a run is `active`, again every `every` seconds.

    `render` returns whether the run is still active; when it stops being active the whole page
    reruns once, so the buttons update and the polling ends. While `waiting()` says the run is still
    queued for a worker, it polls only every QUEUED_POLL_SECONDS (a class of queued pages must not
    swamp the server), and the page reruns once when the run starts.
    """
    queued = bool(active and waiting is not None and waiting())

    def body() -> None:
        still_active = render()
        if active and not still_active or queued and not waiting():
            st.rerun(scope="app")

    st.fragment(body, run_every=(QUEUED_POLL_SECONDS if queued else every) if active else None)()
