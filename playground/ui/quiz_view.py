"""A lesson's question on a page: asked before Train, the prediction kept for this session, and shown
against the result once the run ends.

The question comes first: the lesson's story and promise (which give the answer away) are shown once
the student has predicted, chosen "Just show me", or started a run (`revealed`). Train is never
blocked: a run started without a prediction is simply compared with none. Owns the session keys
`quiz_answers` (lesson slug -> the index of the choice picked) and `quiz_shown` (slugs revealed
without a prediction); the radio's key (`<prefix>_quiz_<slug>`) and the "Just show me" button's
(`<prefix>_quiz_skip_<slug>`). Every value read back from the session is checked (`quiz.valid_choice`).
Knows nothing about training: the pages hand it the lesson and the result.
"""
from __future__ import annotations

import streamlit as st

from .. import quiz
from ..lessons import Lesson, Verdict
from ..text import markdown_literal

ANSWERS = "quiz_answers"  # session: lesson slug -> the index of the choice the student picked
SHOWN = "quiz_shown"  # session: slugs whose story was revealed without a prediction ("Just show me")


def _answers() -> dict:
    answers = st.session_state.get(ANSWERS)
    if not isinstance(answers, dict):  # never set, or not what this module wrote
        answers = st.session_state[ANSWERS] = {}
    return answers


def answer(lesson: Lesson) -> int | None:
    """The choice this session picked for the lesson's question, if any (a checked index)."""
    return quiz.valid_choice(lesson.question, _answers().get(lesson.slug))


def revealed(lesson: Lesson, running: bool = False) -> bool:
    """Whether the lesson's story and promise may show: no question, a prediction made, "Just show me"
    pressed, or a run of it `running` or done."""
    shown = st.session_state.get(SHOWN)
    return (lesson.question is None or running or answer(lesson) is not None
            or isinstance(shown, (set, frozenset)) and lesson.slug in shown)


def ask(lesson: Lesson, prefix: str, locked: bool = False) -> None:
    """The question as a radio with nothing picked at first, and "Just show me" until it is answered;
    `locked` while a run of the lesson trains (the prediction it was started with stands)."""
    question = lesson.question
    if question is None:
        return
    key = f"{prefix}_quiz_{lesson.slug}"
    if key in st.session_state and quiz.valid_choice(question, st.session_state[key]) is None:
        del st.session_state[key]  # not a choice (a hostile or stale value): ask afresh
    st.radio(f"**Predict first** · {markdown_literal(question.prompt)}", range(len(question.choices)),
             format_func=lambda i: markdown_literal(question.choices[i]), index=answer(lesson), key=key,
             disabled=locked, on_change=_keep, args=(lesson.slug, key))
    if locked:
        st.caption("Your prediction stands while this run trains.")
    elif answer(lesson) is None and not revealed(lesson):
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.caption("Pick what you expect, then press **Train**. You can also train without predicting.")
        right.button("Just show me", key=f"{prefix}_quiz_skip_{lesson.slug}", on_click=_show, args=(lesson.slug,),
                     help="skip the question and show the lesson's story")


def _keep(slug: str, key: str) -> None:
    _answers()[slug] = st.session_state.get(key)


def _show(slug: str) -> None:
    shown = st.session_state.get(SHOWN)
    st.session_state[SHOWN] = (shown if isinstance(shown, set) else set()) | {slug}


def prediction(lesson: Lesson | None) -> dict | None:
    """The prediction a run of the lesson starts with, as a saved run keeps it (None: none made)."""
    return None if lesson is None else quiz.to_record(lesson, answer(lesson))


def recorded_choice(lesson: Lesson, record) -> int | None:
    """The choice a run was started with, from its recorded prediction (None when it is another lesson's)."""
    if not isinstance(record, dict) or record.get("lesson") != lesson.slug:
        return None
    return quiz.valid_choice(lesson.question, record.get("choice"))


def show_comparison(lesson: Lesson, record, result: Verdict, key: str) -> None:
    """The prediction a run was started with against its result, in a container keyed `key`."""
    if lesson.question is None:
        return
    right, text = quiz.comparison(lesson, recorded_choice(lesson, record), result)
    with st.container(key=key):
        (st.success if right else st.info)(markdown_literal(text), icon="🔮")
