"""Draw a digit: the model you trained (or a default one) says what it sees, on every stroke."""
import streamlit as st

from playground.draw_models import describe, drawing_work, too_large
from playground.ui import draw_give, draw_model, draw_panel, navigation, server

st.set_page_config(page_title="Draw a digit · Neural Playground", page_icon="✏️", layout="wide")
navigation.navigation()
server.warm_up()  # also keeps the server's torch on one thread: a drawing must not take every core

st.title("Draw a digit")
model = draw_model.choose_model()
work = drawing_work(model.config)
st.caption(describe(model))
if not work.fits:  # an uploaded model is refused on upload; a Playground run can still be this large
    st.error(too_large(work), icon="🚫")
    st.stop()
draw_col, see_col, guess_col = st.columns([3, 2, 4], gap="large")
with draw_col:
    digit = draw_panel.canvas_digit()
with see_col:
    draw_panel.what_the_model_sees(digit)
with guess_col:
    best = draw_panel.guess(model, digit)
    draw_give.give_panel(digit, None if best is None else model.class_names[best])  # a class member gives it
if digit is not None:
    draw_panel.explanations(model, digit, best, work)
