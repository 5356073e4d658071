"""The teacher's list of students: names (as plain text), when each joined, how many drawings each
gave; whether students see each other's names; removing a student (after a confirmation).

Knows the store through `class_session`; names are shown in a table and a select box, which show
text as typed (no markup).
"""
from __future__ import annotations

import time
from collections import Counter

import streamlit as st

from ..class_card import span_words
from ..classroom import ClassError
from ..text import markdown_literal
from . import class_challenge_form, class_session


def members(code: str, secret: str) -> None:
    """Everyone in class `code`, the names toggle and the remove action."""
    store = class_session.store()
    info, students = store.info(code), store.members(code)
    if info is None:
        return
    st.toggle("Show names to students", value=info.show_names, key="cl_join_show_names",
              on_change=show_names, args=(code, secret),
              help="off: the challenge's ranking shows students as anonymous entries")
    if not students:
        st.info("No students yet: they join with the code on the card above.", icon="👋")
        return
    given, now = Counter(digit.member for digit in store.digits(code)), time.time()
    st.dataframe({"Name": [m.name for m in students],
                  "Joined": [f"{span_words(now - m.joined)} ago" for m in students],
                  "Drawings": [given[m.id] for m in students]},
                 hide_index=True, key="cl_join_students", height=min(36 * (len(students) + 1) + 3, 400))
    remove(code, secret, students)


def show_names(code: str, secret: str) -> None:
    try:
        class_session.store().set_show_names(code, secret, st.session_state["cl_join_show_names"])
    except ClassError as error:
        st.toast(markdown_literal(error), icon="🚫")
    class_challenge_form.standings_cache().forget(code)  # students see the change at their next refresh


def remove(code: str, secret: str, students: list) -> None:
    names = {m.id: m.name for m in students}
    with st.popover("Remove a student", key="cl_join_remove_open"):
        who = st.selectbox("Student", list(names), format_func=names.get, key="cl_join_remove_who")
        st.caption("Their drawings go too. They can join again with the code.")
        if st.button("Remove", key="cl_join_remove", type="primary", disabled=who is None):
            try:
                class_session.store().remove_member(code, secret, who)
            except ClassError as error:
                st.error(markdown_literal(error))
                return
            st.toast(markdown_literal(f"{names[who]} was removed from the class."))
            st.rerun()
