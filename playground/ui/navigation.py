"""The page links at the top of every page's sidebar, and what every page does first.

Streamlit's own page list is hidden in `.streamlit/config.toml`; these links carry proper names
and icons. Knows nothing about any page's content.
"""
from __future__ import annotations

import streamlit as st

from . import server, workspace

PAGES = (("app.py", "Home", ":material/home:"), ("pages/3_Lessons.py", "Lessons", ":material/school:"),
         ("pages/1_Playground.py", "Playground", ":material/tune:"), ("pages/4_Runs.py", "Runs", ":material/compare:"),
         ("pages/2_Draw.py", "Draw a digit", ":material/draw:"), ("pages/5_Class.py", "Class", ":material/groups:"))


def navigation() -> None:
    """Page links at the top of the sidebar, then this browser's workspace cookie.

    Every page calls it first, so the server's first visit starts the background warm-up (torch, the
    training pool's workers, the Draw page's default model) without waiting for it.
    """
    st.session_state["ui_page_runs"] = page_runs() + 1
    server.start_warm_up()
    with st.sidebar:
        for path, label, icon in PAGES:
            st.page_link(path, label=label, icon=icon)
        st.divider()
        workspace.remember()


def page_runs() -> int:
    """How many page runs this session has had (any page), so a page can tell it was just entered."""
    return st.session_state.get("ui_page_runs", 0)
