"""Lessons: the classic examples one click away, each with its story and the outcome to expect."""
import streamlit as st

from playground import plots, share, ui
from playground.lessons import LESSONS, RACE_ORDER, race_verdict
from playground.progress import COMPLETED
from playground.text import markdown_literal

st.set_page_config(page_title="Lessons · Neural Playground", page_icon="🎓", layout="wide")
ui.navigation()

RACE = "ls_race"
PER_ROW = 2


def lesson_card(lesson) -> None:
    with st.container(border=True, key=f"ls_card_{lesson.slug}"):
        st.subheader(lesson.title)
        st.write(lesson.story)
        st.caption(f"**Expected:** {lesson.outcome.promise}.")
        if lesson.is_race:
            st.button("Start the race", icon=":material/sports_score:", key=f"ls_start_{lesson.slug}",
                      on_click=start_race, args=(lesson,), type="primary")
        else:
            st.page_link("pages/1_Playground.py", label="Open in the Playground", icon=":material/play_circle:",
                         query_params=share.to_query(lesson.config, lesson.hide, lesson.slug))


def start_race(lesson) -> None:
    if not ui.first_call("race"):
        return
    store, workspace = ui.run_store(), ui.workspace()
    ui.start_race(RACE, lesson.race, on_end=lambda snap: save_race(store, workspace, snap))


def save_race(store, workspace: str, snap) -> None:
    """Each entrant becomes a saved run, named after the race, so the Runs page can compare them later."""
    for racer in snap.entrants:
        if racer.history.epochs:
            store.save(workspace, racer.config, racer.history, racer.final, racer.status, name=f"Race: {racer.name}")


def render_race() -> bool:
    race = st.session_state.get(RACE)
    if race is None:
        return False
    snap = race.snapshot()
    st.subheader("Optimizer race")
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
    if not snap.active:
        finals = {r.name: (r.final or {}).get("train_loss") for r in snap.entrants}
        result = race_verdict({name: finals.get(name) for name in RACE_ORDER})
        (st.success if result.as_promised else st.warning)(result.text, icon="🏁")
        st.caption("The four runs are saved: compare them on the Runs page.")
    return snap.active


st.title("Lessons")
st.caption("Each lesson opens a ready-made setup in the Playground. Press Train and check the promised outcome; "
           "then change one thing and see what happens. Teachers: the Playground's Share panel makes a link that "
           "can hide controls from students.")
lessons = list(LESSONS.values())
for start in range(0, len(lessons), PER_ROW):
    for column, lesson in zip(st.columns(PER_ROW), lessons[start:start + PER_ROW]):
        with column:
            lesson_card(lesson)
race = st.session_state.get(RACE)
ui.live(render_race, active=race is not None and race.active, key=RACE)
