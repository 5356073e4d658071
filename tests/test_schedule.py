"""Whether a worker may take one more training: by the CPU its trainings use, not by a count."""
import pytest

from playground.schedule import MOST_JOBS, SETTLE_SECONDS, SHARED_CORES, WORKER_CORES, CpuMeter, Hosted, may_host

NOW = 1000.0
SETTLED = NOW - SETTLE_SECONDS - 1  # started long enough ago that heartbeats have measured it


def test_an_idle_worker_takes_anything():
    assert may_host(True, [], 0.0, NOW) and may_host(False, [], 0.0, NOW)


def test_a_fast_run_or_race_has_its_worker_to_itself():
    assert not may_host(True, [Hosted(False, SETTLED)], 0.0, NOW)  # nothing joins a fast run
    assert not may_host(False, [Hosted(True, SETTLED)], 0.0, NOW)  # a fast run joins no one


def test_paced_runs_share_a_worker_while_the_measured_cpu_allows():
    settled = [Hosted(True, SETTLED)] * 2
    assert may_host(True, settled, WORKER_CORES - SHARED_CORES - 1e-9, NOW)
    assert not may_host(True, settled, WORKER_CORES - SHARED_CORES + 0.01, NOW)


def test_runs_just_started_count_by_their_estimate_until_measured():
    just_started = [Hosted(True, NOW - 0.5)] * 2  # heartbeats have not measured them: 2 x SHARED_CORES
    assert may_host(True, just_started, 0.0, NOW) == (3 * SHARED_CORES <= WORKER_CORES)
    assert not may_host(True, [Hosted(True, NOW)] * 3, 0.0, NOW)


def test_however_little_they_use_a_worker_hosts_at_most_so_many():
    assert may_host(True, [Hosted(True, SETTLED)] * (MOST_JOBS - 1), 0.0, NOW)
    assert not may_host(True, [Hosted(True, SETTLED)] * MOST_JOBS, 0.0, NOW)


def test_the_meter_turns_cpu_seconds_per_heartbeat_into_cores():
    meter = CpuMeter()
    assert meter.beat(10.0, 100.0) == 0.0  # the first beat only sets the origin
    for second in range(1, 20):  # half a core, steadily
        meter.beat(10.0 + 0.5 * second, 100.0 + second)
    assert meter.cores == pytest.approx(0.5, abs=1e-3)
    meter.beat(10.0 + 0.5 * 19, 100.0 + 20)  # a quiet second pulls the estimate down, smoothly
    assert 0.2 < meter.cores < 0.5
    meter.reset()
    assert meter.cores == 0.0 and meter.beat(0.0, 200.0) == 0.0  # a new process: a new origin
