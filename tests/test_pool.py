"""The training pool: worker processes, the queue, commands, the watchdog and crashed workers.

One real pool (spawned processes) serves the whole module; tests wait on events and snapshots, never
on the clock, except for generous upper bounds that only catch hangs.
"""
import os
import signal
import time

import pytest

from playground.config import TrainConfig
from playground.engine import Engine
from playground.pool import CRASHED, YIELDED, TrainingPool, default_workers, idle_seconds, queue_message
from playground.race import Race
from playground.runner import COMPLETED, FAILED, PAUSED, QUEUED, STOPPED, TrainingRunner

HANG_S = 120  # only to turn a hang into a failure


@pytest.fixture(scope="module")
def pool():
    pool = TrainingPool(1, abandoned_seconds=HANG_S)  # tests that do not poll their queued runs keep them
    yield pool
    pool.close()


def spiral(**changes) -> TrainConfig:
    base = {"dataset": {"name": "spiral", "classes": 3, "n_per_class": 20, "noise": 0.2, "seed": 1},
            "layers": [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}],
            "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 20, "seed": 1}
    return TrainConfig.from_dict({**base, **changes})


def endless() -> TrainConfig:
    """Runs until stopped: long epochs of single-sample batches."""
    return spiral(dataset={"name": "spiral", "classes": 3, "n_per_class": 4000, "seed": 1}, batch_size=1,
                  epochs=1000)


def wait_for(condition, what: str):
    deadline = time.monotonic() + HANG_S
    while not (value := condition()):
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)
    return value


def finish(run) -> None:
    run.join(HANG_S)
    assert not run.active


def test_a_pooled_run_matches_the_same_run_in_process(pool):
    saved = []
    run = pool.run(spiral(), on_end=saved.append).start()
    finish(run)
    local = TrainingRunner(spiral()).start()
    local.join()
    snap = run.snapshot()
    assert snap.status == COMPLETED and snap.epoch == 20
    assert snap.final == {**local.snapshot().final, "epochs_per_second": snap.final["epochs_per_second"]}
    assert snap.history.train_loss == local.snapshot().history.train_loss
    assert len(saved) == 1 and saved[0].status == COMPLETED and saved[0].history == snap.history


def test_the_finished_model_is_rebuilt_here(pool):
    run = pool.run(spiral()).start()
    assert run.engine is None  # not while it trains
    finish(run)
    engine = run.engine
    assert isinstance(engine, Engine) and engine.evaluate("test").accuracy == run.snapshot().final["test_accuracy"]
    assert run.engine is engine


def test_jobs_beyond_the_pool_wait_in_line_and_see_their_place(pool):
    first = pool.run(endless()).start()
    wait_for(lambda: first.snapshot().epoch or first.snapshot().history.batch_epochs, "the first run to train")
    second, third = pool.run(spiral()).start(), pool.run(spiral()).start()
    assert (second.snapshot().status, second.snapshot().place) == (QUEUED, 1)
    assert third.snapshot().place == 2 and "1 ahead of you" in third.snapshot().message
    second.stop()  # leaving the queue moves everyone behind up
    assert second.snapshot().status == STOPPED and "before it started" in second.snapshot().message
    assert third.snapshot().place == 1 and "you are next" in third.snapshot().message
    first.stop()
    finish(third)
    assert third.snapshot().status == COMPLETED
    assert first.snapshot().status == STOPPED


def test_stop_ends_a_long_epoch_within_a_batch(pool):
    run = pool.run(endless()).start()
    wait_for(lambda: run.snapshot().history.batch_epochs, "the first in-epoch report")
    run.stop()
    finish(run)
    snap = run.snapshot()
    assert snap.status == STOPPED and snap.epoch <= 1  # the first epoch (of 10,000 batches) was cut short


def test_commands_reach_the_worker(pool):
    run = pool.run(spiral(epochs=50)).start(paused=True)
    run.step(3)  # given while it may still be queued or starting: replayed in order
    wait_for(lambda: run.snapshot().epoch == 3 and run.snapshot().status == PAUSED, "three stepped epochs")
    run.set_learning_rate(0.05)
    run.resume()
    assert not run.paused and run.requested_lr == 0.05
    finish(run)
    assert run.snapshot().lr == pytest.approx(0.05) and run.snapshot().status == COMPLETED


def test_nobody_watching_stops_the_run_and_frees_the_worker(pool):
    idle = pool.run(spiral(epochs=100_000), idle_pause=1.0, idle_end=1.0).start()
    waiting = pool.run(spiral()).start()
    finish(idle)  # nobody calls snapshot(): the watchdog ends it
    assert idle.snapshot().status == STOPPED and "nobody watched" in idle.snapshot().message
    finish(waiting)
    assert waiting.snapshot().status == COMPLETED


