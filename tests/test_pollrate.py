"""Live pages poll as their pace asks until together they would take more than a share of the server."""
import pytest

from playground.pollrate import DRIFT, FIRST_GUESS, SHARE, WINDOW_SECONDS, PollMeter, drifted


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_few_cheap_pages_poll_at_their_pace():
    meter = PollMeter(Clock())
    for page in "abc":
        meter.record(page, 0.004)
    assert meter.live_pages() == 3 and meter.interval(0.15) == 0.15


def test_a_class_of_pages_is_stretched_so_polls_take_at_most_the_share():
    meter = PollMeter(Clock())
    for _ in range(100):  # a heavy page: each poll takes 10 ms of CPU
        for page in range(30):
            meter.record(str(page), 0.010)
    assert meter.seconds == pytest.approx(0.010, rel=1e-3)
    wanted = meter.interval(0.15)
    assert wanted == pytest.approx(30 * 0.010 / SHARE)  # 0.6 s: 30 pages x 10 ms = half of each second
    assert 30 * meter.seconds / wanted == pytest.approx(SHARE)


def test_pages_that_stopped_polling_no_longer_count():
    clock = Clock()
    meter = PollMeter(clock)
    for page in range(30):
        meter.record(str(page), 0.010)
    clock.now += WINDOW_SECONDS + 0.1
    meter.record("still here", 0.010)
    assert meter.live_pages() == 1


def test_before_any_poll_a_page_counts_itself_at_the_first_guess():
    assert PollMeter(Clock()).interval(0.0) == pytest.approx(FIRST_GUESS / SHARE)


def test_a_page_re_registers_only_when_the_wanted_interval_is_far_from_its_own():
    assert not drifted(0.15, 0.15 * DRIFT * 0.99) and drifted(0.15, 0.15 * DRIFT * 1.01)
    assert drifted(0.6, 0.15) and not drifted(0.2, 0.15)
