"""Stacked runs: each run's curves equal its solo Engine run; joining, leaving, divergence; the batching rule."""
import math

import numpy as np
import pytest
import torch

from playground.batched import StackedTrainer, batch_key, can_batch, why_not_batched
from playground.config import TrainConfig
from playground.engine import Diverged, Engine, EpochEnd
from playground.functional_optim import FUNCTIONAL
from playground.optim import OPTIMIZERS
from playground.presets import RELU_NET
from playground.stacking import stack_key, why_not_stacked

EPOCHS = 5
# Three runs of the default spiral preset: different seeds, learning rates, weight decay, momentum.
RUNS = [dict(seed=1, lr=0.01, weight_decay=0.0, momentum=0.0),
        dict(seed=2, lr=0.003, weight_decay=0.01, momentum=0.9),
        dict(seed=3, lr=0.02, weight_decay=0.001, momentum=0.5)]


def spiral(optimizer: str = "adam", seed: int = 1, lr: float = 0.01, weight_decay: float = 0.0,
           momentum: float = 0.0, batch_size: int = 0, epochs: int = EPOCHS, **changes) -> TrainConfig:
    """The default spiral with the ReLU-net preset (what the Playground starts with), on the CPU."""
    options = {"momentum": momentum} if "momentum" in OPTIMIZERS[optimizer].options else {}
    return TrainConfig.from_dict({"layers": RELU_NET.stack(), "seed": seed, "batch_size": batch_size,
                                  "epochs": epochs, "device": "cpu",
                                  "optimizer": {"name": optimizer, "lr": lr, "weight_decay": weight_decay, **options},
                                  **changes})


def solo_events(config: TrainConfig, epochs: int | None = None) -> list:
    engine = Engine(config)
    events = []
    while engine.epoch < (epochs or config.epochs):
        events.append(engine.train_epoch())
        if isinstance(events[-1], Diverged):
            break
    return events


def stacked_events(trainer: StackedTrainer, epochs: int) -> dict[int, list]:
    events = {run: [] for run in trainer.run_ids}
    for _ in range(epochs):
        for run_event in trainer.train_epoch():
            events[run_event.run].append(run_event.event)
    return events


def assert_same_curve(stacked: list, solo: list) -> None:
    """Same epochs, learning rates, test cadence; losses and scores within float tolerance."""
    assert [type(e) for e in stacked] == [type(e) for e in solo]
    for a, b in zip(stacked, solo):
        assert a.epoch == b.epoch
        if isinstance(b, Diverged):
            assert a.message == b.message
            continue
        assert a.lr == b.lr
        assert a.train.loss == pytest.approx(b.train.loss, rel=1e-4)
        assert (a.train.accuracy is None) == (b.train.accuracy is None)
        assert (a.test is None) == (b.test is None)
        if b.test is not None:
            assert a.test.loss == pytest.approx(b.test.loss, rel=1e-4)
            assert a.test.accuracy == pytest.approx(b.test.accuracy, abs=2.5 / 600)  # two points at most
            assert a.train.accuracy == pytest.approx(b.train.accuracy, abs=2.5 / 2400)


@pytest.mark.parametrize("batch_size", [0, 500], ids=["full-batch", "mini-batch"])
@pytest.mark.parametrize("optimizer", sorted(FUNCTIONAL))
def test_each_run_follows_its_solo_engine_run(optimizer, batch_size):
    configs = [spiral(optimizer, batch_size=batch_size, **run) for run in RUNS]
    stacked = stacked_events(StackedTrainer(configs), EPOCHS)
    for run, config in enumerate(configs):
        assert_same_curve(stacked[run], solo_events(config))