def test_a_watched_run_is_not_stopped_by_the_watchdog(pool):
    run = pool.run(spiral(epochs=100_000), idle_pause=2.5, idle_end=2.5).start()  # > SEEN_SECONDS + a poll
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:  # a page polling 2.5 times a second
        assert run.snapshot().status != STOPPED
        time.sleep(0.4)
    run.stop()
    finish(run)
    assert "nobody watched" not in run.snapshot().message


def test_a_worker_that_dies_fails_its_job_and_is_replaced(pool):
    saved = []
    run = pool.run(endless(), on_end=saved.append).start()
    wait_for(lambda: run.snapshot().history.batch_epochs, "the run to train")
    os.kill(pool._slots[0]._process.pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    finish(run)
    assert run.snapshot().status == FAILED and run.snapshot().message == CRASHED
    assert saved == []  # nothing finished to save
    after = pool.run(spiral()).start()
    finish(after)
    assert after.snapshot().status == COMPLETED


def test_a_config_that_cannot_train_fails_with_its_reason(pool):
    huge_batch = spiral(dataset={"name": "mnist"}, layers=[
        {"type": "conv2d", "out": 512, "kernel": 3, "padding": 1}, {"type": "relu"}, {"type": "flatten"},
        {"type": "linear"}], batch_size=0, epochs=1)
    run = pool.run(huge_batch).start()
    finish(run)
    assert run.snapshot().status == FAILED and "set the batch size to at most" in run.snapshot().message


def test_a_race_runs_in_the_pool_and_is_saved_here(pool):
    entrants = (("Adam", spiral(epochs=5)), ("SGD", spiral(epochs=5, optimizer={"name": "sgd", "lr": 0.01})))
    saved = []
    race = pool.race(entrants, on_end=saved.append).start()
    finish(race)
    local = Race(entrants).start()
    local.join()
    snap = race.snapshot()
    assert snap.status == COMPLETED and [e.status for e in snap.entrants] == [COMPLETED, COMPLETED]
    assert [e.history.train_loss for e in snap.entrants] == [e.history.train_loss for e in local.snapshot().entrants]
    assert len(saved) == 1 and saved[0].entrants == snap.entrants


def test_a_failed_save_is_told_in_the_message(pool):
    def broken(snap):
        raise OSError("disk full")

    run = pool.run(spiral(epochs=2), on_end=broken).start()
    finish(run)
    assert run.snapshot().status == COMPLETED and "could not be saved for the Runs page: disk full" in run.snapshot().message


def test_closing_the_pool_stops_its_jobs():
    pool = TrainingPool(1)
    running, queued = pool.run(endless()).start(), pool.run(spiral()).start()
    wait_for(lambda: running.snapshot().history.batch_epochs, "the run to train")
    pool.close()
    assert running.snapshot().status == STOPPED and queued.snapshot().status == STOPPED
    with pytest.raises(RuntimeError, match="closed"):
        pool.run(spiral()).start()


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_WORKERS", "3")
    monkeypatch.setenv("PLAYGROUND_IDLE_SECONDS", "12.5")
    assert default_workers() == 3 and idle_seconds() == 12.5
    monkeypatch.delenv("PLAYGROUND_WORKERS")
    monkeypatch.delenv("PLAYGROUND_IDLE_SECONDS")
    assert default_workers() >= 1 and idle_seconds() == 90.0
    monkeypatch.setenv("PLAYGROUND_WORKERS", "two")
    with pytest.raises(ValueError, match="PLAYGROUND_WORKERS must be a whole number"):
        default_workers()


def test_the_queue_message_says_where_you_are():
    assert queue_message(1, 2) == ("Waiting for a free training slot: you are next. "
                                   "This server runs 2 trainings at a time; yours starts by itself.")
    assert "3 ahead of you" in queue_message(4, 1) and "one training at a time" in queue_message(4, 1)


def test_workers_that_cannot_start_fail_jobs_with_a_message(monkeypatch):
    monkeypatch.setattr("playground.pool.sys.executable", "/bin/false")  # every start exits at once
    pool = TrainingPool(1)
    try:
        run = pool.run(spiral()).start()
        finish(run)
        assert run.snapshot().status == FAILED and "cannot start on this server" in run.snapshot().message
    finally:
        pool.close()


def test_a_run_left_paused_gives_its_worker_to_those_waiting(pool, monkeypatch):
    monkeypatch.setattr("playground.pool.PAUSED_YIELD_SECONDS", 0.5)
    paused = pool.run(spiral(epochs=1000)).start(paused=True)
    wait_for(lambda: paused.snapshot().status == PAUSED, "the run to pause")
    time.sleep(2.0)  # paused, but nobody is waiting: it keeps its worker
    assert paused.snapshot().status == PAUSED
    waiting = pool.run(spiral()).start()
    finish(paused)
    assert paused.snapshot().status == STOPPED and paused.snapshot().message == YIELDED
    finish(waiting)
    assert waiting.snapshot().status == COMPLETED
