"""This browser's place in a class: the teacher of one (holding its secret) or a member of one.

The class store and the live-run registry are per server (`store()`, `live()`). A member is known by
this browser's workspace token (`workspace`), so a student who reloads is still in their class; the
teacher's secret is kept in this session (`teach`), and `teacher()` gives (code, secret) while this
session teaches. `report_run` tells the board about a member's new Playground run. Knows nothing
about layouts: the Class page's panels draw.
"""
from __future__ import annotations

import logging

import streamlit as st

from ..runstore import RunStoreError
from . import workspace

log = logging.getLogger(__name__)
TEACHER_KEY = "ui_class_teacher"  # session state: (code, secret) while this session teaches a class
HANDOUT_KEY = "ui_class_handout"  # session state: the hand-out id the Playground's setup came from


@st.cache_resource
def store():
    """The classes kept in the runs file (`classroom`): members, hand-outs, challenges, drawings."""
    from ..classroom import ClassStore
    from .server import run_store

    return ClassStore(run_store())


@st.cache_resource
def live():
    """Which run each class member has going in this server process (`class_live`), for the board."""
    from ..class_live import ClassLive

    return ClassLive()


def teach(code: str, secret: str) -> None:
    """From now on this session is the teacher of class `code`."""
    st.session_state[TEACHER_KEY] = (code, secret)


def teacher() -> tuple[str, str] | None:
    """(code, secret) of the live class this session teaches, if any."""
    held = st.session_state.get(TEACHER_KEY)
    try:
        if held and store().is_teacher(*held):
            return held
    except RunStoreError as error:
        log.warning("the class store cannot be read: %s", error)
    return None


def membership():
    """This browser's newest live class membership (a `classroom.Member`), or None."""
    try:
        joined = store().memberships(workspace.current())
    except RunStoreError as error:
        log.warning("the class store cannot be read: %s", error)
        return None
    return joined[0] if joined else None


def report_run(handle, config) -> None:
    """If this browser is in a class, show its new Playground run on the class's board."""
    member = membership()
    if member is not None:
        live().report(member.code, member.id, handle, config.to_dict(), st.session_state.get(HANDOUT_KEY))
