"""The Class page's "class digits": the drawings the class gave on the Draw page.

The teacher (`teacher`) sees how many drawings each digit has, pages through them with their labels and who
gave them (names as plain text), removes bad ones, tests the Draw page's MNIST model on them, trains on them
and downloads them. A student (`student`) sees how many the class has and how many are theirs, and gets the
same test, training and downloads. Widget keys start with `cl_dg_`. Names come from students: every name and
label shows as literal text. Knows nothing about how the numbers are made (`class_digits`, `class_digits_view`).
"""
from __future__ import annotations

import streamlit as st

from .. import class_digits, inspection
from ..classroom import ClassError
from ..text import markdown_literal
from . import class_digits_view, class_session

PAGE, COLUMNS, PICTURE = 40, 10, 56  # drawings a page, a row, pixels each as shown
NAME_CHARS = 14  # of a name under a drawing
ALL = "all digits"


def teacher(code: str, secret: str) -> None:
    """Counts, the drawings page by page with removal, the MNIST model's test, Train on them, downloads."""
    digits = class_session.store().digits(code)
    x, y = class_digits.arrays(digits)
    st.subheader(f"Class digits · {len(digits):,} drawings")
    if not digits:
        st.info("No drawings yet. Students draw a digit on the Draw page and press “Give this drawing to the "
                "class”; they appear here.", icon=":material/draw:")
        return
    chart, actions = st.columns([3, 2], gap="large")
    with chart:
        class_digits_view.counts_chart(y)
    with actions:
        class_digits_view.train_button(code, len(digits))
        class_digits_view.downloads(code, x, y)
    moderate(code, secret, digits)
    class_digits_view.mnist_test(code, x, y)


def student(member) -> None:
    """How many drawings the class has and how many are mine; the MNIST model's test, training, downloads."""
    digits = class_session.store().digits(member.code)
    x, y = class_digits.arrays(digits)
    mine = sum(d.member == member.id for d in digits)
    st.subheader("Our class's digits")
    st.markdown(f"The class has **{len(digits):,}** drawings; **{mine:,}** of them are yours. Draw on the "
                "Draw page and give your drawings to the class to add more.")
    if not digits:
        return
    row = st.container(horizontal=True)
    with row:
        class_digits_view.train_button(member.code, len(digits), "Train on our class's digits")
        class_digits_view.downloads(member.code, x, y)
    class_digits_view.mnist_test(member.code, x, y)


def moderate(code: str, secret: str, digits) -> None:
    """One page of the drawings (newest first, one digit or all), and the removal of those picked."""
    names = {m.id: m.name for m in class_session.store().members(code)}
    shown = st.selectbox("Show", [ALL, *range(10)], key="cl_dg_filter", format_func=str)
    chosen = [d for d in reversed(digits) if shown == ALL or d.label == shown]
    pages = max(1, -(-len(chosen) // PAGE))
    if st.session_state.get("cl_dg_page", 1) > pages:  # fewer pages since (drawings removed, another digit)
        st.session_state["cl_dg_page"] = pages
    page = st.number_input(f"Page (of {pages})", 1, pages, 1, key="cl_dg_page") if pages > 1 else 1
    on_page = chosen[(page - 1) * PAGE:][:PAGE]
    for start in range(0, len(on_page), COLUMNS):
        row = on_page[start:start + COLUMNS]
        st.image([inspection.upscale(d.pixels, PICTURE) for d in row], width=PICTURE,
                 caption=[caption(d, names) for d in row])
    picked = st.multiselect("Drawings to remove", [d.id for d in on_page], key="cl_dg_pick",
                            format_func=lambda i: f"#{i}", placeholder="pick bad drawings by their number")
    st.button(f"Remove {len(picked)} drawing{'s' * (len(picked) != 1)}", key="cl_dg_remove", on_click=remove,
              args=(code, secret), icon=":material/delete:", disabled=not picked)
    kind, text = st.session_state.pop("cl_dg_removed", (None, None))
    if kind is not None:
        getattr(st, kind)(text)


def caption(digit, names: dict) -> str:
    """"#12 · 7 · Ana": the drawing's number, its label and who gave it, as literal text."""
    name = names.get(digit.member, "(left the class)")
    short = name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"
    return markdown_literal(f"#{digit.id} · {digit.label} · {short}")


def remove(code: str, secret: str) -> None:
    """Remove the drawings picked (the teacher's secret says who may)."""
    try:
        gone = class_session.store().remove_digits(code, secret, st.session_state.get("cl_dg_pick", []))
    except ClassError as error:
        st.session_state["cl_dg_removed"] = ("error", f"Not removed: {error}.")
        return
    st.session_state.update(cl_dg_pick=[], cl_dg_removed=("success", f"Removed {gone} drawing{'s' * (gone != 1)}."))
