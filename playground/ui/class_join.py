"""The Class page's doors: join a class with its code, start one, or resume teaching one; and the
student's line saying which class they are in (rename, leave).

A join attempt is rate-limited (`class_tries`), so guessing codes is slow. Every refusal shows as a
message and the forms keep what was typed. The teacher's card and the list of students live in
`class_join_card` and `class_students` (re-exported here: the page calls `class_join.*`). Names and titles
come from students: shown through `markdown_literal`. Knows the store only through `class_session`.
"""
from __future__ import annotations

import streamlit as st

from ..class_card import CODE_PARAM
from ..class_names import check_code
from ..classroom import ClassError
from ..runstore import RunStoreError
from ..text import markdown_literal
from . import class_join_card, class_session, class_students, class_tries, workspace

teacher_header = class_join_card.teacher_header
members = class_students.members
REFUSED = (ClassError, ValueError, RunStoreError)  # what a class request can answer with, shown as a message


def join_or_start() -> None:
    """Join a class (code and name), or start one, or resume teaching one from another browser."""
    class_session.remember_teacher()  # clears the cookie of a class this browser stopped teaching
    join_col, start_col = st.columns(2, gap="large")
    with join_col:
        st.subheader("Join a class")
        join_form()
    with start_col:
        st.subheader("Teach")
        start_form()
        resume_form()


def join_form() -> None:
    if "cl_join_code" not in st.session_state:  # the teacher's link: ?class=CODE (never the secret)
        st.session_state["cl_join_code"] = str(st.query_params.get(CODE_PARAM, ""))[:20]
    with st.form("cl_join_form", border=True):
        st.text_input("Class code", key="cl_join_code", max_chars=20, placeholder="K7QM2X",
                      help="the six letters and digits your teacher shows")
        st.text_input("Your name (optional)", key="cl_join_name", max_chars=64, placeholder="a friendly name is picked",
                      help="shown to your teacher and, if the teacher allows, to the class")
        joined = st.form_submit_button("Join", type="primary", key="cl_join_submit")
    if joined and attempt(lambda: class_session.store().join(st.session_state["cl_join_code"], workspace.current(),
                                                             st.session_state["cl_join_name"])):
        st.rerun()


def start_form() -> None:
    with st.form("cl_join_start_form", border=True):
        st.text_input("Class title (optional)", key="cl_join_title", max_chars=60, placeholder="Year 10 · neural nets")
        started = st.form_submit_button("Start a class", key="cl_join_start")
    if started and attempt(start, limited=False):
        st.rerun()


def start() -> bool:
    """A new class taught by this session; its secret is shown once (`class_join_card.NEW_SECRET`)."""
    new = class_session.store().create(workspace.current(), st.session_state["cl_join_title"])
    class_session.teach(new.info.code, new.secret)
    st.session_state[class_join_card.NEW_SECRET] = new.secret
    return True


def resume_form() -> None:
    with st.expander("Resume teaching a class (another browser)"):
        with st.form("cl_join_resume_form", border=False):
            st.text_input("Class code", key="cl_join_resume_code", max_chars=20)
            st.text_input("Teacher secret", key="cl_join_resume_secret", type="password", max_chars=100,
                          help="shown once when the class was started")
            resumed = st.form_submit_button("Resume teaching", key="cl_join_resume")
    if resumed and attempt(resume):
        st.rerun()


def resume() -> bool:
    code, secret = check_code(st.session_state["cl_join_resume_code"]), st.session_state["cl_join_resume_secret"]
    if not class_session.store().is_teacher(code, secret):
        raise ClassError(f"the secret does not match class {code}, or it has ended")
    class_session.teach(code, secret)
    return True


def attempt(action, limited: bool = True) -> bool:
    """Do `action` (a class request) unless too many were tried; a refusal shows as a message."""
    wait = class_tries.wait() if limited else 0.0
    if wait > 0:
        st.error(f"Too many tries: wait {wait:.0f} s, then try again.", icon="⏳")
        return False
    try:
        done = action()
    except REFUSED as error:
        if limited:
            class_tries.failed()
        st.error(markdown_literal(f"{str(error)[:1].upper()}{str(error)[1:]}."), icon="🚫")
        return False
    return bool(done)


def student_header(member) -> None:
    """Which class this browser is in and as whom; change the name, leave the class."""
    class_session.remember_teacher()
    info = class_session.store().info(member.code)
    title = markdown_literal(info.title) if info is not None and info.title else "untitled"
    with st.container(horizontal=True, vertical_alignment="center", key="cl_join_student"):
        st.markdown(f"You are in class **{title}** ({member.code}) as **{markdown_literal(member.name)}**")
        with st.popover("Change my name", key="cl_join_rename_open"):
            rename_form(member)
        with st.popover("Leave the class", key="cl_join_leave_open"):
            st.caption("Your runs stop showing on the class's board; the drawings you gave stay with the class.")
            if st.button("Leave", key="cl_join_leave", type="primary"):
                class_session.store().leave(member.code, member.workspace)
                st.rerun()


def rename_form(member) -> None:
    with st.form("cl_join_rename_form", border=False):
        st.text_input("New name", key="cl_join_rename", max_chars=64, placeholder="empty: keep my name")
        renamed = st.form_submit_button("Rename me", key="cl_join_rename_submit")
    if renamed and attempt(lambda: class_session.store().join(member.code, member.workspace,
                                                              st.session_state["cl_join_rename"])):
        st.rerun()
