"""This browser's workspace: the random token its saved runs are filed under, kept in a cookie.

`current()` reads it (from session state, else from the cookie the browser sent when the page
opened, else a new one); `remember()` writes it to the browser's cookie (`cookies`). The token never
appears in the address: a copied link hands out the setup, not the runs.
Knows nothing about runs themselves (the run store files them under the token).
"""
from __future__ import annotations

import secrets

import streamlit as st

from ..runstore import check_workspace
from ..share import WORKSPACE as LEGACY_PARAM
from . import cookies

KEY = "ui_workspace"  # session-state key of the token
COOKIE = "neural_playground_workspace"
DAYS = 365
TOKEN = "^[A-Za-z0-9_-]{1,64}$"  # a cookie another tab of this browser set first wins: two tabs, one workspace


def current() -> str:
    """This browser's workspace token (made up on its first visit). A legacy `ws=` in the address,
    from before the token moved to a cookie, is ignored and removed."""
    name = st.session_state.get(KEY)
    if name is None:
        name = valid(cookies.sent(COOKIE)) or secrets.token_hex(16)
        st.session_state[KEY] = name
    if LEGACY_PARAM in st.query_params:
        del st.query_params[LEGACY_PARAM]
    return name


def remember() -> None:
    """Store this session's workspace in the browser's cookie; adopt the one another tab stored first."""
    name = current()
    adopted = valid(cookies.keep(COOKIE, name, key="ui_workspace_cookie", max_age=DAYS * 86400, adopt=TOKEN))
    if adopted and adopted != name:
        st.session_state[KEY] = adopted
        st.rerun()


def valid(candidate: str) -> str | None:
    """`candidate` if it is a well-formed workspace token, else None."""
    try:
        return check_workspace(candidate)
    except ValueError:
        return None
