"""The pool stacks same-shaped fast runs in one worker; the rule of which runs stack (`stacking`).

One real pool (a spawned worker process) serves the pool tests; they wait on snapshots, never on the
clock, except for generous bounds that only turn a hang into a failure.
"""
import time

import pytest

from playground import settings
from playground.config import TrainConfig
from playground.pace import WATCH
from playground.pool import TrainingPool
from playground.presets import RELU_NET
from playground.progress import COMPLETED, PAUSED, QUEUED
from playground.runner import TrainingRunner
from playground.schedule import Hosted, may_host
from playground.stacking import MAX_BATCHES, MAX_STACK, MIN_BATCHES_ON_CPU, stack_key, why_not_stacked

HANG_S = 120
NOW = 1000.0


def spiral(seed: int = 1, lr: float = 0.01, epochs: int = 8, batch_size: int = 64, **changes) -> TrainConfig:
    """The default spiral (2,400 training points) and the ReLU-net preset, on the CPU."""
    return TrainConfig.from_dict({"layers": RELU_NET.stack(), "seed": seed, "batch_size": batch_size,
                                  "epochs": epochs, "device": "cpu", "optimizer": {"name": "adam", "lr": lr},
                                  **changes})


@pytest.fixture(scope="module")
def pool():
    pool = TrainingPool(1, abandoned_seconds=HANG_S, live_limit=8, stack=True)
    deadline = time.monotonic() + HANG_S
    while not pool.ready:  # a worker that has warmed up takes the runs as they come
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.05)
    yield pool
    pool.close()


def finish(run):
    run.join(HANG_S)
    assert not run.active
    return run.snapshot()


def solo_history(config: TrainConfig):
    runner = TrainingRunner(config).start()
    runner.join(HANG_S)
    return runner.snapshot().history


def assert_same_history(a, b) -> None:
    assert a.epochs == b.epochs and a.eval_epochs == b.eval_epochs
    for name in ("train_loss", "train_score", "test_loss", "test_score"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-4), name


# --- the pool ---------------------------------------------------------------------------------------

def test_stackable_fast_runs_share_one_worker_at_once_and_each_is_saved_as_its_solo_run(pool):
    saved = []
    configs = [spiral(seed, lr, epochs=12) for seed, lr in ((1, 0.01), (2, 0.003), (3, 0.02), (4, 0.03))]
    runs = [pool.run(config, on_end=saved.append).start() for config in configs]
    assert [run.snapshot().status != QUEUED for run in runs] == [True] * 4  # one worker, all four at once
    assert len({run.stack for run in runs}) == 1 and runs[0].stack is not None
    for run, config in zip(runs, configs):
        snap = finish(run)
        assert snap.status == COMPLETED and snap.epoch == config.epochs
        assert_same_history(snap.history, solo_history(config))
        assert run.engine.evaluate("test").loss == pytest.approx(snap.final["test_loss"], rel=1e-6)
    assert len(saved) == 4 and {s.history.train_loss[0] for s in saved} == {r.snapshot().history.train_loss[0]
                                                                            for r in runs}


def test_a_member_paused_in_the_pool_goes_on_alone_and_equals_its_solo_run(pool):
    """Four stacked runs; one pauses (the stack, now too small, trains each alone) and resumes (all four
    stack again): every run still equals its solo run."""
    configs = [spiral(seed, 0.01, epochs=40) for seed in (1, 2, 3, 4)]
    runs = [pool.run(config).start() for config in configs]
    deadline = time.monotonic() + HANG_S
    while runs[0].snapshot().epoch < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    runs[0].pause()
    while runs[0].snapshot().status != PAUSED:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    runs[0].resume()
    for run, config in zip(runs, configs):
        assert_same_history(finish(run).history, solo_history(config))


def test_a_full_batch_run_does_not_join_and_waits_for_the_fast_stack(pool):
    stacked = pool.run(spiral(epochs=400)).start()
    alone = pool.run(spiral(epochs=3, batch_size=0)).start()
    assert stacked.stack is not None and alone.stack is None
    assert alone.snapshot().status == QUEUED  # a fast run of its own would share the worker with the stack
    stacked.stop()
    assert finish(alone).status == COMPLETED


