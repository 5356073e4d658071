"""Runners in a stack group: each run's curves equal its solo run; pausing, stepping, changing the pace or
stopping leaves the stack and the numbers still equal a solo run given the same commands at that epoch.

No timed assertions: tests wait on snapshots, with generous bounds that only turn a hang into a failure.
"""
import time

import pytest

from playground.config import TrainConfig
from playground.engine import Engine
from playground.pace import FAST, WATCH
from playground.presets import RELU_NET
from playground.progress import COMPLETED, DIVERGED, PAUSED, STOPPED
from playground.runner import TrainingRunner
from playground.stack_group import StackGroup, StackMember

HANG_S = 60
RUNS = [(1, 0.01), (2, 0.003), (3, 0.02)]  # (seed, learning rate)


def spiral(seed: int = 1, lr: float = 0.01, epochs: int = 6, **changes) -> TrainConfig:
    """The default spiral and the ReLU-net preset with mini-batches of 64 (37 an epoch), on the CPU."""
    return TrainConfig.from_dict({"layers": RELU_NET.stack(), "seed": seed, "batch_size": 64, "epochs": epochs,
                                  "device": "cpu", "optimizer": {"name": "adam", "lr": lr}, **changes})


def wait_until(condition, what: str):
    deadline = time.monotonic() + HANG_S
    while not (value := condition()):
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)
    return value


def finished(runner: TrainingRunner):
    runner.join(HANG_S)
    assert not runner.active
    return runner.snapshot()


def stacked(group: StackGroup, configs: list[TrainConfig], **options) -> list[TrainingRunner]:
    return [TrainingRunner(config, engine_factory=group.join, **options).start() for config in configs]


def solo(config: TrainConfig, **options) -> TrainingRunner:
    return TrainingRunner(config, **options).start()


def assert_same_history(a, b) -> None:
    """Same epochs and evaluated epochs; every loss and score within rel 1e-4."""
    assert a.epochs == b.epochs and a.eval_epochs == b.eval_epochs
    for name in ("train_loss", "train_score", "test_loss", "test_score"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-4), name


def engine_losses(config: TrainConfig, epochs: int, lr_from: tuple[int, float] | None = None) -> list[float]:
    """Train losses of a solo Engine for `epochs` epochs; `lr_from` (epoch, lr): the rate set after that epoch."""
    engine, losses = Engine(config), []
    while engine.epoch < epochs:
        if lr_from and engine.epoch == lr_from[0]:
            engine.set_learning_rate(lr_from[1])
        losses.append(engine.train_epoch().train.loss)
    return losses


def test_each_stacked_run_equals_its_solo_run():
    group = StackGroup()
    configs = [spiral(seed, lr) for seed, lr in RUNS] + [spiral(4, 0.01, epochs=3)]  # one finishes early
    runners = stacked(group, configs)
    assert all(isinstance(runner.engine, StackMember) for runner in runners if runner.engine is not None)
    for runner, config in zip(runners, configs):
        snap, alone = finished(runner), finished(solo(config))
        assert snap.status == COMPLETED and snap.message == alone.message
        assert_same_history(snap.history, alone.history)
        assert snap.final.keys() == alone.final.keys()
        for name in ("train_loss", "test_loss", "train_accuracy", "test_accuracy"):
            assert snap.final[name] == pytest.approx(alone.final[name], rel=1e-4)
        assert snap.frame.epoch == config.epochs and snap.timeline.frames[-1].epoch == config.epochs
        assert snap.weights.keys() == alone.weights.keys()
    assert len(group) == 0 and isinstance(runners[0].engine, StackMember) and runners[0].engine.solo is not None


