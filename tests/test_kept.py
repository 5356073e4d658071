"""kept: values made once per key, a bounded few kept, the least recently used dropped first."""
from playground.kept import Kept


def test_a_value_is_made_once_and_the_least_recently_used_goes_first():
    kept, made = Kept(2), []

    def make(value):
        return lambda: made.append(value) or value

    assert kept.get_or_make("a", make(1)) == 1 and kept.get_or_make("a", make(9)) == 1
    kept.get_or_make("b", make(2))
    kept.get_or_make("a", make(9))  # "a" is now the most recently used
    kept.get_or_make("c", make(3))  # so "b" goes
    assert made == [1, 2, 3] and "a" in kept and "b" not in kept and len(kept) == 2
    assert kept["c"] == 3


def test_none_is_kept_like_any_value():
    kept, calls = Kept(4), []
    assert kept.get_or_make("x", lambda: calls.append(1)) is None
    assert kept.get_or_make("x", lambda: calls.append(1)) is None and calls == [1]
