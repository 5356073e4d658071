"""The Class page: a stranger sees how to join or start; a teacher and a member see their panels."""
from __future__ import annotations


def test_a_stranger_is_offered_to_join_or_start(open_page):
    app = open_page("pages/5_Class.py", workspace="test-class-stranger")
    assert app.title[0].value == "Class"
