"""How fast one browser may try class codes and teacher secrets, so that guessing them is slow.

A session may make SESSION_TRIES requests (join, rename, resume) a minute; and all sessions from one
address together may fail ADDRESS_FAILURES times a minute (a class behind one school router joins
from one address, so only failures count there; a browser on the server's own machine has no
address and only the session's limit). Histories are `ratelimit` lists: the session's in its state,
the addresses' in one per-server table of at most ADDRESSES entries. Knows nothing about classes.
"""
from __future__ import annotations

import threading
import time

import streamlit as st

from ..ratelimit import RateLimit

SESSION_TRIES = RateLimit(count=6, size=6, window=60.0)  # each try counts 1
ADDRESS_FAILURES = RateLimit(count=60, size=60, window=60.0)
ADDRESSES = 10_000  # addresses remembered; the oldest is forgotten first
KEY = "ui_class_tries"  # session state: this session's history


@st.cache_resource
def _failures() -> tuple[threading.Lock, dict]:
    """Per server: address -> history of failed tries."""
    return threading.Lock(), {}


def _address() -> str | None:
    address = st.context.ip_address
    return address if isinstance(address, str) and address else None


def wait() -> float:
    """Seconds until this session may try again (0: now); counts the try when it may."""
    now, mine = time.time(), st.session_state.setdefault(KEY, [])
    lock, failures = _failures()
    with lock:
        theirs = failures.get(_address(), [])  # no address: always empty
        waits = SESSION_TRIES.wait(mine, 1, now), ADDRESS_FAILURES.wait(theirs, 0, now)
    if max(waits) <= 0:
        SESSION_TRIES.record(mine, 1, now)
    return max(waits)


def failed() -> None:
    """The try just made was refused (a wrong code or secret)."""
    lock, failures, address = *_failures(), _address()
    if address is None:
        return
    with lock:
        history = failures.pop(address, [])  # re-inserted: the dict's order is least recently failed first
        ADDRESS_FAILURES.record(history, 1, time.time())
        failures[address] = history
        while len(failures) > ADDRESSES:
            failures.pop(next(iter(failures)))
