"""Popovers and expanders that draw their contents only while open (Streamlit's stateful blocks,
`on_change="rerun"`, whose `.open` says whether to draw): a page run that is not about them (a poll,
a widget elsewhere, thirty students' pages at once) draws a button, not the widgets behind it.

Streamlit names a stateful block by its label (and help, icon, type) as well as its key, so a block
whose label changes with what is inside it ("Linear 100" becomes "Linear 16" as its size is edited;
"Data · Spiral" becomes "Data · Moons") would come back as a new, closed block: an open block's state
is carried over under its key. The widgets inside keep their values while hidden where their panel
says so (`persist_state="page"`) or keep them in plain session state. Knows nothing about what the
blocks hold.
"""
from __future__ import annotations

import streamlit as st


def lazy_popover(label: str, key: str, **options):
    """A popover whose `.open` says whether to draw its widgets."""
    _carry_open(key)
    return st.popover(label, key=key, on_change="rerun", **options)


def lazy_expander(label: str, key: str, **options):
    """An expander whose `.open` says whether to draw its widgets."""
    _carry_open(key)
    return st.expander(label, key=key, on_change="rerun", **options)


def _carry_open(key: str) -> None:
    """Keep a block open when it comes back under a new name (its label changed while it was open)."""
    if st.session_state.get(key):
        st.session_state[key] = True
