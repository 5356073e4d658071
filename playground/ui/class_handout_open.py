"""A student opens what the teacher handed out, in one click: a setup loads into the Playground the
way a share link does (`link.apply_link` of the link's own round trip), a lesson opens as `?lesson=`
does; the hand-out's id goes to session state (`class_session.HANDOUT_KEY`) so the board knows which
setup the student's runs started from. `playground_bar` offers a newer hand-out on the Playground
itself (one store query per page run). Knows nothing about the Class page's layout.
"""
from __future__ import annotations

import time

import streamlit as st

from .. import share
from ..class_card import span_words
from ..compare import describe_layers
from ..config import ConfigError, TrainConfig
from ..datasets import DATASETS
from ..lessons import LESSONS
from ..runstore import RunStoreError
from ..text import markdown_literal
from . import class_session, link, workspace

SEEN = "ui_class_handout_seen"  # session state: the newest hand-out id this student opened or put off
PROBLEM = "ui_class_handout_problem"  # session state: why the last hand-out could not be opened
PLAYGROUND, LESSONS_PAGE = "pages/1_Playground.py", "pages/3_Lessons.py"
BAR_CSS = """<style>
.st-key-cl_hand_bar {flex-wrap: nowrap; padding: 0.3rem 0.8rem; gap: 0.5rem;}
.st-key-cl_hand_bar p {font-size: 0.92rem; line-height: 1.35;}
.st-key-cl_hand_bar button {min-height: 2rem; padding-top: 0.1rem; padding-bottom: 0.1rem; white-space: nowrap;}
</style>"""


def setup_line(config: TrainConfig) -> str:
    """The setup in a line: dataset · layers · optimizer and learning rate."""
    data = DATASETS.get(config.dataset.name)
    return (f"{data.title if data else config.dataset.name} · {describe_layers(config.to_dict()['layers'])} · "
            f"{config.optimizer.name} lr {config.optimizer.lr:g}")


def described(handout) -> str:
    """What a hand-out is, as markdown: "the setup Spiral · Linear 100 · ReLU · Linear · adam lr 0.001"."""
    if handout.kind == "lesson":
        lesson = LESSONS.get(handout.payload)
        return f"the lesson *{markdown_literal(lesson.title if lesson else handout.payload)}*"
    try:
        return f"the setup {markdown_literal(setup_line(TrainConfig.from_dict(handout.payload)))}"
    except (ConfigError, TypeError, ValueError):
        return "a setup this version of the app cannot open"


def when(handout) -> str:
    return f"{span_words(time.time() - handout.created)} ago"


def open_handout(handout) -> None:
    """Load `handout` into the Playground (a race lesson: nothing to load); a problem goes to PROBLEM."""
    st.session_state.pop(PROBLEM, None)
    try:
        setup = shared_setup(handout)
    except (ConfigError, TypeError, ValueError) as error:
        st.session_state[PROBLEM] = f"The teacher's setup could not be opened: {error}."
        return
    if setup is not None:
        link.apply_link(setup)  # clears the hand-out id, as every whole new setup does: set it after
        st.session_state[class_session.HANDOUT_KEY] = handout.id
        seen(handout)


def seen(handout) -> None:
    st.session_state[SEEN] = max(handout.id, st.session_state.get(SEEN, 0))


def shared_setup(handout) -> share.SharedSetup | None:
    """The hand-out as a share link would carry it (None: a race lesson, which the Lessons page runs)."""
    if handout.kind == "lesson":
        lesson = LESSONS.get(handout.payload)
        if lesson is None:
            raise ValueError(f"there is no lesson {handout.payload!r} in this version of the app")
        return None if lesson.is_race else share.from_query(share.to_query(lesson.config, lesson.hide, lesson.slug))
    return share.from_query(share.to_query(TrainConfig.from_dict(handout.payload)))


def destination(handout) -> str | None:
    """The page that shows an opened hand-out, or None when it could not be opened."""
    if st.session_state.get(PROBLEM):
        return None
    lesson = LESSONS.get(handout.payload) if handout.kind == "lesson" else None
    return LESSONS_PAGE if lesson is not None and lesson.is_race else PLAYGROUND


def open_button(handout, key: str, here: str) -> None:
    """The one-click "Open the teacher's setup"; it goes to the page that shows it unless that is `here`."""
    if st.button("Open the teacher's setup", key=key, type="primary", icon=":material/download:",
                 on_click=open_handout, args=(handout,)):
        page = destination(handout)
        if page is not None and page != here:
            seen(handout)  # a race lesson: the Playground's bar has nothing more to offer
            st.switch_page(page)
    if st.session_state.get(PROBLEM):
        st.error(markdown_literal(st.session_state[PROBLEM]), icon="🚫")


def newer(handout) -> bool:
    """Whether `handout` is newer than the one this Playground's setup came from (or was put off)."""
    return handout.id > max(st.session_state.get(class_session.HANDOUT_KEY) or 0, st.session_state.get(SEEN, 0))


def playground_bar() -> None:
    """On the Playground: a small bar offering the class's newest hand-out when it is newer."""
    try:
        found = class_session.store().newest_handout(workspace.current())
    except RunStoreError:
        return
    if found is None or found[1] is None or not newer(found[1]):
        return
    handout = found[1]
    st.html(BAR_CSS)
    with st.container(border=True, horizontal=True, vertical_alignment="center", key="cl_hand_bar"):
        st.markdown(f":material/school: Your teacher handed out {described(handout)} ({when(handout)}).")
        open_button(handout, "cl_hand_bar_open", PLAYGROUND)
        st.button("Not now", key="cl_hand_bar_later", type="tertiary", on_click=seen, args=(handout,))
