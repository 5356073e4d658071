"""Handing out a setup: the teacher sends the class their current Playground setup or a lesson; each
student gets one button that opens it (`class_handout_open`, also on the Playground as a bar).

The teacher's current setup is the one their Playground showed last (`widget_state.SHOWN`). Knows
the store through `class_session`, and nothing about how the Playground draws its controls.
"""
from __future__ import annotations

import streamlit as st

from ..classroom import ClassError
from ..lessons import LESSONS
from ..runstore import RunStoreError
from ..text import markdown_literal
from . import class_handout_open, class_session
from .class_handout_open import described, setup_line, when
from .widget_state import SHOWN

playground_bar = class_handout_open.playground_bar  # pages/1_Playground.py calls it


def teacher(code: str, secret: str) -> None:
    """Hand out the Playground's setup or a lesson; what the class has now."""
    store = class_session.store()
    current = store.handout(code)
    if current is None:
        st.caption("Nothing handed out yet.")
    else:
        st.markdown(f"**Handed out {when(current)}:** {described(current)}")
    setup_col, lesson_col = st.columns(2, gap="large")
    with setup_col, st.container(border=True):
        hand_out_setup(code, secret)
    with lesson_col, st.container(border=True):
        hand_out_lesson(code, secret)


def hand_out_setup(code: str, secret: str) -> None:
    st.markdown("**Your Playground's setup**")
    config = st.session_state.get(SHOWN)
    if config is None:
        st.caption("Open the Playground, set up the network you want the class to start from, then come back here.")
        st.page_link("pages/1_Playground.py", label="Open the Playground", icon=":material/tune:")
        return
    st.caption(markdown_literal(setup_line(config)))
    if st.button("Hand out this setup", key="cl_hand_setup", type="primary", icon=":material/send:"):
        send(code, secret, "setup", config.to_dict())


def hand_out_lesson(code: str, secret: str) -> None:
    st.markdown("**A lesson**")
    slug = st.selectbox("Lesson", list(LESSONS), format_func=lambda name: LESSONS[name].title, key="cl_hand_lesson",
                        label_visibility="collapsed")
    if st.button("Hand out this lesson", key="cl_hand_lesson_send", icon=":material/school:"):
        send(code, secret, "lesson", slug)


def send(code: str, secret: str, kind: str, payload) -> None:
    try:
        class_session.store().hand_out(code, secret, kind, payload)
    except (ClassError, RunStoreError) as error:
        st.error(markdown_literal(error), icon="🚫")
        return
    st.rerun()  # the line above shows the new hand-out


def student(member) -> None:
    """The class's newest hand-out, one click away."""
    handout = class_session.store().handout(member.code)
    if handout is None:
        st.caption("Your teacher has not handed out a setup yet: the Playground is yours meanwhile.")
        return
    with st.container(border=True, key="cl_hand_student"):
        st.markdown(f":material/school: Your teacher handed out {described(handout)} ({when(handout)}).")
        if handout.id == st.session_state.get(class_session.HANDOUT_KEY):
            st.caption("Your Playground holds this setup (with any changes you made since).")
        class_handout_open.open_button(handout, "cl_hand_open", "pages/5_Class.py")
