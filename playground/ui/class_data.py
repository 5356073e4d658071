"""The Playground's side of a class's drawings ("Our class's digits"): who may pick them, the class they come
from, and the gate that keeps any other class's drawings out of a run.

The dataset is offered only to a browser that is in a class or teaches one (`dataset_names`); its class is
one of those (`class_section`, widget `pg_ds_class`). A setup naming any other class (a shared link, a config
file) is refused before it can train (`refusal`, asked by `plan_panel.assess`), with the rest of the setup
kept. A setup that may train is pinned to the drawings the class has now (`pinned`). Knows nothing about
how the drawings become a dataset (`class_digits`).
"""
from __future__ import annotations

import streamlit as st

from .. import class_digits
from ..config import TrainConfig
from ..datasets import CLASS_DIGITS, DATASETS
from ..runstore import RunStoreError
from . import class_session, workspace

CLASS_KEY = "pg_ds_class"  # the class whose drawings the dataset holds (its code)


def classes() -> tuple[str | None, list[str]]:
    """The class this session teaches (its code, or None) and the classes this browser joined."""
    taught = class_session.teacher()
    try:
        joined = [member.code for member in class_session.store().memberships(workspace.current())]
    except RunStoreError:
        joined = []
    return (taught[0] if taught else None), joined


def allowed_codes() -> list[str]:
    """The classes this browser may train on: the one this session teaches, then those it joined."""
    taught, joined = classes()
    return list(dict.fromkeys([*([taught] if taught else []), *joined]))


def dataset_names() -> list[str]:
    """The Playground's datasets: "Our class's digits" only for a class's members and teacher (or when a link
    chose it, so the page can say why it cannot train)."""
    mine = bool(allowed_codes()) or st.session_state.get("pg_dataset") == CLASS_DIGITS
    return [name for name in DATASETS if name != CLASS_DIGITS or mine]


def class_section() -> dict:
    """Which class's drawings (one of this browser's classes), and how many it has; returns {"class": code}."""
    codes, current = allowed_codes(), st.session_state.get(CLASS_KEY)
    if current is None and not codes:
        st.session_state["pg_data_error"] = "Our class's digits are for a class: join one on the Class page first."
        return {}
    if current is None:
        st.session_state[CLASS_KEY] = current = codes[0]
    code = st.selectbox("Class", list(dict.fromkeys([*codes, current])), key=CLASS_KEY,
                        help="the class whose drawings to train on (you are in it or teach it)", persist_state="page")
    if code in codes:
        count = class_session.store().digit_count(code)
        st.caption(f"**{count:,}** drawings in class {code} so far: every member can give more on the Draw page.")
        problem = class_digits.too_few_digits(count)
        if problem:
            st.session_state["pg_data_error"] = problem[0].upper() + problem[1:] + "."
    return {"class": code}


def refusal(config: TrainConfig) -> str | None:
    """Why this browser may not train `config` (another class's drawings), or None."""
    choice = config.dataset.classroom
    if choice is None:
        return None
    taught, joined = classes()
    return class_digits.access_problem(choice.code, joined, taught)


def pinned(config: TrainConfig) -> TrainConfig:
    """`config` with its class's drawings pinned to those the class has now (other configs unchanged)."""
    return class_digits.pinned_config(config)
