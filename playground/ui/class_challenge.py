"""The Class page's challenge panel: the teacher sets it and watches the live ranking; a student sees the
challenge in one sentence, their place, the best so far and, without a valid entry, why not and what to try.

The ranking comes from the server's standings cache (`class_challenge_form.standings_cache`: one read of
the class per few seconds however many pages poll it). The teacher's table refreshes every
TEACHER_REFRESH seconds, a student's panel every STUDENT_REFRESH. Names are what students typed: they
show in dataframe cells (plain text) or through `markdown_literal`, never as markup; the student's view
names the best only when the class shows names. Keys `cl_ch_*`.
"""
from __future__ import annotations

import logging

import streamlit as st

from ..challenge import Challenge, ChallengeError
from ..challenge_rank import NO_RUN, Row, Standings, your_place
from ..runstore import RunStoreError
from ..text import markdown_literal
from . import class_challenge_form, class_session
from .inspect_panel import table_height

log = logging.getLogger(__name__)
TEACHER_REFRESH = 3.0  # seconds between refreshes of the teacher's ranking
STUDENT_REFRESH = 10.0  # ... of a student's place (200 students: 20 cached reruns a second)


def teacher(code: str, secret: str) -> None:
    """Set or clear the challenge, the names setting, and the live ranking of every member."""
    try:
        info = class_session.store().info(code)
    except RunStoreError as error:
        st.warning(f"The class cannot be read just now: {markdown_literal(error)}", icon="⏳")
        return
    if info is None:
        st.warning("This class has ended.")
        return
    challenge = _parsed(info.challenge)
    if challenge is not None:  # the projector's view first: the challenge and its ranking, then the controls
        st.markdown(f"### :material/flag: {markdown_literal(challenge.describe())}")
        st.fragment(_ranking, run_every=TEACHER_REFRESH)(code)
    else:
        st.markdown("### No challenge yet")
        st.caption("Set one: every member's best valid run saved after it is ranked here, live.")
    class_challenge_form.chooser(code, secret, info.challenge is not None)
    class_challenge_form.names_toggle(code, secret, info.show_names)


def student(member) -> None:
    """The challenge of the member's class, if there is one, with their place (refreshed while open)."""
    st.fragment(_student_panel, run_every=STUDENT_REFRESH)(member)


def _parsed(data: dict | None) -> Challenge | None:
    if data is None:
        return None
    try:
        return Challenge.from_dict(data)
    except ChallengeError as error:
        st.warning(f"The challenge set for this class cannot be read ({markdown_literal(error)}): set another.")
        return None


def _standings(code: str) -> Standings | None:
    try:
        return class_challenge_form.standings_cache().get(class_session.store(), code)
    except ChallengeError:
        return None  # said where the challenge is shown
    except RunStoreError as error:
        log.warning("the class's runs cannot be read: %s", error)
        st.warning(f"The runs cannot be read just now: {markdown_literal(error)}", icon="⏳")
        return None


def _ranking(code: str) -> None:
    standings = _standings(code)
    if standings is None:
        return
    measure = standings.challenge.measure
    st.caption(f"{len(standings.rows)} of {standings.members} students have a valid entry · refreshed every "
               f"{TEACHER_REFRESH:g} s")
    if standings.rows:
        rows = [_table_row(row, measure.noun.capitalize()) for row in standings.rows]
        st.container(key="cl_ch_ranking").dataframe(rows, hide_index=True, width="stretch",
                                                    height=table_height(len(rows)), key="cl_ch_table")
    if standings.reasons:
        with st.expander(f"Without a valid entry ({len(standings.reasons)})"):
            st.dataframe([{"Name": standings.names.get(member_id, "?"), "Why not": reason.text,
                           "What to try": reason.hint}
                          for member_id, reason in standings.reasons.items()], hide_index=True, width="stretch")


def _table_row(row: Row, value_title: str) -> dict:
    return {"Rank": row.rank, "Name": row.name, value_title: row.value_text,
            "Test accuracy": "–" if row.accuracy is None else f"{row.accuracy:.1%}",
            "Test loss": "–" if row.loss is None else f"{row.loss:.4g}",
            "Parameters": "–" if row.params is None else f"{row.params:,}",
            "Epochs": "–" if row.epochs is None else f"{row.epochs:,}"}


def _student_panel(member) -> None:
    standings = _standings(member.code)
    if standings is None:
        return
    st.subheader("Challenge")
    st.markdown(f"**:material/flag: {markdown_literal(standings.challenge.describe())}**")
    place = your_place(standings, member.id)
    if place is not None:
        st.success(place, icon="🏅")
    else:
        reason = standings.reasons.get(member.id, NO_RUN)
        st.info(f"No valid entry yet: {markdown_literal(reason.text)}. Try this: {markdown_literal(reason.hint)}.",
                icon="💡")
    if standings.rows:
        st.markdown(best_so_far(standings, member.id))


def best_so_far(standings: Standings, member_id: int) -> str:
    """'Best so far: Ada with 99 parameters' as Markdown (names escaped; 'a classmate' when names are hidden)."""
    leaders = [row for row in standings.rows if row.rank == 1]
    others = [row for row in leaders if row.member_id != member_id]
    who = ["you"] if len(others) < len(leaders) else []
    if standings.show_names:
        who += [markdown_literal(row.name) for row in others]
    elif others:
        who.append("a classmate" if len(others) == 1 else f"{len(others)} classmates")
    return f"Best so far: {' and '.join(who)} {standings.challenge.measure.text(leaders[0].value)}"
