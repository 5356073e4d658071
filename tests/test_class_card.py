"""The join card's core helpers (join link, QR code, spans in words), the teacher cookie's format, and
the store's one-query look-up of a member's newest hand-out (the Playground's bar asks it each run)."""
from __future__ import annotations

import time

import pytest
import segno

from playground.class_card import app_address, join_link, qr_svg, span_words
from playground.classroom import ClassStore
from playground.runstore import RunStore
from playground.ui.class_session import from_cookie


@pytest.fixture
def store(store_location):
    return ClassStore(RunStore(store_location))  # SQLite, then PostgreSQL


@pytest.mark.parametrize("url, base", [
    ("http://host:8501/Class", "http://host:8501"), ("http://host:8501/Class/?x=1#y", "http://host:8501"),
    ("https://school.example/np/Class", "https://school.example/np"), ("http://host:8501/", "http://host:8501"),
    ("http://host:8501/Playground", "http://host:8501/Playground"), (None, "http://localhost:8501"),
    ("", "http://localhost:8501"), ("javascript:alert(1)", "http://localhost:8501"), ("/Class", "http://localhost:8501"),
])
def test_the_apps_address_drops_the_class_page_query_and_anything_odd(url, base):
    assert app_address(url) == base


def test_the_join_link_carries_the_code_only():
    assert join_link("http://host:8501/Class?secret=s", "k7qm-2x") == "http://host:8501/Class?class=K7QM2X"
    with pytest.raises(ValueError):
        join_link("http://host", "<b>")


def test_the_qr_code_is_an_svg_of_the_link_that_grows_with_its_scale():
    link = "http://host:8501/Class?class=K7QM2X"
    side = segno.make(link, error="m").symbol_size(scale=1, border=2)[0]
    small, large = qr_svg(link), qr_svg(link, 12)
    assert small.startswith("<svg") and f'width="{side * 4}"' in small and f'width="{side * 12}"' in large
    assert qr_svg(link.replace("K7QM2X", "K7QM2Y")) != small


@pytest.mark.parametrize("seconds, words", [(0, "under a minute"), (59.9, "under a minute"), (60, "1 min"),
                                            (3 * 3600 + 20 * 60 + 5, "3 h 20 min"), (5 * 3600, "5 h"),
                                            (7 * 86400 - 1, "6 days 23 h"), (86400 + 30, "1 day"),
                                            (12.5 * 86400, "12 days"), (10 * 3600 + 300, "10 h")])
def test_spans_in_words(seconds, words):
    assert span_words(seconds) == words


@pytest.mark.parametrize("text, held", [
    ("K7QM2X.abcdefghijklmnop_-123", ("K7QM2X", "abcdefghijklmnop_-123")), ("K7QM2X.short", None), ("K7QM2X", None),
    ("k7qm2x.abcdefghijklmnop", None), ("K7QM2X.abcdefghijklmnop.x", None), ("K7QM2X.<script>alert(1)</script>", None),
    ("", None), (None, None),
])
def test_the_teacher_cookie_is_a_code_and_a_secret_or_nothing(text, held):
    assert from_cookie(text) == held


def test_a_members_newest_hand_out_in_one_look_up(store):
    first, second = store.create("teacher1", "A"), store.create("teacher1", "B")
    assert store.newest_handout("student1") is None
    store.join(first.info.code, "student1", "Ada")
    member, handout = store.newest_handout("student1")
    assert member.name == "Ada" and handout is None
    store.hand_out(first.info.code, first.secret, "setup", {"epochs": 3})
    newest = store.hand_out(first.info.code, first.secret, "lesson", "line")
    store.hand_out(second.info.code, second.secret, "lesson", "coffee")  # another class's: not this member's
    assert store.newest_handout("student1") == (store.member(first.info.code, "student1"), newest)
    time.sleep(0.01)
    store.join(second.info.code, "student1", "Ada")  # joined later: the newest membership counts
    assert store.newest_handout("student1")[1].payload == "coffee"
    store.end(second.info.code, second.secret)
    assert store.newest_handout("student1")[1] == newest