def test_schedules_epoch_counts_and_test_cadence_are_per_run():
    """A cosine run, a step run and a long run (tested every 2nd epoch) in one stack."""
    configs = [spiral(schedule={"name": "cosine"}, epochs=8),
               spiral(seed=2, schedule={"name": "step", "step_size": 2, "gamma": 0.5}),
               spiral(seed=3, epochs=500)]
    trainer = StackedTrainer(configs)
    stacked = stacked_events(trainer, 8)
    assert trainer.run_ids == [2]  # the two shorter runs finished and left
    assert [e.test is not None for e in stacked[2]] == [True, True, False, True, False, True, False, True]
    for run, config in enumerate(configs):
        assert_same_curve(stacked[run], solo_events(config, min(8, config.epochs)))


def test_a_finished_run_leaves_with_its_weights_and_predictions():
    configs = [spiral(epochs=3), spiral(seed=2, epochs=5)]
    trainer = StackedTrainer(configs)
    grid = np.random.default_rng(0).uniform(-1, 1, (50, 2)).astype(np.float32)
    engine = Engine(configs[1])
    for _ in range(3):
        engine.train_epoch()
    events = [trainer.train_epoch() for _ in range(3)][-1]
    left = {e.run: e.left for e in events}
    assert left[0] is not None and left[0].epoch == 3 and left[1] is None
    np.testing.assert_allclose(trainer.predict(1, grid), engine.predict(grid), rtol=1e-4, atol=1e-6)
    for name, value in engine.model.state_dict().items():
        torch.testing.assert_close(trainer.state_dict(1)[name], value, rtol=1e-4, atol=1e-6)
    with pytest.raises(KeyError):
        trainer.predict(0, grid)


def test_runs_join_and_leave_between_epochs():
    """Run 1 leaves after 2 epochs and rejoins 2 epochs later from its snapshot; run 3 joins at its
    epoch 0 after 2 epochs: every curve still equals its solo run (mini-batches, SGD with momentum)."""
    configs = [spiral("sgd", batch_size=500, **run) for run in RUNS]
    joiner = spiral("sgd", seed=4, lr=0.05, momentum=0.8, batch_size=500, epochs=4)
    trainer = StackedTrainer(configs)
    events = stacked_events(trainer, 2)
    snapshot = trainer.remove(1)
    assert trainer.run_ids == [0, 2] and snapshot.epoch == 2
    new = trainer.add(joiner)
    events[new] = []
    for _ in range(2):
        for e in trainer.train_epoch():
            events[e.run].append(e.event)
    back = trainer.add(configs[1], snapshot)
    for _ in range(EPOCHS - 2):
        for e in trainer.train_epoch():
            events.setdefault(e.run, []).append(e.event)
    assert len(trainer) == 0
    assert_same_curve(events[0], solo_events(configs[0]))
    assert_same_curve(events[2], solo_events(configs[2]))
    assert_same_curve(events[new], solo_events(joiner))
    assert_same_curve(events[1] + events[back], solo_events(configs[1]))


def test_a_diverging_run_leaves_restored_and_the_others_go_on():
    line = {"dataset": {"name": "linear_regression"}, "layers": [{"type": "linear"}], "loss": "mse",
            "epochs": 200, "device": "cpu"}
    configs = [TrainConfig.from_dict({**line, "optimizer": {"name": "sgd", "lr": lr}}) for lr in (0.01, 10.0)]
    trainer = StackedTrainer(configs)
    events = stacked_events(trainer, 200)
    solo = [solo_events(c) for c in configs]
    assert isinstance(solo[1][-1], Diverged)
    assert_same_curve(events[1], solo[1])
    assert_same_curve(events[0], solo[0])
    assert all(isinstance(e, EpochEnd) for e in events[0]) and len(events[0]) == 200


def test_the_diverged_run_s_snapshot_is_the_engine_s_restored_model():
    line = {"dataset": {"name": "linear_regression"}, "layers": [{"type": "linear"}], "loss": "mse",
            "epochs": 200, "device": "cpu", "optimizer": {"name": "sgd", "lr": 10.0}}
    config = TrainConfig.from_dict(line)
    trainer = StackedTrainer([config, config.replace(seed=7)])
    snapshots = []
    while len(trainer):
        snapshots += [e.left for e in trainer.train_epoch() if isinstance(e.event, Diverged)]
    engine = Engine(config)
    list(engine.run())
    assert snapshots[0].epoch == engine.epoch and snapshots[0].optimizer_state is None
    for name, value in engine.model.state_dict().items():
        torch.testing.assert_close(snapshots[0].model_state[name], value)
        assert math.isfinite(float(value.sum()))


