"""This browser session's runs, its guard against repeated clicks, and the live-polling fragment.

A run handle (a training run or a race, in the pool or on a thread) lives in session state under
a page's key (`pg_run`, `ls_race`); `start_run` / `start_race` replace it, `run_handle` finds it,
`discard_run` stops and forgets it. Runs are saved to the run store under this browser's workspace
when they end. Knows nothing about widgets or figures: the pages' panels draw.
"""
from __future__ import annotations

import time
import uuid
from typing import Callable

import streamlit as st

from ..config import TrainConfig
from ..pace import WATCH
from ..pace import poll_seconds as pace_poll_seconds
from ..pollrate import drifted
from ..progress import POLL_SECONDS, QUEUED_POLL_SECONDS, REPLACED, Owners
from ..runstore import RunStoreError
from ..settings import budget_minutes, idle_seconds
from . import class_session, poll_timer, server, workspace

STRETCH_BELOW = 1.0  # polls this frequent are stretched while the server is busy (`pollrate`)
MISSED_RERUN_SECONDS = 10.0  # a page that missed the full run ending its polling reruns at most this often
PLAYGROUND_RUN = "pg_run"  # the Playground's run: the one a class's board shows
REPEAT_SECONDS = 0.3  # the same action again within this time is taken as a repeated callback

_THREAD_RUNS = Owners()  # without a pool: which run each browser has going on the server's threads


def repeated(action: str) -> bool:
    """True when `action` already ran in this session less than REPEAT_SECONDS ago (then skip it).

    Streamlit 1.67 can run a button's callback twice for one click when a `run_every` fragment
    rerun races the click (seen 9 ms apart); callbacks that cannot be repeated safely check this.
    """
    now = time.monotonic()
    last = st.session_state.setdefault("ui_last_actions", {})
    if now - last.get(action, -REPEAT_SECONDS) < REPEAT_SECONDS:
        return True
    last[action] = now
    return False


def run_handle(key: str):
    """This session's run or race stored under `key`, if any."""
    return st.session_state.get(key)


def start_run(key: str, config: TrainConfig, paused: bool = False, initial_state: dict | None = None,
              pace: str = WATCH, prediction: dict | None = None):
    """Stop this session's previous run under `key` and start a new one (from `initial_state` weights),
    at `pace` (a page's run is watched unless the user chose "fast"). A lesson's `prediction` (`quiz`)
    is saved with the run and kept beside it under `<key>_prediction`.

    The run goes to the training pool (queued while every worker is busy), or to a thread without one.
    It is refused when estimated over the server's budget, and it stops this browser's other run.
    """
    discard_run(key)
    server.warm_up()  # torch ready and on one thread (waits for the background warm-up if it is not yet)
    pool, idle, on_end, limits = server.training_pool(), idle_seconds(), saver(config, prediction), run_limits()
    if pool is None:
        from ..runner import TrainingRunner  # imports torch: only when a run starts

        run = TrainingRunner(config, initial_state=initial_state, on_end=on_end, idle_pause=idle, idle_end=idle,
                             budget_minutes=limits["budget_minutes"], pace=pace)
        _THREAD_RUNS.claim(limits["owner"], run, REPLACED)
    else:
        run = pool.run(config, initial_state, on_end, idle_pause=idle, idle_end=idle, pace=pace, **limits)
    st.session_state[key] = run.start(paused=paused)
    if key == PLAYGROUND_RUN:
        class_session.report_run(run, config)
    st.session_state[f"{key}_prediction"] = prediction
    return run


def start_race(key: str, entrants, on_end: Callable) -> None:
    """Stop this session's previous race under `key` and start `entrants` racing (in the pool if any)."""
    discard_run(key)
    server.warm_up()
    pool, idle, limits = server.training_pool(), idle_seconds(), run_limits()
    if pool is None:
        from ..race import Race  # imports torch: only when a race starts

        race = Race(entrants, idle_end=idle, on_end=on_end, budget_minutes=limits["budget_minutes"])
        _THREAD_RUNS.claim(limits["owner"], race, REPLACED)
    else:
        race = pool.race(entrants, on_end, idle_end=idle, **limits)
    st.session_state[key] = race.start()