def test_a_learning_rate_change_stays_in_the_stack_and_applies_from_the_next_epoch():
    group = StackGroup()
    first, second = stacked(group, [spiral(seed, lr, epochs=400) for seed, lr in RUNS[:2]])
    wait_until(lambda: first.snapshot().epoch >= 2, "two epochs")
    first.set_learning_rate(0.05)
    wait_until(lambda: first.snapshot().lr == 0.05, "the new rate in use")
    changed = first.snapshot().epoch
    wait_until(lambda: first.snapshot().epoch >= changed + 2, "two more epochs")
    wait_until(lambda: first.engine.solo is None and len(group) == 2, "both stacked")  # a new rate stays in
    for runner in (first, second):
        runner.stop()
    snap = finished(first)
    plain = engine_losses(spiral(*RUNS[0], epochs=400), snap.epoch)
    applied = next(i for i, (a, b) in enumerate(zip(snap.history.train_loss, plain)) if a != pytest.approx(b, rel=1e-4))
    assert 2 <= applied < changed  # set after epoch 2, in use by the epoch `changed`
    expected = engine_losses(spiral(*RUNS[0], epochs=400), snap.epoch, lr_from=(applied, 0.05))
    assert snap.history.train_loss == pytest.approx(expected, rel=1e-4)


def test_a_member_that_pauses_leaves_the_stack_and_equals_a_solo_run_given_the_same_commands():
    group = StackGroup()
    configs = [spiral(seed, lr, epochs=20) for seed, lr in RUNS]
    runners = stacked(group, configs)
    wait_until(lambda: runners[0].snapshot().epoch >= 3, "three epochs")
    runners[0].pause()
    paused = wait_until(lambda: runners[0].snapshot().status == PAUSED and runners[0].snapshot(), "the pause")
    wait_until(lambda: runners[0].engine.solo is not None, "it to leave the stack")  # the others go on without it
    runners[0].set_learning_rate(0.05)
    runners[0].resume()
    reference = TrainingRunner(configs[0]).start(paused=True)
    reference.step(paused.epoch)
    wait_until(lambda: reference.snapshot().status == PAUSED and reference.snapshot().epoch == paused.epoch, "steps")
    reference.set_learning_rate(0.05)
    reference.resume()
    assert_same_history(finished(runners[0]).history, finished(reference).history)
    for runner, config in zip(runners[1:], configs[1:]):
        assert_same_history(finished(runner).history, finished(solo(config)).history)


def test_step_and_a_pace_change_leave_the_stack_and_change_no_number():
    group = StackGroup()
    configs = [spiral(seed, lr, epochs=15) for seed, lr in RUNS]
    runners = stacked(group, configs)
    wait_until(lambda: all(runner.snapshot().epoch >= 2 for runner in runners[:2]), "two epochs each")
    runners[0].step(2)
    runners[1].set_pace(WATCH)
    wait_until(lambda: runners[0].snapshot().status == PAUSED, "the end of the step")
    wait_until(lambda: runners[1].engine.solo is not None, "the paced run to leave the stack")
    runners[0].resume()
    runners[1].set_pace(FAST)
    for runner, config in zip(runners, configs):
        assert_same_history(finished(runner).history, finished(solo(config)).history)
    assert runners[0].engine.solo is not None and len(group) == 0


def test_stop_keeps_what_it_trained_and_the_others_go_on():
    group = StackGroup()
    configs = [spiral(seed, lr, epochs=400 if seed == 1 else 8) for seed, lr in RUNS]
    runners = stacked(group, configs)
    wait_until(lambda: runners[0].snapshot().epoch >= 2, "two epochs")
    runners[0].stop()
    snap = finished(runners[0])
    assert snap.status == STOPPED and snap.epoch >= 2
    engine = Engine(configs[0])
    for _ in range(snap.epoch):
        engine.train_epoch()
    assert snap.history.train_loss == pytest.approx(engine_losses(configs[0], snap.epoch), rel=1e-4)
    expected = engine.final_metrics()
    for name in ("train_loss", "test_loss"):
        assert snap.final[name] == pytest.approx(expected[name], rel=1e-4)
    for runner, config in zip(runners[1:], configs[1:]):
        assert_same_history(finished(runner).history, finished(solo(config)).history)


