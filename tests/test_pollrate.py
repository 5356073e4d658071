"""Live pages poll as their pace asks until the server gets busy; then every page polls less often."""
from playground.pollrate import (
    CALM,
    DRIFT,
    MEASURE_SECONDS,
    MOST_STRETCH,
    SHARE,
    STEP,
    WINDOW_SECONDS,
    PollMeter,
    drifted,
)


class Machine:
    """A clock and the server's CPU seconds, both moved by the test."""

    def __init__(self):
        self.now, self.cpu_seconds = 100.0, 10.0

    def meter(self) -> PollMeter:
        return PollMeter(clock=lambda: self.now, cpu=lambda: self.cpu_seconds)

    def run(self, meter: PollMeter, seconds: int, busy: float, pages: int = 30) -> None:
        """`seconds` of the process using `busy` cores while `pages` poll."""
        for _ in range(seconds):
            self.now += MEASURE_SECONDS
            self.cpu_seconds += busy * MEASURE_SECONDS
            for page in range(pages):
                meter.record(str(page))


def test_a_server_with_room_lets_pages_poll_at_their_pace():
    machine = Machine()
    meter = machine.meter()
    machine.run(meter, 10, busy=SHARE * CALM * 0.9)
    assert meter.stretch == 1.0 and meter.interval(0.15) == 0.15 and meter.live_pages() == 30


def test_a_busy_server_stretches_every_pages_interval_step_by_step_up_to_a_bound():
    machine = Machine()
    meter = machine.meter()
    machine.run(meter, 2, busy=1.0)
    assert meter.interval(0.15) == 0.15 * STEP * STEP
    machine.run(meter, 60, busy=1.0)
    assert meter.stretch == MOST_STRETCH


def test_between_calm_and_busy_the_stretch_holds_and_when_calm_it_shrinks_back():
    machine = Machine()
    meter = machine.meter()
    machine.run(meter, 3, busy=1.0)
    held = meter.stretch
    machine.run(meter, 5, busy=SHARE * (1 + CALM) / 2)
    assert meter.stretch == held
    machine.run(meter, 30, busy=0.05)
    assert meter.stretch == 1.0


def test_pages_that_stopped_polling_no_longer_count():
    machine = Machine()
    meter = machine.meter()
    machine.run(meter, 1, busy=0.1)
    machine.now += WINDOW_SECONDS + 0.1
    meter.record("still here")
    assert meter.live_pages() == 1


def test_a_page_re_registers_only_when_the_wanted_interval_is_far_from_its_own():
    assert not drifted(0.15, 0.15 * DRIFT * 0.99) and drifted(0.15, 0.15 * DRIFT * 1.01)
    assert drifted(0.6, 0.15) and not drifted(0.2, 0.15)


def test_polls_cut_short_stretch_the_intervals_even_where_the_cpu_reads_calm():
    """Overloaded, each page's poll is cut short by its next one: none ends, each is counted as it begins."""
    machine = Machine()
    meter = machine.meter()
    machine.now += MEASURE_SECONDS
    meter.record("a", cut=True)  # the window closes with a cut poll in it
    assert meter.stretch == STEP
    machine.now += MEASURE_SECONDS
    machine.cpu_seconds += SHARE * CALM * 0.5 * MEASURE_SECONDS
    meter.record("a")  # a calm window without cuts shrinks it back
    assert meter.stretch == 1.0
