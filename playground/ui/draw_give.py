"""The Draw page's "Give this drawing to the class": a member of a class confirms the drawing's label (the model's
guess to start with, a digit 0-9) and gives the 28x28 image the model saw to the class's drawings.

Owns the keys `cl_dg_label`, `cl_dg_give`, `cl_dg_guess` (the guess the label last took), `cl_dg_given` (this
session's recent gifts, for the rate limit) and `cl_dg_message`. A browser in no class sees only a hint. The
store keeps its own limits (drawings a class, a student); this session may give at most GIVE_LIMIT a minute.
Knows nothing about the model or the canvas: it is handed the drawing and the guess.
"""
from __future__ import annotations

import math
import time

import numpy as np
import streamlit as st

from ..classroom import ClassError
from ..images import DIGIT_NAMES
from ..ratelimit import RateLimit
from ..runstore import RunStoreError
from . import class_session, draw_panel, workspace

GIVE_LIMIT = RateLimit(count=12, size=12, window=60.0)  # gifts a minute (size: one a gift)
MESSAGE = "cl_dg_message"  # (kind, text) of the last gift, shown once


def give_panel(digit: np.ndarray | None, guess: str | None) -> None:
    """For a member of a class: the label and "Give this drawing to the class" (a hint for anyone else). The
    label starts as the model's guess (the name of the class it guessed) when that is a digit, else 0."""
    member = class_session.membership()
    if member is None:
        st.caption("In a class? Join it on the Class page, then you can give your drawings to its own dataset.")
        return
    kind, text = st.session_state.pop(MESSAGE, (None, None))
    if kind is not None:
        getattr(st, kind)(text)
    if digit is None or guess is None:
        return
    if st.session_state.get("cl_dg_guess") != guess:  # a new guess: the label starts from it again
        st.session_state.update(cl_dg_guess=guess, cl_dg_label=int(guess) if guess in DIGIT_NAMES else 0)
    with st.container(border=True):
        st.number_input("This drawing is the digit", 0, 9, step=1, key="cl_dg_label",
                        help="check the label: the class trains on it, and a wrong label teaches the wrong thing")
        st.button(f"Give this drawing to class {member.code}", key="cl_dg_give", icon=":material/volunteer_activism:",
                  on_click=give, args=(member.code, digit))


def give(code: str, digit: np.ndarray) -> None:
    """Give `digit` with the label chosen to class `code` (rate-limited), then clear the canvas for the next one."""
    history, now = st.session_state.setdefault("cl_dg_given", []), time.time()
    wait = GIVE_LIMIT.wait(history, 1, now)
    if wait > 0:
        st.session_state[MESSAGE] = ("warning", f"That is a lot of drawings at once: give the next in "
                                                f"{math.ceil(wait)} s.")
        return
    label = st.session_state.get("cl_dg_label")
    try:
        class_session.store().add_digit(code, workspace.current(), label, digit)
    except ClassError as error:
        st.session_state[MESSAGE] = ("error", f"Not given: {error}.")
        return
    except RunStoreError:
        st.session_state[MESSAGE] = ("error", "Not given: the class's store cannot be written just now; try again.")
        return
    GIVE_LIMIT.record(history, 1, now)
    count = class_session.store().digit_count(code)
    st.session_state[MESSAGE] = ("success", f"Thank you: a {label} for class {code}, which now has {count:,} "
                                            "drawings. Draw the next one!")
    draw_panel.clear_canvas()