def test_a_diverging_member_does_not_disturb_the_others():
    line = {"dataset": {"name": "linear_regression"}, "layers": [{"type": "linear"}], "loss": "mse",
            "epochs": 200, "device": "cpu"}
    configs = [TrainConfig.from_dict({**line, "seed": seed, "optimizer": {"name": "sgd", "lr": lr}})
               for seed, lr in ((1, 0.01), (2, 10.0), (3, 0.03))]
    runners = stacked(StackGroup(), configs)
    for runner, config in zip(runners, configs):
        snap, alone = finished(runner), finished(solo(config))
        assert (snap.status, snap.message, snap.epoch) == (alone.status, alone.message, alone.epoch)
        assert_same_history(snap.history, alone.history)
    assert runners[1].snapshot().status == DIVERGED and runners[0].snapshot().status == COMPLETED


def test_a_twin_of_a_stacked_run_trains_on_as_the_run_does():
    group = StackGroup()
    original, other = stacked(group, [spiral(seed, lr, epochs=30) for seed, lr in RUNS[:2]])
    wait_until(lambda: original.snapshot().epoch >= 1, "an epoch")
    twins = []
    original.fork(twins.append)
    (twin,) = wait_until(lambda: twins, "the twin")
    assert isinstance(twin.engine, Engine)  # the twin trains alone
    twin.start(paused=twin.paused)
    assert_same_history(finished(twin).history, finished(original).history)
    finished(other)


def test_a_run_from_a_checkpoint_trains_alone():
    state = Engine(spiral()).model.state_dict()
    runner = TrainingRunner(spiral(), initial_state=state, engine_factory=StackGroup().join).start()
    assert finished(runner).status == COMPLETED and isinstance(runner.engine, Engine)


def test_a_failing_stacked_epoch_fails_its_members_and_later_runs_train_alone(monkeypatch):
    from playground.batched import StackedTrainer

    def broken(self):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(StackedTrainer, "train_epoch", broken)
    group = StackGroup()
    runners = stacked(group, [spiral(seed, lr) for seed, lr in RUNS[:2]])
    ends = [finished(runner) for runner in runners]
    assert any(snap.status == "failed" and "out of memory" in snap.message for snap in ends)
    for runner, snap in zip(runners, ends):  # each failed with the stack, or came after and trained alone
        alone = not isinstance(runner.engine, StackMember) or runner.engine.solo is not None  # (a member not yet
        assert snap.status == "failed" or (snap.status == COMPLETED and alone)  # in the stack trains alone)
    later = stacked(group, [spiral()])[0]
    assert finished(later).status == COMPLETED and isinstance(later.engine, Engine)


def test_runs_train_alone_until_enough_train_on_then_enter_the_stack_and_leave_it_when_too_few():
    group = StackGroup(min_runs=2)
    first = stacked(group, [spiral(*RUNS[0], epochs=60)])[0]
    wait_until(lambda: first.snapshot().epoch >= 2, "two epochs alone")
    assert first.engine.solo is not None and len(group) == 0  # one run trains alone
    second = stacked(group, [spiral(*RUNS[1], epochs=10)])[0]
    wait_until(lambda: len(group) == 2, "both runs in the stack")  # the first entered mid-run, from its state
    finished(second)
    wait_until(lambda: first.engine.solo is not None, "the first to go on alone")  # one left: too few to stack
    assert_same_history(finished(first).history, finished(solo(spiral(*RUNS[0], epochs=60))).history)
    assert_same_history(second.snapshot().history, finished(solo(spiral(*RUNS[1], epochs=10))).history)


def test_a_member_that_resumes_enters_the_stack_again():
    group = StackGroup(min_runs=1)
    runner, other = stacked(group, [spiral(seed, lr, epochs=400) for seed, lr in RUNS[:2]])
    wait_until(lambda: runner.snapshot().epoch >= 2, "two epochs")
    runner.pause()
    wait_until(lambda: runner.snapshot().status == PAUSED and runner.engine.solo is not None, "the pause")
    runner.resume()
    wait_until(lambda: runner.engine.solo is None, "it to enter again")
    for each in (runner, other):
        each.stop()
    snap = finished(runner)
    assert snap.history.train_loss == pytest.approx(engine_losses(spiral(*RUNS[0], epochs=400), snap.epoch), rel=1e-4)
    finished(other)
