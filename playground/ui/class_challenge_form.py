"""The teacher's challenge controls on the Class page: set one of the two presets or build a challenge from a
small form (dataset, the same data difficulty for everyone, a goal, an epoch limit, what ranks), clear it,
and whether students see each other's names (the store's `show_names`; the Students view offers it too).

Every change goes through `ClassStore` with the teacher's secret and is read back from the store on the
next run; `Challenge.from_dict` checks what the form built; a change makes the server's standings cache
(`standings_cache`, read by `class_challenge`) forget the class. Keys `cl_ch_*`. Knows nothing about ranking.
"""
from __future__ import annotations

import streamlit as st

from ..challenge import MEASURES, PRESETS, Challenge, ChallengeError, default_data
from ..classroom import ClassError
from ..config import MAX_EPOCHS
from ..datasets import CSV, DATASETS
from ..runstore import RunStoreError
from ..text import markdown_literal
from . import class_session

MESSAGE = "ui_class_challenge_message"  # session state: (kind, text) of the last change, shown once
ANY = "any"
GOALS = {"none": "no goal", "test_accuracy": "test accuracy of at least (%)", "test_r2": "test R² of at least",
         "test_loss": "test loss of at most"}
GOAL_INPUT = {"test_accuracy": (0.0, 100.0, 90.0, 1.0), "test_r2": (-1.0, 1.0, 0.9, 0.05),  # low, high, start, step
              "test_loss": (0.0, 1e6, 0.1, 0.01)}


def chooser(code: str, secret: str, has_challenge: bool) -> None:
    """The presets, the form and (when one is set) the button that clears the challenge."""
    _message()
    with st.expander("Set a new challenge" if has_challenge else "Set a challenge", expanded=not has_challenge):
        for name, preset in PRESETS.items():
            st.button(preset.describe(), key=f"cl_ch_preset_{name}", icon=":material/flag:",
                      on_click=_set, args=(code, secret, preset.to_dict()))
        st.caption("…or build your own:")
        _form(code, secret)
    if has_challenge:
        st.button("Clear the challenge", key="cl_ch_clear", icon=":material/close:",
                  on_click=_set, args=(code, secret, None))


def names_toggle(code: str, secret: str, show_names: bool) -> None:
    """Whether students see who is best so far (the teacher's ranking always shows names)."""
    st.session_state["cl_ch_names"] = show_names  # as the store says now (the Students view may have changed it)
    st.toggle("Students see each other's names", key="cl_ch_names", on_change=_names, args=(code, secret),
              help="Off: a student sees their own place and the best result, from “a classmate”.")


def _form(code: str, secret: str) -> None:
    shared = [ANY] + [name for name in DATASETS if name != CSV]
    left, middle, right = st.columns(3)
    dataset = left.selectbox("Dataset", shared, key="cl_ch_dataset",
                             format_func=lambda name: "any dataset" if name == ANY else DATASETS[name].title)
    pins = default_data(dataset) if dataset != ANY else ()
    if pins:
        left.checkbox("Same difficulty for everyone (" + ", ".join(f"{k} {v:g}" for k, v in pins) + ")",
                      value=True, key="cl_ch_pin")
    goal = middle.selectbox("Goal", list(GOALS), format_func=GOALS.get, key="cl_ch_goal")
    if goal in GOAL_INPUT:
        low, high, start, step = GOAL_INPUT[goal]
        middle.number_input(GOALS[goal], low, high, start, step, key=f"cl_ch_goal_{goal}")
    right.number_input("At most this many epochs (0: no limit)", 0, MAX_EPOCHS, 0, 50, key="cl_ch_epochs")
    right.selectbox("Ranked by", list(MEASURES), key="cl_ch_rank",
                    format_func=lambda key: f"{MEASURES[key].best} {MEASURES[key].noun}")
    st.button("Set this challenge", key="cl_ch_set", type="primary", on_click=_set_from_form, args=(code, secret))


def form_challenge(state) -> dict:
    """The challenge the form's widgets (in `state`) describe, as the JSON object the store keeps."""
    dataset, goal = state.get("cl_ch_dataset", ANY), state.get("cl_ch_goal", "none")
    data = {}
    if dataset != ANY:
        data = {"dataset": dataset, **({"data": dict(default_data(dataset))} if state.get("cl_ch_pin", True)
                                       and default_data(dataset) else {})}
    if goal in GOAL_INPUT:
        value = float(state.get(f"cl_ch_goal_{goal}", GOAL_INPUT[goal][2]))
        data["goal"] = {"metric": goal, "value": value / 100 if goal == "test_accuracy" else value}
    if state.get("cl_ch_epochs"):
        data["max_epochs"] = int(state["cl_ch_epochs"])
    return {**data, "rank": state.get("cl_ch_rank", "parameters")}


def _set_from_form(code: str, secret: str) -> None:
    data = form_challenge(st.session_state)
    try:
        Challenge.from_dict(data)
    except ChallengeError as error:
        st.session_state[MESSAGE] = ("error", str(error))
        return
    _set(code, secret, data)


def _set(code: str, secret: str, data: dict | None) -> None:
    try:
        class_session.store().set_challenge(code, secret, data)
    except (ClassError, RunStoreError) as error:
        st.session_state[MESSAGE] = ("error", str(error))
        return
    _changed(code)
    st.session_state[MESSAGE] = ("success", "The challenge is cleared." if data is None else
                                 f"The challenge is set: {Challenge.from_dict(data).describe()}. "
                                 "Runs saved from now on count.")


def _names(code: str, secret: str) -> None:
    try:
        class_session.store().set_show_names(code, secret, bool(st.session_state.get("cl_ch_names")))
    except (ClassError, RunStoreError) as error:
        st.session_state[MESSAGE] = ("error", str(error))
        return
    _changed(code)


def _changed(code: str) -> None:
    standings_cache().forget(code)


@st.cache_resource
def standings_cache():
    """Each class's standings for a few seconds (`challenge_rank.StandingsCache`), shared by the sessions."""
    from ..challenge_rank import StandingsCache

    return StandingsCache()


def _message() -> None:
    kind, text = st.session_state.pop(MESSAGE, (None, ""))
    if kind == "error":
        st.error(markdown_literal(text), icon="🚫")
    elif kind:
        st.success(markdown_literal(text), icon="✅")
