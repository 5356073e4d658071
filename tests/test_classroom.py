"""The class store: codes, secrets, members, hand-outs, challenges, drawings, limits and expiry."""
from __future__ import annotations

import time

import numpy as np
import pytest

from playground.class_names import check_code, check_display_name, friendly_name
from playground.classroom import MAX_DIGITS_EACH, ClassAccessError, ClassError, ClassStore
from playground.runstore import RunStore


@pytest.fixture
def store(store_location):
    return ClassStore(RunStore(store_location))  # SQLite, then PostgreSQL


def test_a_class_is_joined_by_its_code_in_any_case(store):
    new = store.create("teacher1", "Year 9")
    student = store.join(new.info.code.lower()[:3] + "-" + new.info.code.lower()[3:], "student1", "Ada")
    assert (student.code, student.name) == (new.info.code, "Ada")
    assert [m.name for m in store.members(new.info.code)] == ["Ada"]
    assert store.info(new.info.code).title == "Year 9"


def test_joining_again_is_the_same_member_and_may_rename(store):
    code = store.create("teacher1").info.code
    first = store.join(code, "student1", "Ada")
    again = store.join(code, "student1", "")
    renamed = store.join(code, "student1", "Ada L")
    assert first.id == again.id == renamed.id and again.name == "Ada" and renamed.name == "Ada L"


def test_names_are_cleaned_unique_and_friendly_when_empty(store):
    code = store.create("teacher1").info.code
    assert store.join(code, "s1", "  <b>Bo\u202e\n</b>  ").name == "<b>Bo</b>"  # markup is the page's to escape
    with pytest.raises(ClassError, match="already called"):
        store.join(code, "s2", "<B>BO</B>")
    assert " " in store.join(code, "s3").name
    with pytest.raises(ValueError, match="at most"):
        check_display_name("x" * 100)
    assert friendly_name(["Curious Otter"]) != "Curious Otter"


def test_bad_codes_are_refused_with_a_message(store):
    for bad in ("", "ABC", "O0O0O0", None, 12, "A" * 1000):
        with pytest.raises((ClassError, ValueError)):
            store.join(bad, "s1", "x")
    with pytest.raises(ClassError, match="no class"):
        store.join("ABCDEF", "s1", "x")
    assert check_code(" k7qm-2x ") == "K7QM2X"


def test_teacher_actions_need_the_secret(store):
    new = store.create("teacher1")
    code = new.info.code
    member = store.join(code, "s1", "Ada")
    for action in (lambda s: store.hand_out(code, s, "lesson", "spiral"),
                   lambda s: store.set_challenge(code, s, {"goal": 1}),
                   lambda s: store.set_show_names(code, s, False),
                   lambda s: store.remove_member(code, s, member.id),
                   lambda s: store.remove_digits(code, s, [1]),
                   lambda s: store.end(code, s)):
        for wrong in (None, "", code, "s1", new.secret + "x"):
            with pytest.raises(ClassAccessError):
                action(wrong)
    assert store.is_teacher(code, new.secret) and not store.is_teacher(code, "guess")


def test_hand_outs_newest_first_and_by_id(store):
    new = store.create("teacher1")
    code, secret = new.info.code, new.secret
    assert store.handout(code) is None
    first = store.hand_out(code, secret, "setup", {"dataset": {"name": "spiral"}})
    second = store.hand_out(code, secret, "lesson", "spiral-linear")
    assert store.handout(code) == second and store.handout_by_id(code, first.id) == first
    with pytest.raises(ClassError):
        store.hand_out(code, secret, "program", "x")
    with pytest.raises(ClassError, match="at most"):
        store.hand_out(code, secret, "setup", {"x": "y" * 30_000})
    with pytest.raises(ClassError, match="plain JSON"):
        store.hand_out(code, secret, "setup", {"x": float("nan")})


def test_challenge_and_names_setting(store):
    new = store.create("teacher1")
    store.set_challenge(new.info.code, new.secret, {"metric": "test_score"})
    store.set_show_names(new.info.code, new.secret, False)
    info = store.info(new.info.code)
    assert info.challenge == {"metric": "test_score"} and info.challenge_set and not info.show_names
    store.set_challenge(new.info.code, new.secret, None)
    assert store.info(new.info.code).challenge is None