# --- the rule -------------------------------------------------------------------------------------

def test_runs_differing_in_seed_lr_decay_momentum_epochs_and_schedule_batch():
    base = spiral("sgd")
    assert can_batch([base, base.replace(seed=9), spiral("sgd", lr=0.5, weight_decay=0.1, momentum=0.9),
                      base.replace(epochs=50), spiral("sgd", schedule={"name": "cosine"})])


@pytest.mark.parametrize("other", [
    spiral("adam"),  # optimizer type
    spiral("sgd", batch_size=64),  # batch plan
    spiral("sgd", dataset={"name": "spiral", "noise": 0.3}),  # different data
    spiral("sgd", dataset={"name": "spiral", "seed": 5}),  # same settings, other data seed
    spiral("sgd", layers=[{"type": "linear", "out": 50}, {"type": "relu"}, {"type": "linear"}]),  # shape
    spiral("sgd", loss="nll", layers=RELU_NET.stack() + [{"type": "log_softmax"}]),  # loss and layers
], ids=["optimizer", "batch size", "data", "data seed", "layer size", "loss"])
def test_runs_that_differ_in_shape_data_plan_or_optimizer_type_do_not(other):
    assert not can_batch([spiral("sgd"), other])
    with pytest.raises(ValueError):
        StackedTrainer([spiral("sgd"), other])
    trainer = StackedTrainer([spiral("sgd")])
    with pytest.raises(ValueError):
        trainer.add(other)


@pytest.mark.parametrize("layers, reason", [
    ([{"type": "linear", "out": 16}, {"type": "batchnorm1d"}, {"type": "relu"}, {"type": "linear"}], "BatchNorm"),
    ([{"type": "linear", "out": 16}, {"type": "dropout", "p": 0.5}, {"type": "linear"}], "Dropout"),
])
def test_layers_with_running_statistics_or_randomness_train_alone(layers, reason):
    config = spiral(layers=layers)
    assert reason in why_not_batched(config) and batch_key(config) is None
    assert not can_batch([config, config.replace(seed=2)])


def test_image_datasets_train_alone():
    config = TrainConfig.from_dict({"dataset": {"name": "digits"}, "device": "cpu",
                                    "layers": [{"type": "flatten"}, {"type": "linear"}]})
    assert "image" in why_not_batched(config)


def sine_sequence(seed: int, layers: list) -> TrainConfig:
    return TrainConfig.from_dict({"dataset": {"name": "sine_sequence", "n_samples": 200, "steps": 6}, "loss": "mse",
                                  "layers": layers, "seed": seed, "epochs": 3, "batch_size": 32, "device": "cpu",
                                  "optimizer": {"name": "adam", "lr": 0.01}})


@pytest.mark.parametrize("layer", ["rnn", "lstm", "gru"])
def test_recurrent_layers_train_alone(layer):
    config = sine_sequence(1, [{"type": layer, "hidden": 5}, {"type": "linear"}])
    assert "vmap" in why_not_batched(config) and batch_key(config) is None
    assert "vmap" in why_not_stacked(config) and stack_key(config) is None  # the pool's rule refuses it too
    assert not can_batch([config, config.replace(seed=2)])


def test_sequence_data_stacks_through_a_flatten_like_its_solo_runs():
    configs = [sine_sequence(seed, [{"type": "flatten"}, {"type": "linear", "out": 8}, {"type": "tanh"},
                                    {"type": "linear"}]) for seed in (1, 2)]
    stacked = stacked_events(StackedTrainer(configs), 3)
    for run, config in enumerate(configs):
        assert_same_curve(stacked[run], solo_events(config))
