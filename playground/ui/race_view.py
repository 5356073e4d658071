"""The Lessons page's panels: a lesson's card, and a race lesson (start it, save its runs, draw it).

Owns the race's session keys (`ls_race`, `ls_race_lesson`, `ls_race_prediction`) and the keys of the cards and race
charts (`ls_card_<slug>`, `ls_start_<slug>`, `ls_race_loss`, `ls_race_accuracy`, `ls_quiz_result`). A card asks its
lesson's question first and shows the story once it is answered (`quiz_view`). A single lesson's card only links to
the Playground with the lesson's setup, where the question is asked; the Playground does the rest. Knows nothing
about how a race trains (`race`, `pool`) or what the lessons say (`lessons`).
"""
from __future__ import annotations

import streamlit as st

from .. import plots, share
from ..lessons import LESSONS, race_result
from ..progress import COMPLETED
from ..text import markdown_literal
from . import quiz_view, server, session, workspace

RACE = "ls_race"  # session-state key of this session's race
RACE_LESSON = "ls_race_lesson"  # ...and the slug of the lesson it races
PREDICTION = f"{RACE}_prediction"  # ...and the prediction it was started with (`quiz.to_record`), set beside it


def lesson_card(lesson) -> None:
    """The lesson's title and question; its story and promised outcome once answered; a link to the
    Playground (which asks a single lesson's question), or the race's question and Start."""
    with st.container(border=True, key=f"ls_card_{lesson.slug}"):
        st.subheader(lesson.title)
        racing = lesson.is_race and st.session_state.get(RACE_LESSON) == lesson.slug and RACE in st.session_state
        if lesson.is_race:
            quiz_view.ask(lesson, "ls", locked=racing and race_active())
        if quiz_view.revealed(lesson, running=racing):
            st.write(lesson.story)
            st.caption(f"**Expected:** {lesson.outcome.promise}.")
        elif not lesson.is_race:
            st.caption(f"**Asks first:** {markdown_literal(lesson.question.prompt)}")
        if lesson.is_race:
            st.button("Start the race", icon=":material/sports_score:", key=f"ls_start_{lesson.slug}",
                      on_click=start_race, args=(lesson,), type="primary")
        else:
            st.page_link("pages/1_Playground.py", label="Open in the Playground", icon=":material/play_circle:",
                         query_params=share.to_query(lesson.config, lesson.hide, lesson.slug))


def start_race(lesson) -> None:
    if session.repeated("race"):
        return
    store, owner, prediction = server.run_store(), workspace.current(), quiz_view.prediction(lesson)
    session.start_race(RACE, lesson.race, on_end=lambda snap: save_race(store, owner, snap, prediction))
    st.session_state.update({RACE_LESSON: lesson.slug, PREDICTION: prediction})


def save_race(store, owner: str, snap, prediction: dict | None = None) -> None:
    """Each entrant becomes a saved run, named after the race (with the race's prediction), so the Runs page
    can compare them later."""
    for racer in snap.entrants:
        if racer.history.epochs:
            store.save(owner, racer.config, racer.history, racer.final, racer.status, name=f"Race: {racer.name}",
                       timeline=racer.timeline if racer.timeline.frames else None, prediction=prediction)


def race_active() -> bool:
    """Whether this session has a race in progress."""
    race = st.session_state.get(RACE)
    return race is not None and race.active


def render_race() -> bool:
    """The race's progress, loss and accuracy curves, and its verdict once it ends; returns whether it is active."""
    race = st.session_state.get(RACE)
    if race is None:
        return False
    snap, lesson = race.snapshot(), LESSONS.get(st.session_state.get(RACE_LESSON, ""))
    st.subheader(lesson.title if lesson else "Race")
    st.markdown(f"**{snap.status.capitalize()}** · epoch {snap.epoch:,} / {snap.epochs:,}")
    if snap.message and snap.status != COMPLETED:
        st.info(markdown_literal(snap.message))
    loss = [(r.name, r.history.epochs, r.history.train_loss) for r in snap.entrants]
    accuracy = [(r.name, r.history.eval_epochs, r.history.test_score) for r in snap.entrants]
    left, right = st.columns(2)
    left.plotly_chart(plots.overlay_figure(loss, "Train loss", snap.epochs, log=True), key="ls_race_loss",
                      width="stretch")
    right.plotly_chart(plots.overlay_figure(accuracy, "Test accuracy", snap.epochs), key="ls_race_accuracy",
                       width="stretch")
    if not snap.active and lesson is not None:
        result = race_result(lesson, {r.name: r.final for r in snap.entrants})
        (st.success if result.as_promised else st.warning)(result.text, icon="🏁")
        quiz_view.show_comparison(lesson, st.session_state.get(PREDICTION), result, "ls_quiz_result")
        st.caption(f"The {len(snap.entrants)} runs are saved: compare them on the Runs page.")
    return snap.active
