"""The Playground's setup in the address bar: reading a link, keeping the address equal to the page's
setup, teacher mode (a link that hides controls) and the open lesson's banner: its question first
(`quiz_view`), then its story, and once its run has ended the verdict and the prediction against it.

A link's setup fills the widgets (`widget_state`); a teacher's link also keeps its config
(`link_config()`) for the controls it hides (`shown()`). Knows the link format only through
`share`, and lessons only through `lessons`; knows nothing about how the panels draw their controls.
"""
from __future__ import annotations

import streamlit as st

from .. import share
from ..config import ConfigError, TrainConfig
from ..lessons import LESSONS, measure, verdict
from ..progress import COMPLETED
from ..text import markdown_literal
from . import navigation, quiz_view, session
from .widget_state import RUN, SHOWN, apply_config, init

# A rerun carries the address the browser had when it was sent: a click just after a change can
# carry the address from before it. An address this page applied or wrote is no new link: applying
# it again would undo the change (a typed number of epochs, say).
RECENT_LINKS = 8


def setup_from_link() -> None:
    """Apply the URL's setup when the page opens with one, or when a link changed it (e.g. a lesson).

    `?lesson=line` alone opens that lesson's setup.
    """
    params = link_params()
    if just_entered():
        st.session_state["pg_links_seen"] = []  # a link from another page is new, whatever it holds
    if params in st.session_state["pg_links_seen"]:
        return  # not new: at most a rerun sent before the browser had the address this page wrote since
    remember_link(params)
    first_visit = "pg_layers" not in st.session_state
    init()
    lesson = LESSONS.get(params.get(share.LESSON, ""))
    if lesson is not None and not share.has_config(params):
        params = {**share.to_query(lesson.config, lesson.hide, lesson.slug), **params}
    try:
        setup = share.from_query(params) if share.has_config(params) else None
    except ConfigError as error:
        return link_problem(f"This link's setup could not be used — {error}.", first_visit)
    if setup is None:
        if share.HIDE in params or share.LESSON in params:
            link_problem("This link names a lesson or hides controls but holds no setup.", first_visit)
        return
    apply_link(setup)


def apply_link(setup) -> None:
    apply_config(setup.config)
    unknown = setup.lesson and setup.lesson not in LESSONS
    st.session_state.update(pg_hidden=setup.hidden, pg_locked=setup.config if setup.hidden else None,
                            pg_lesson="" if unknown else setup.lesson, pg_link_error=None)
    if unknown:
        st.session_state["pg_link_error"] = f"This link names a lesson that does not exist ({setup.lesson!r})."


def link_problem(text: str, first_visit: bool) -> None:
    kept = "the default setup" if first_visit else "the setup it had"
    st.session_state["pg_link_error"] = f"{text} The page shows {kept} instead."


def link_params() -> dict:
    return {key: value for key, value in st.query_params.to_dict().items() if key != share.WORKSPACE}


def write_link(config: TrainConfig | None) -> None:
    """Keep the address bar's link equal to the page's setup, so copying it shares the setup."""
    if config is None:
        return
    st.session_state[SHOWN] = config
    wanted = share.to_query(config, st.session_state.get("pg_hidden", ()), st.session_state.get("pg_lesson", ""))
    seen = st.session_state["pg_links_seen"]
    if wanted != link_params() or seen[-1] != wanted:
        st.query_params.from_dict(wanted)
    remember_link(wanted)


def remember_link(params: dict) -> None:
    """Remember an address this page applied or wrote, the latest last (a few: RECENT_LINKS)."""
    seen = [p for p in st.session_state["pg_links_seen"] if p != params]
    st.session_state["pg_links_seen"] = (seen + [params])[-RECENT_LINKS:]


def just_entered() -> bool:
    """Whether the previous page run of this session was not the Playground's (or there was none)."""
    entered = st.session_state.get("pg_page_run") != navigation.page_runs() - 1
    st.session_state["pg_page_run"] = navigation.page_runs()
    return entered


def shown(group: str) -> bool:
    """Whether the controls of `group` (see share.HIDEABLE) are on the page; a teacher's link may hide them."""
    return group not in st.session_state.get("pg_hidden", ()) or st.session_state.get("pg_locked") is None


def link_config() -> TrainConfig:
    """The config of the link that hid controls: hidden controls keep its values."""
    return st.session_state["pg_locked"]


def link_notices() -> None:
    """Why the link's setup was not used, and which controls a teacher's link hides."""
    if st.session_state.get("pg_link_error"):
        st.warning(markdown_literal(st.session_state["pg_link_error"]), icon="🔗")
    hidden = [share.HIDEABLE[name] for name in share.HIDEABLE if not shown(name)]
    if hidden:
        st.caption("🔒 Set by your teacher's link, so not shown: " + ", ".join(hidden).lower() + ".")


def open_lesson():
    """The lesson the page has open, if any."""
    return LESSONS.get(st.session_state.get("pg_lesson", ""))


def lesson_banner() -> None:
    """The open lesson's question; its story and promise once predicted (or skipped, or trained); and
    once its run has ended, whether the promise held and what the student had predicted."""
    lesson = open_lesson()
    if lesson is None:
        return
    run = session.run_handle(RUN)
    ran = run is not None and of_lesson(run.config, lesson)
    with st.container(border=True, key="pg_lesson_box"):
        text, close = st.columns([6, 1], vertical_alignment="top")
        if quiz_view.revealed(lesson, running=ran):
            text.markdown(f"**Lesson · {lesson.title}** · {lesson.story}")  # one paragraph: the charts stay in view
            text.caption(f"Press **Train** and watch. Expected: {lesson.outcome.promise}.")
        else:
            text.markdown(f"**Lesson · {lesson.title}**")
        close.button("Close", key="pg_lesson_close", on_click=lambda: st.session_state.update(pg_lesson=""),
                     help="leave the lesson and keep the setup")
        quiz_view.ask(lesson, "pg", locked=ran and run.active)
        result = lesson_result(lesson)
        if result is not None:
            (st.success if result.as_promised else st.warning)(result.text, icon="🎓")
            quiz_view.show_comparison(lesson, st.session_state.get(f"{RUN}_prediction"), result, "pg_quiz_result")


def of_lesson(config: TrainConfig | None, lesson) -> bool:
    """Whether `config` is the lesson's setup (on any device)."""
    return config is not None and config.replace(device=lesson.config.device) == lesson.config


def lesson_prediction(config: TrainConfig) -> dict | None:
    """The prediction a run of `config` starts with: the open lesson's, when `config` is its setup."""
    lesson = open_lesson()
    return quiz_view.prediction(lesson) if lesson is not None and of_lesson(config, lesson) else None


def lesson_result(lesson):
    """The verdict on the finished run when it trained the lesson's setup (any device), else None."""
    run = session.run_handle(RUN)
    if run is None or run.active or run.engine is None or run.snapshot().status != COMPLETED:
        return None
    if not of_lesson(run.config, lesson):
        return None
    judged = st.session_state.get("pg_verdict")
    if judged is None or judged[0] is not run:
        measured = measure(lesson, run.engine, run.snapshot().final)
        judged = st.session_state["pg_verdict"] = (run, verdict(lesson, measured))
    return judged[1]
