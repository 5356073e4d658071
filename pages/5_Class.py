"""Class: a teacher starts a class and watches it learn on the board; students join with the code, open
the teacher's setup, take the challenge and give the class their handwriting."""
import streamlit as st

from playground.ui import (
    class_board,
    class_challenge,
    class_digits_panel,
    class_handout,
    class_join,
    class_session,
    navigation,
)

st.set_page_config(page_title="Class · Neural Playground", page_icon="👩‍🏫", layout="wide")
navigation.navigation()

TEACHER_VIEWS = {  # what the teacher looks at: one at a time, so only the chosen one polls the server
    "Board": class_board.board,
    "Hand out": class_handout.teacher,
    "Challenge": class_challenge.teacher,
    "Class digits": class_digits_panel.teacher,
    "Students": class_join.members,
}

taught, member = class_session.teacher(), class_session.membership()
if taught is not None:
    class_join.teacher_header(*taught)
    view = st.segmented_control("View", list(TEACHER_VIEWS), default="Board", key="cl_view",
                                label_visibility="collapsed") or "Board"
    TEACHER_VIEWS[view](*taught)
elif member is not None:
    class_join.student_header(member)
    class_handout.student(member)
    class_challenge.student(member)
    class_digits_panel.student(member)
else:
    st.title("Class")
    class_join.join_or_start()
