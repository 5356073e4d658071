"""Live pages poll as their pace asks until together they would take more than a share of the server."""
import pytest

from playground.pollrate import DRIFT, FIRST_GUESS, MEASURE_SECONDS, SHARE, WINDOW_SECONDS, PollMeter, drifted


class Machine:
    """A clock and the server's CPU seconds, both moved by the test."""

    def __init__(self):
        self.now, self.cpu_seconds = 100.0, 10.0

    def meter(self) -> PollMeter:
        return PollMeter(clock=lambda: self.now, cpu=lambda: self.cpu_seconds)


def poll_for(machine: Machine, meter: PollMeter, seconds: float, pages: int, per_poll: float, every: float):
    """`pages` pages each polling every `every` s for `seconds`, each poll costing the server `per_poll` s."""
    for _ in range(round(seconds / every)):
        machine.now += every
        for page in range(pages):
            machine.cpu_seconds += per_poll
            meter.record(str(page))


def test_a_few_cheap_pages_poll_at_their_pace():
    machine = Machine()
    meter = machine.meter()
    poll_for(machine, meter, 5, pages=3, per_poll=0.004, every=0.15)
    assert meter.live_pages() == 3 and meter.interval(0.15) == 0.15


def test_a_class_of_pages_is_stretched_so_polls_take_at_most_the_share():
    machine = Machine()
    meter = machine.meter()
    poll_for(machine, meter, 20, pages=30, per_poll=0.010, every=0.15)  # would be 2 s of CPU a second
    assert meter.seconds == pytest.approx(0.010, rel=0.05)
    wanted = meter.interval(0.15)
    assert wanted == pytest.approx(30 * meter.seconds / SHARE)  # ~0.6 s: 30 x 10 ms is half of each second
    assert 30 * meter.seconds / wanted == pytest.approx(SHARE)


def test_the_cost_counts_everything_the_process_spent_between_polls():
    machine = Machine()
    meter = machine.meter()
    machine.now += MEASURE_SECONDS
    machine.cpu_seconds += 0.5  # Streamlit's own work for 10 polls, outside their scripts
    for page in range(10):
        meter.record(str(page))
    assert meter.seconds > 0.02  # half of 0.05 s a poll: the running mean moved halfway from the first guess


def test_pages_that_stopped_polling_no_longer_count():
    machine = Machine()
    meter = machine.meter()
    poll_for(machine, meter, 1, pages=30, per_poll=0.001, every=0.5)
    machine.now += WINDOW_SECONDS + 0.1
    meter.record("still here")
    assert meter.live_pages() == 1


def test_before_any_poll_a_page_counts_itself_at_the_first_guess():
    assert Machine().meter().interval(0.0) == pytest.approx(FIRST_GUESS / SHARE)


def test_a_page_re_registers_only_when_the_wanted_interval_is_far_from_its_own():
    assert not drifted(0.15, 0.15 * DRIFT * 0.99) and drifted(0.15, 0.15 * DRIFT * 1.01)
    assert drifted(0.6, 0.15) and not drifted(0.2, 0.15)
