"""The Playground's run controls: Train, Pause, Resume, Step, Stop, Reset and Speed, and what they set going.

Train and Step are requests carried out once the page has read every widget (`start_requested`), so
a value typed just before the click counts. A new learning rate or speed (pace) reaches the running
run at once; any other change waits for the next Train (`restart_notice` says so). Knows the run
only through its handle (`session`); the live view draws it.
"""
from __future__ import annotations

import streamlit as st

from ..config import TrainConfig, needs_restart
from ..pace import LABELS, PACES, WATCH, WATCH_EPOCHS_PER_SECOND
from . import link, session
from .widget_state import RUN

SPEED_HELP = (f"Watch: at most {WATCH_EPOCHS_PER_SECOND:.0f} epochs a second, slow enough to see the boundary form. "
              "Fast: as fast as the server can.")


def request(action: str) -> None:
    """Train or Step pressed: remembered here, carried out by this script run once it has read every
    widget (`start_requested`). A callback's arguments come from the previous run, so a value typed
    just before the click would otherwise be missed."""
    if not session.repeated(action):
        st.session_state["pg_requested"] = action


def start_requested(config: TrainConfig | None) -> None:
    """Start the run that Train or Step asked for, with the settings the widgets show now."""
    action, run = st.session_state.pop("pg_requested", None), session.run_handle(RUN)
    if action == "step" and run is not None and run.active:
        run.step()  # a step of the run in progress needs no settings (they may be mid-edit)
    elif action is None or config is None:
        return
    elif action == "step":
        session.start_run(RUN, config, paused=True, pace=chosen_pace(),
                          prediction=link.lesson_prediction(config)).step()
    else:
        session.start_run(RUN, config, initial_state=loaded_weights_for(config), pace=chosen_pace(),
                          prediction=link.lesson_prediction(config))


def loaded_weights_for(config: TrainConfig) -> dict | None:
    """The uploaded model's weights when the user chose to continue from them and they fit `config`."""
    loaded = st.session_state.get("pg_loaded")
    if loaded is None or not st.session_state.get("pg_continue", True):
        return None
    from ..checkpoint import weights_fit  # imports torch, as the uploaded model did

    return loaded.model.state_dict() if weights_fit(loaded.config, config) else None


def set_paused(paused: bool) -> None:
    """Pause or resume: an absolute intent, so a repeated callback cannot undo it."""
    run = session.run_handle(RUN)
    if run is None:
        return
    if paused:  # a statement, not a conditional expression: Streamlit's magic would st.write its None
        run.pause()
    else:
        run.resume()


def buttons(config: TrainConfig | None) -> None:
    """The row of run buttons (each as wide as its label, so none is cut short; the row wraps on a phone);
    Train and Step need a `config` that can train. Pause and Resume are two buttons: neither changes under
    the pointer."""
    run = session.run_handle(RUN)
    active = run is not None and run.active
    paused = active and run.paused
    with st.container(horizontal=True, gap="small", key="pg_run_buttons"):
        st.button("Train", icon=":material/play_arrow:", type="primary", disabled=config is None, on_click=request,
                  args=("train",), key="pg_train", help="start a new run with these settings")
        st.button("Pause", icon=":material/pause:", disabled=not active or paused, on_click=set_paused,
                  args=(True,), key="pg_pause")
        st.button("Resume", icon=":material/play_circle:", disabled=not paused, on_click=set_paused, args=(False,),
                  key="pg_resume")
        st.button("Step", icon=":material/skip_next:", disabled=config is None and not active, on_click=request,
                  args=("step",), key="pg_step", help="train one epoch, then pause")
        st.button("Stop", icon=":material/stop:", disabled=not active, key="pg_stop",
                  on_click=lambda: session.run_handle(RUN).stop())
        st.button("Reset", icon=":material/restart_alt:", disabled=run is None, on_click=session.discard_run,
                  args=(RUN,), key="pg_reset", help="discard the run and its charts")


def speed() -> None:
    """The Speed control (Watch or Fast); a change reaches the running run at once."""
    st.segmented_control("Speed", list(PACES), format_func=LABELS.get, default=WATCH, required=True,
                         key="pg_pace", width="content", help=SPEED_HELP)
    follow_pace(chosen_pace())


def chosen_pace() -> str:
    """The pace the Speed control shows (Watch until the user picks another)."""
    return st.session_state.get("pg_pace") or WATCH


def follow_pace(pace: str) -> None:
    """Changing the speed takes effect in the running run at once, as the learning rate does."""
    run = session.run_handle(RUN)
    if run is not None and run.pace != pace and run.active:
        run.set_pace(pace)


def follow_learning_rate(lr: float) -> None:
    """Changing the learning rate takes effect in the running run, as in TF Playground."""
    run = session.run_handle(RUN)
    if run is not None and run.requested_lr != lr and run.active:
        run.set_learning_rate(lr)


def restart_notice(config: TrainConfig | None) -> None:
    """Say so when the settings shown differ from the running run's in more than the learning rate."""
    run = session.run_handle(RUN)
    if run is not None and config is not None and run.active and needs_restart(run.config, config):
        st.caption("Settings changed since this run started: press Train to restart with them "
                   "(the learning rate applies at once).")