def test_drawings_only_from_members_and_bounded(store, monkeypatch):
    new = store.create("teacher1")
    code = new.info.code
    digit = np.zeros((28, 28), np.uint8)
    with pytest.raises(ClassError, match="join"):
        store.add_digit(code, "stranger", 3, digit)
    store.join(code, "s1", "Ada")
    first = store.add_digit(code, "s1", 3, digit + 7)
    kept = store.digits(code)
    assert [(d.id, d.label, int(d.pixels[0, 0])) for d in kept] == [(first, 3, 7)]
    for bad_label in (-1, 10, 3.0, True, "3"):
        with pytest.raises(ClassError, match="label"):
            store.add_digit(code, "s1", bad_label, digit)
    for bad in (np.zeros((28, 27)), np.full((28, 28), 300), np.full((28, 28), np.nan), [["x"]]):
        with pytest.raises(ClassError):
            store.add_digit(code, "s1", 1, bad)
    monkeypatch.setenv("PLAYGROUND_CLASS_DIGITS", "2")
    store.add_digit(code, "s1", 1, digit)
    with pytest.raises(ClassError, match="all the drawings"):
        store.add_digit(code, "s1", 1, digit)
    assert store.remove_digits(code, new.secret, [first]) == 1 and store.digit_count(code) == 1


def test_one_student_gives_at_most_their_share(store, monkeypatch):
    code = store.create("teacher1").info.code
    store.join(code, "s1", "Ada")
    for _ in range(MAX_DIGITS_EACH):
        store.add_digit(code, "s1", 0, np.zeros((28, 28)))
    with pytest.raises(ClassError, match="most one student"):
        store.add_digit(code, "s1", 0, np.zeros((28, 28)))


def test_classes_are_full_at_the_limit(store, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_CLASS_MEMBERS", "2")
    code = store.create("teacher1").info.code
    store.join(code, "s1")
    store.join(code, "s2")
    with pytest.raises(ClassError, match="full"):
        store.join(code, "s3")
    store.join(code, "s1", "Back again")  # a member may come back


def test_a_class_lasts_its_days_and_survives_a_new_store(store, store_location, monkeypatch):
    new = store.create("teacher1", days=1)
    store.join(new.info.code, "s1", "Ada")
    again = ClassStore(RunStore(store_location))  # a restarted server
    assert again.member(new.info.code, "s1").name == "Ada" and again.is_teacher(new.info.code, new.secret)
    later = time.time() + 2 * 86400
    monkeypatch.setattr(time, "time", lambda: later)
    assert again.info(new.info.code) is None and again.member(new.info.code, "s1") is None
    again.create("teacher2")  # purges the expired class
    assert again.members(new.info.code) == []


def test_ending_a_class_removes_everything(store):
    new = store.create("teacher1")
    store.join(new.info.code, "s1", "Ada")
    store.add_digit(new.info.code, "s1", 1, np.zeros((28, 28)))
    store.end(new.info.code, new.secret)
    assert store.info(new.info.code) is None and store.members(new.info.code) == []
    assert store.digit_count(new.info.code) == 0 and store.teaching("teacher1") == []


def test_board_tiles_published_by_replicas_keep_each_members_newest_run_and_go_with_the_class(store):
    new, other = store.create("teacher1"), store.create("teacher2")
    code = new.info.code
    ada = store.join(code, "s1", "Ada")
    store.publish_tiles(code, [(ada.id, 100.0, '{"run": 1}')])
    store.publish_tiles(other.info.code, [(ada.id, 50.0, '{"elsewhere": 1}')])
    store.publish_tiles(code, [(ada.id, 200.0, '{"run": 2}')])  # her newer run, on another replica
    store.publish_tiles(code, [(ada.id, 100.0, '{"run": 1, "epoch": 9}')])  # the older run's replica: ignored
    [(member, started, updated, record)] = store.published_tiles(code)
    assert (member, started, record) == (ada.id, 200.0, '{"run": 2}') and abs(updated - time.time()) < 600
    store.end(code, new.secret)
    assert store.published_tiles(code) == [] and len(store.published_tiles(other.info.code)) == 1


def test_memberships_and_teaching_are_per_browser(store):
    a, b = store.create("teacher1", "A"), store.create("teacher1", "B")
    store.join(a.info.code, "s1")
    store.join(b.info.code, "s1")
    assert [m.code for m in store.memberships("s1")] == [b.info.code, a.info.code]
    assert [c.title for c in store.teaching("teacher1")] == ["B", "A"] and store.teaching("s1") == []
    store.leave(a.info.code, "s1")
    assert [m.code for m in store.memberships("s1")] == [b.info.code]


def test_students_joining_at_once_keep_the_limits_and_unique_names(store, monkeypatch):
    """On PostgreSQL too (no single write lock there): joins of one class take turns."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("PLAYGROUND_CLASS_MEMBERS", "4")
    code = store.create("teacher1").info.code

    def join(i: int) -> str:
        try:
            return store.join(code, f"s{i}", "Ada" if i < 3 else f"Student {i}").name
        except ClassError as error:
            return str(error)

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(join, range(8)))
    names = [m.name for m in store.members(code)]
    assert len(names) == 4 and names.count("Ada") <= 1
    assert all(o in names or "already called" in o or "full" in o for o in outcomes)
