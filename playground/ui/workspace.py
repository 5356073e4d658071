"""This browser's workspace: the random token its saved runs are filed under, kept in a cookie.

`current()` reads it (from session state, else from the cookie the browser sent when the page
opened, else a new one); `remember()` writes it to the browser's cookie with a small Components v2
module. The token never appears in the address: a copied link hands out the setup, not the runs.
Knows nothing about runs themselves (the run store files them under the token).
"""
from __future__ import annotations

import functools
import secrets

import streamlit as st

from ..runstore import check_workspace
from ..share import WORKSPACE as LEGACY_PARAM

KEY = "ui_workspace"  # session-state key of the token
COOKIE = "neural_playground_workspace"
DAYS = 365
# Runs in the browser (a Components v2 module, no iframe): keeps the workspace token in a cookie of
# this site, never in the address. A cookie another tab of this browser set first wins, so two tabs
# opened at once end up in one workspace.
_COOKIE_JS = """
export default function ({ data, setStateValue }) {
  const prefix = data.cookie + "=";
  const found = document.cookie.split("; ").find((c) => c.startsWith(prefix));
  const kept = found ? found.slice(prefix.length) : "";
  const value = /^[A-Za-z0-9_-]{1,64}$/.test(kept) ? kept : data.token;
  document.cookie = `${prefix}${value}; path=/; max-age=${data.maxAge}; SameSite=Strict`;
  if (value !== data.token) setStateValue("workspace", value);
}
"""


@functools.cache
def _cookie_component():
    """The cookie module, declared once per process on first use (nothing runs at import time)."""
    return st.components.v2.component("neural_playground_workspace", js=_COOKIE_JS)


def current() -> str:
    """This browser's workspace token (made up on its first visit). A legacy `ws=` in the address,
    from before the token moved to a cookie, is ignored and removed."""
    name = st.session_state.get(KEY)
    if name is None:
        name = valid(st.context.cookies.get(COOKIE, "")) or secrets.token_hex(16)
        st.session_state[KEY] = name
    if LEGACY_PARAM in st.query_params:
        del st.query_params[LEGACY_PARAM]
    return name


def remember() -> None:
    """Store this session's workspace in the browser's cookie; adopt the one another tab stored first."""
    name = current()
    result = _cookie_component()(key="ui_workspace_cookie", on_workspace_change=lambda: None,
                                 data={"cookie": COOKIE, "token": name, "maxAge": DAYS * 86400})
    adopted = valid(result.get("workspace") or "")
    if adopted and adopted != name:
        st.session_state[KEY] = adopted
        st.rerun()


def valid(candidate: str) -> str | None:
    """`candidate` if it is a well-formed workspace token, else None."""
    try:
        return check_workspace(candidate)
    except ValueError:
        return None
