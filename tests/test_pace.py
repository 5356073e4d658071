"""Paces: the names a user picks, and the Pacer that says how long a watched run waits before an epoch."""
import pytest

from playground.pace import FAST, PACES, WATCH, Pacer, epochs_per_second


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_watch_pace_trains_the_default_spiral_in_about_ten_seconds_and_fast_has_no_limit():
    assert set(PACES) == {WATCH, FAST}
    assert 1000 / epochs_per_second(WATCH) == pytest.approx(10.0)
    assert epochs_per_second(FAST) is None


def test_an_unknown_pace_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="watch, fast"):
        epochs_per_second("slow")
    pacer = Pacer(WATCH)
    with pytest.raises(ValueError):
        pacer.set("slow")
    assert pacer.pace == WATCH


def test_fast_never_waits_and_never_reads_the_clock():
    def no_clock() -> float:
        raise AssertionError("the fast pace read the clock")

    pacer = Pacer(FAST, no_clock)
    for _ in range(3):
        assert pacer.delay() == 0.0
        pacer.started()


def test_watch_waits_out_the_rest_of_each_epochs_share_of_a_second():
    clock = Clock()
    pacer = Pacer(WATCH, clock)
    assert pacer.delay() == 0.0  # the first epoch begins at once
    pacer.started()
    clock.now = 0.004  # the epoch took 4 ms
    assert pacer.delay() == pytest.approx(0.006)
    clock.now = 0.0102  # woke up 0.2 ms late: made up at the next epoch
    assert pacer.delay() == 0.0
    pacer.started()
    assert pacer.delay() == pytest.approx(0.0098)


def test_after_a_pause_the_pace_starts_again_from_now_without_a_burst():
    clock = Clock()
    pacer = Pacer(WATCH, clock)
    pacer.started()
    clock.now = 5.0  # paused for five seconds
    assert pacer.delay() == 0.0
    pacer.started()
    assert pacer.delay() == pytest.approx(0.01)


def test_switching_to_fast_ends_a_wait_and_back_to_watch_resumes_it():
    clock = Clock()
    pacer = Pacer(WATCH, clock)
    pacer.started()
    pacer.set(FAST)
    assert pacer.delay() == 0.0 and pacer.pace == FAST
    pacer.set(WATCH)
    assert pacer.delay() == pytest.approx(0.01)


def test_a_pacer_tells_when_its_epochs_begin_over_an_epoch_late():
    clock = [0.0]
    pacer = Pacer(WATCH, clock=lambda: clock[0])
    for _ in range(50):  # on time: each epoch begins when it may
        clock[0] += pacer.delay()
        pacer.started()
    assert not pacer.behind
    for _ in range(50):  # starved: every epoch begins three intervals after the previous one
        clock[0] += 3 * pacer.interval
        pacer.started()
    assert pacer.behind
    assert not Pacer(FAST).behind
