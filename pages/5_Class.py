"""Class: a teacher starts a class and watches it learn on the board; students join with the code."""
import streamlit as st

from playground.ui import class_session, navigation

st.set_page_config(page_title="Class · Neural Playground", page_icon="👩‍🏫", layout="wide")
navigation.navigation()

st.title("Class")
taught, member = class_session.teacher(), class_session.membership()
if taught is not None:
    st.caption(f"You teach class {taught[0]}.")  # the teacher's panels: join card, board, hand-out, challenge, digits
elif member is not None:
    st.caption(f"You are in class {member.code} as {member.name}.")  # the student's panels
else:
    st.caption("Join a class with the code your teacher shows, or start one.")  # join and start forms
