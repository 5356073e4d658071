"""This browser's place in a class: the teacher of one (holding its secret) or a member of one.

The class store and the live-run registry are per server (`store()`, `live()`; with a shared store the
registry's runs are published for the other replicas' boards, `published` reads theirs). A member is known by
this browser's workspace token (`workspace`), so a student who reloads is still in their class; the
teacher's secret is kept in this session (`teach`), and `teacher()` gives (code, secret) while this
session teaches. A teacher's browser also keeps (code, secret) in a cookie (`remember_teacher`, never in
the address), so a reload or a new tab teaches on; `stop_teaching` forgets it. `report_run` tells the
board about a member's new Playground run. Knows nothing about layouts: the Class page's panels draw.
"""
from __future__ import annotations

import logging
import re
import time

import streamlit as st

from ..runstore import RunStoreError
from ..settings import class_days, db_url
from . import cookies, workspace

log = logging.getLogger(__name__)
TEACHER_KEY = "ui_class_teacher"  # session state: (code, secret) while this session teaches a class
HANDOUT_KEY = "ui_class_handout"  # session state: the hand-out id the Playground's setup came from
TEACHER_COOKIE = "neural_playground_teacher"  # CODE.secret of the class this browser teaches
_COOKIE_READ = "ui_class_cookie_read"  # session state: the teacher cookie was read (once a session)
_TEACHER_TEXT = re.compile(r"([A-Z0-9]{6})\.([A-Za-z0-9_-]{16,64})")


@st.cache_resource
def store():
    """The classes kept in the run store (`classroom`): members, hand-outs, challenges, drawings."""
    from ..classroom import ClassStore
    from .server import run_store

    return ClassStore(run_store())


@st.cache_resource
def live():
    """Which run each class member has going in this server process (`class_live`), for the board."""
    from ..class_live import ClassLive

    registry = ClassLive()
    if db_url() is not None:  # replicas share a store: publish this server's runs for the others' boards
        from ..board_publish import Publisher

        classes = store()
        Publisher(registry, classes.publish_tiles, classes.handout_by_id).start()
    return registry


def teach(code: str, secret: str) -> None:
    """From now on this session is the teacher of class `code`."""
    st.session_state[TEACHER_KEY] = (code, secret)


def teacher() -> tuple[str, str] | None:
    """(code, secret) of the live class this session teaches, if any (a new session: from the cookie)."""
    if not st.session_state.get(_COOKIE_READ):
        st.session_state[_COOKIE_READ] = True
        if TEACHER_KEY not in st.session_state:
            held = from_cookie(cookies.sent(TEACHER_COOKIE))
            if held is not None:
                teach(*held)
    held = st.session_state.get(TEACHER_KEY)
    try:
        if held and store().is_teacher(*held):
            return held
    except RunStoreError as error:
        log.warning("the class store cannot be read: %s", error)
    return None


def from_cookie(text: str) -> tuple[str, str] | None:
    """(code, secret) from the teacher cookie's text, if well formed (the store still has to check it)."""
    found = _TEACHER_TEXT.fullmatch(text or "")
    return (found[1], found[2]) if found else None


def remember_teacher() -> None:
    """Keep the class this session teaches in the browser's cookie; clear the cookie when it teaches none."""
    held = teacher()
    if held is None and TEACHER_KEY not in st.session_state and not cookies.sent(TEACHER_COOKIE):
        return  # nothing to keep and nothing to clear: no element on the page
    text = ".".join(held) if held else ""
    with st.sidebar:  # beside the workspace's cookie: nothing in the page's layout
        cookies.keep(TEACHER_COOKIE, text, key="ui_class_teacher_cookie",
                     max_age=int(class_days() * 86400) if held else 0)


def stop_teaching() -> None:
    """This browser no longer teaches (the class goes on: its secret resumes it)."""
    st.session_state[TEACHER_KEY] = None


def membership():
    """This browser's newest live class membership (a `classroom.Member`), or None."""
    try:
        joined = store().memberships(workspace.current())
    except RunStoreError as error:
        log.warning("the class store cannot be read: %s", error)
        return None
    return joined[0] if joined else None


def published(code: str, names: dict | None = None) -> dict:
    """Member id -> `board_publish.Published` (start time, `board.Tile`, `Remote` or None) of the runs the
    class's students train on other servers of a school (`board_publish`), named by `names` (member id ->
    name: only those members; None: every tile, unnamed); {} without a shared store or when it cannot be read."""
    if db_url() is None:
        return {}
    from ..board_publish import Published, read_record  # the board's modules: only on the Class page

    try:
        rows = store().published_tiles(code)
    except RunStoreError as error:
        log.warning("the class store cannot be read: %s", error)
        return {}
    now, found = time.time(), {}
    for member, started, updated, text in rows:
        known = names is None or member in names
        read = read_record(text, (names or {}).get(member, ""), updated, now) if known else None
        if read is not None and read[0].member == member:
            found[member] = Published(started, *read)
    return found


def report_run(handle, config) -> None:
    """If this browser is in a class, show its new Playground run on the class's board."""
    member = membership()
    if member is not None:
        live().report(member.code, member.id, handle, config.to_dict(), st.session_state.get(HANDOUT_KEY))
