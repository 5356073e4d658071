"""The teacher's join card, one row on the projector: a small QR code of the join link (Enlarge QR shows
it big), the code in very large type, the title, how many students joined, when the class ends, the
link; and the teacher's own actions (stop teaching on this browser, end the class).

Right after a class starts, the card says to save the teacher secret (shown only on a switch, never by
default: the screen may be projected; it stays under Teacher). The join link is built from the
address the teacher's browser sees (`st.context.url`, else the Host header, else localhost). Knows the
store through `class_session`, and the link through `class_card`.
"""
from __future__ import annotations

import time

import streamlit as st

from ..class_card import join_link, qr_svg, span_words
from ..classroom import ClassError
from ..text import markdown_literal
from . import class_session

NEW_SECRET = "ui_class_new_secret"  # session state: the secret of a class just started, until the teacher saved it
QR_SMALL, QR_LARGE = 88, 520  # px
CSS = """<style>
[data-testid="stMainBlockContainer"] {padding-top: 4rem; padding-bottom: 1rem;}
.st-key-cl_join_card {gap: 1rem; flex-wrap: nowrap;}
.st-key-cl_join_bigcode p {font-size: 3.8rem; font-weight: 700; letter-spacing: 0.08em; line-height: 1.1;
  font-family: ui-monospace, monospace; white-space: nowrap;}
.st-key-cl_join_details {gap: 0.3rem; min-width: 12rem;}
.st-key-cl_join_details p {overflow-wrap: anywhere;}
.st-key-cl_join_details [data-testid="stCode"] pre {padding: 0.2rem 2.2rem 0.2rem 0.5rem;}
.st-key-cl_join_actions {gap: 0.4rem;}
</style>"""


def app_url() -> str | None:
    """The address the teacher's browser shows (or what the request's Host header says), if known."""
    if st.context.url:
        return st.context.url
    host = st.context.headers.get("Host")
    return f"http://{host}" if host else None


def teacher_header(code: str, secret: str) -> None:
    """The join card of class `code`, and the secret once after the class started."""
    class_session.remember_teacher()
    store = class_session.store()
    info, count = store.info(code), len(store.members(code))
    link = join_link(app_url(), code)
    st.html(CSS)
    with st.container(horizontal=True, vertical_alignment="center", key="cl_join_card"):
        st.image(qr_svg(link), width=QR_SMALL)
        st.container(width="content", key="cl_join_bigcode").markdown(code)  # [A-Z2-9] only: no markup
        with st.container(key="cl_join_details"):
            st.markdown(f"**{markdown_literal(info.title) if info is not None and info.title else 'Class'}**")
            ends = span_words(info.expires - time.time()) if info is not None else "—"
            st.caption(f"{count} student{'s' * (count != 1)} · ends in {ends} · join at")
            st.code(link, language=None, wrap_lines=True)
        with st.container(width="content", key="cl_join_actions"):
            with st.popover("Enlarge QR", icon=":material/qr_code_2:", key="cl_join_qr_big"):
                st.image(qr_svg(link, scale=12), width=QR_LARGE)
            with st.popover("Teacher", icon=":material/admin_panel_settings:", key="cl_join_tools"):
                tools(code, secret)
    new_secret(secret)


def new_secret(secret: str) -> None:
    """Right after the class started: what the teacher secret is for, and the secret behind a switch (this
    screen may already be on the projector)."""
    if st.session_state.get(NEW_SECRET) != secret:
        return
    with st.container(border=True, key="cl_join_secret_box"):
        st.markdown("**Save your teacher secret** — needed to moderate this class from another browser (with the "
                    "code, under *Resume teaching*). Never share it: it lets anyone moderate the class. This "
                    "browser remembers it; it stays under **Teacher** above.")
        show_secret(secret, "cl_join_secret_show")
        st.button("I have saved it", key="cl_join_secret_done", on_click=st.session_state.pop, args=(NEW_SECRET, None))


def show_secret(secret: str, key: str) -> None:
    """The secret, only while the teacher switches it on (never by default: the class may see the screen)."""
    if st.toggle("Show the secret (not while the screen is projected)", key=key):
        st.code(secret, language=None)


def tools(code: str, secret: str) -> None:
    """Stop teaching on this browser (the class goes on), or end the class (after a confirmation)."""
    st.caption("To come back after stopping, you need the code and the teacher secret.")
    show_secret(secret, "cl_join_secret_again")
    st.button("Stop teaching on this browser", key="cl_join_stop", on_click=class_session.stop_teaching)
    st.divider()
    sure = st.checkbox("Yes: delete this class, its students, hand-outs and drawings", key="cl_join_end_sure")
    if st.button("End the class", key="cl_join_end", type="primary", disabled=not sure):
        try:
            class_session.store().end(code, secret)
        except ClassError as error:  # ended meanwhile, from another browser
            st.error(markdown_literal(error))
            return
        class_session.stop_teaching()
        st.rerun()
