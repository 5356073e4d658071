"""Cookies of this site, written by the browser and read back when a new session opens.

`keep` writes a cookie with a small Components v2 module (no iframe), so a value outlives the session
without ever being in the address; it may instead adopt a well-formed value the browser already holds
(another tab set it first). `sent` reads what the browser sent when the page opened (`st.context.cookies`,
fixed for the session's life). Knows nothing about what the cookies mean: `workspace` and
`class_session` name theirs.
"""
from __future__ import annotations

import functools

import streamlit as st

# Runs in the browser: write `value` (or adopt the cookie's own value where it matches `adopt`, a
# regular expression, and report it back as the state "value"). Secure on https; max-age 0 deletes.
_COOKIE_JS = """
export default function ({ data, setStateValue }) {
  const prefix = data.cookie + "=";
  const found = document.cookie.split("; ").find((c) => c.startsWith(prefix));
  const kept = found ? found.slice(prefix.length) : "";
  const value = data.adopt && new RegExp(data.adopt).test(kept) ? kept : data.value;
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${prefix}${value}; path=/; max-age=${data.maxAge}; SameSite=Strict${secure}`;
  if (value !== data.value) setStateValue("value", value);
}
"""


@functools.cache
def _cookie_component():
    """The cookie module, declared once per process on first use (nothing runs at import time)."""
    return st.components.v2.component("neural_playground_cookie", js=_COOKIE_JS)


def keep(cookie: str, value: str, *, key: str, max_age: int, adopt: str = "") -> str:
    """Write `cookie`=`value` for `max_age` seconds (0: delete it). With `adopt` (a regular expression),
    a value the browser already holds that matches it wins: returned once the browser reports it, else ""."""
    result = _cookie_component()(key=key, on_value_change=lambda: None,
                                 data={"cookie": cookie, "value": value, "maxAge": int(max_age), "adopt": adopt})
    return (result.get("value") or "") if adopt else ""


def sent(cookie: str) -> str:
    """The value of `cookie` the browser sent when this session opened ("" if none, or not text)."""
    value = st.context.cookies.get(cookie, "")
    return value if isinstance(value, str) else ""