def test_a_pool_without_stacking_trains_every_run_alone():
    pool = TrainingPool(1, live_limit=8, stack=False)
    try:
        run = pool.run(spiral()).start()
        assert run.stack is None
        run.stop()
    finally:
        pool.close()


def test_the_worker_routes_runs_asked_to_stack_into_one_group_per_key():
    from playground.stacking import MIN_STACK
    from playground.worker import HostedJobs

    class Connection:
        def send_bytes(self, data: bytes) -> None:
            pass

    hosted = HostedJobs(Connection())
    for job_id, seed in ((1, 1), (2, 2)):
        hosted.start(job_id, "runner", {"config": spiral(seed, epochs=2)}, {"paused": False, "stack": True})
    hosted.start(3, "runner", {"config": spiral(epochs=2)}, {"paused": False})
    (group,) = hosted.groups.values()
    assert group.min_runs == MIN_STACK["cpu"]
    assert [hosted.jobs[i].job.engine_factory for i in (1, 2, 3)] == [group.join, group.join, None]
    for job in list(hosted.jobs.values()):
        job.job.join(HANG_S)
        hosted.finish(job, job.job.snapshot(touch=False))
    assert hosted.groups == {} and hosted.jobs == {}


# --- the rule ---------------------------------------------------------------------------------------

def test_a_mini_batch_fast_run_stacks_with_runs_of_other_seeds_and_rates():
    assert why_not_stacked(spiral()) is None
    assert stack_key(spiral()) == stack_key(spiral(seed=7, lr=0.2, epochs=3)) is not None
    assert stack_key(spiral()) != stack_key(spiral(batch_size=32))


@pytest.mark.parametrize("config, options, reason", [
    (spiral(batch_size=0), {}, "slower stacked"),  # full batch on the CPU (benchmarks/batching.py: 0.35-0.64x)
    (spiral(batch_size=1), {}, f"over {MAX_BATCHES}"),  # 2,400 batches: no in-epoch reports stacked
    (spiral(layers=[{"type": "linear", "out": 16}, {"type": "dropout", "p": 0.5}, {"type": "linear"}]), {},
     "Dropout"),
    (spiral(layers=[{"type": "linear", "out": 16}, {"type": "batchnorm1d"}, {"type": "relu"}, {"type": "linear"}]),
     {}, "BatchNorm"),
    (spiral(), {"pace": WATCH}, "fast pace"),
], ids=["full batch", "long epoch", "dropout", "batchnorm", "watch pace"])
def test_runs_that_do_not_pay_or_cannot_stack_train_alone(config, options, reason):
    assert reason in why_not_stacked(config, options)
    assert stack_key(config, options) is None


def test_a_run_from_a_checkpoint_or_started_paused_trains_alone():
    assert "checkpoint" in why_not_stacked(spiral(), initial_state={})
    assert stack_key(spiral(), paused=True) is None


def test_the_cpu_threshold_is_a_number_of_batches_an_epoch():
    few = spiral(batch_size=2400 // (MIN_BATCHES_ON_CPU - 1))  # fewer batches than the threshold
    assert "slower stacked" in why_not_stacked(few)
    assert why_not_stacked(spiral(batch_size=2400 // MIN_BATCHES_ON_CPU)) is None


def test_a_stack_takes_runs_of_its_key_until_it_is_full():
    key, other = ("a",), ("b",)
    assert may_host(False, [Hosted(False, NOW, key)], 0.9, NOW, new_stack=key)
    assert not may_host(False, [Hosted(False, NOW, key)] * MAX_STACK, 0.0, NOW, new_stack=key)
    assert not may_host(False, [Hosted(False, NOW, key)], 0.0, NOW, new_stack=other)
    assert not may_host(False, [Hosted(False, NOW)], 0.0, NOW, new_stack=key)  # a fast run alone is no stack
    assert not may_host(False, [Hosted(False, NOW, key)], 0.0, NOW)  # nor does a run that does not stack join


def test_stacking_is_on_unless_the_environment_turns_it_off(monkeypatch):
    monkeypatch.delenv("PLAYGROUND_STACK", raising=False)
    assert settings.stacking()
    for off in ("0", "false", "No"):
        monkeypatch.setenv("PLAYGROUND_STACK", off)
        assert not settings.stacking()