def discard_run(key: str) -> None:
    """Stop and forget this session's run or race under `key`."""
    old = st.session_state.pop(key, None)
    st.session_state.pop(f"{key}_prediction", None)
    if old is not None:
        old.stop()


def run_limits() -> dict:
    """What a classroom server asks of every run: its owner (this browser) and the compute budget."""
    return {"owner": workspace.current(), "budget_minutes": budget_minutes()}


def saver(config: TrainConfig, prediction: dict | None = None) -> Callable:
    """An `on_end` for a run: saves the finished run (with a lesson's prediction) under this session's workspace."""
    name, store = workspace.current(), server.run_store()

    def save(snap) -> None:
        try:
            store.save(name, config, snap.history, snap.final, snap.status, timeline=snap.timeline,
                       prediction=prediction)
        except RunStoreError as error:  # the runner adds the reason to the run's message
            raise RunStoreError(f"{error}. The run itself stays on this page until you train again or "
                                "close it") from error
    return save


def poll_seconds(key: str) -> float:
    """How often a page polls this session's run under `key`: as its pace says (a watched run about 6
    times a second), else POLL_SECONDS (a race, no run)."""
    pace = getattr(run_handle(key), "pace", None)
    return POLL_SECONDS if pace is None else pace_poll_seconds(pace)


def live(render: Callable[[], bool], active: bool, every: float = POLL_SECONDS,
         waiting: Callable[[], bool] | None = None) -> None:
    """Call `render` now and, if a run is `active`, again about every `every` seconds.

    `render` returns whether the run is still active; when it stops being active the whole page
    reruns once, so the buttons update and the polling ends. While `waiting()` says the run is still
    queued for a worker, it polls only every QUEUED_POLL_SECONDS (a class of queued pages must not
    swamp the server), and the page reruns once when the run starts. Each poll's time is recorded in
    the server's `PollMeter`: when the live pages together would take more than its share of the
    server, every page polls less often (re-registering its poll once the wanted interval drifted).
    """
    queued = bool(active and waiting is not None and waiting())
    meter, page = server.poll_meter(), _page_id()
    stretched = every < STRETCH_BELOW  # the run's own fast polls; the slower panels keep their interval
    interval = QUEUED_POLL_SECONDS if queued else meter.interval(every) if stretched else every
    armed = [interval]  # the browser timer's interval now: the fragment's later runs share this closure
    unfinished = [False]  # a poll began and has not ended (a poll cut short by the next never ends)

    def body() -> None:
        if not active and stretched and poll_timer.fragment_only_run():
            missed_full_run()
        if active:  # first: under load a poll may be cut short by the next one
            meter.record(page, cut=unfinished[0])
            unfinished[0] = True
        if active and stretched and not queued:
            follow_the_meter(armed, meter.interval(every))
        with server.render_turn():
            still_active = render()
        unfinished[0] = False
        if active and not still_active or queued and not waiting():
            st.rerun(scope="app")

    st.fragment(body, run_every=interval if active else None)()


def missed_full_run() -> None:
    """This poll came from a timer its page's full run had ended (Streamlit drops a finished run's
    messages that a new request overtook, under load): stop that timer, and rerun the page, at most once
    every MISSED_RERUN_SECONDS (a rerun's messages may be overtaken as well)."""
    poll_timer.stop()
    now, last = time.monotonic(), st.session_state.get("ui_missed_rerun", -MISSED_RERUN_SECONDS)
    if now - last >= MISSED_RERUN_SECONDS:
        st.session_state["ui_missed_rerun"] = now
        st.rerun(scope="app")


def follow_the_meter(armed: list[float], wanted: float) -> None:
    """Re-arm this poll's browser timer at `wanted` seconds once it drifted from `armed[0]`, in place
    (`poll_timer`); where that cannot be done, rerun the page, which registers the poll anew."""
    if drifted(armed[0], wanted):
        if not poll_timer.rearm(wanted):
            st.rerun(scope="app")
        armed[0] = wanted


def _page_id() -> str:
    """This browser session's name in the poll meter."""
    return st.session_state.setdefault("ui_poll_page", uuid.uuid4().hex)
