"""Lessons: the classic examples one click away, each with its story and the outcome to expect."""
import streamlit as st

from playground.lessons import LESSONS
from playground.ui import navigation, race_view, session

st.set_page_config(page_title="Lessons · Neural Playground", page_icon="🎓", layout="wide")
navigation.navigation()

PER_ROW = 2  # lesson cards side by side

st.title("Lessons")
st.caption("Each lesson opens a ready-made setup in the Playground. Press Train and check the promised outcome; "
           "then change one thing and see what happens. Teachers: the Playground's Share panel makes a link that "
           "can hide controls from students.")
lessons = list(LESSONS.values())
for start in range(0, len(lessons), PER_ROW):
    for column, lesson in zip(st.columns(PER_ROW), lessons[start:start + PER_ROW]):
        with column:
            race_view.lesson_card(lesson)
session.live(race_view.render_race, active=race_view.race_active())
