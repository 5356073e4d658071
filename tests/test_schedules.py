"""Each learning-rate schedule against its torch.optim.lr_scheduler twin, step by step; plateau's state
through a fork; the optimizer's "more" settings reaching torch; what stacking refuses."""
import math

import pytest
import torch

from playground.batched import why_not_batched
from playground.config import ConfigError, OptimizerConfig, ScheduleConfig, TrainConfig
from playground.engine import Engine
from playground.optim import SCHEDULES, make_optimizer, scheduled_lr
from playground.plateau import Plateau
from playground.stacking import why_not_stacked

LR, EPOCHS = 0.1, 40
TWINS = {  # schedule config -> its torch twin's arguments
    "none": ({}, None),
    "step": ({"step_size": 7, "gamma": 0.3}, {"step_size": 7, "gamma": 0.3}),
    "cosine": ({}, {"T_max": EPOCHS}),
    "multistep": ({"milestones": (5, 12, 30), "gamma": 0.2}, {"milestones": [5, 12, 30], "gamma": 0.2}),
    "exponential": ({"gamma": 0.9}, {"gamma": 0.9}),
    "onecycle": ({"max_lr": 0.5}, {"max_lr": 0.5, "total_steps": EPOCHS, "cycle_momentum": False}),
}


def torch_rates(name: str, arguments: dict, epochs: int = EPOCHS) -> list[float]:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    scheduler = getattr(torch.optim.lr_scheduler, SCHEDULES[name].torch_class)(optimizer, **arguments)
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


@pytest.mark.parametrize("name", [n for n in TWINS if n != "none"])
def test_each_schedule_gives_its_torch_twins_rates_epoch_by_epoch(name):
    settings, arguments = TWINS[name]
    schedule = ScheduleConfig(name=name, **settings)
    ours = [scheduled_lr(LR, schedule, epoch, EPOCHS) for epoch in range(EPOCHS)]
    assert ours == pytest.approx(torch_rates(name, arguments), rel=1e-9, abs=1e-15)


def test_every_schedule_but_constant_has_a_torch_twin():
    assert set(TWINS) | {"plateau"} == set(SCHEDULES)
    assert all(SCHEDULES[name].torch_class for name in SCHEDULES if name != "none")


def test_a_learning_rate_set_by_hand_scales_the_schedules_rates():
    schedule = ScheduleConfig(name="onecycle", max_lr=0.5)
    for epoch in (0, 10, 39):
        assert scheduled_lr(0.2, schedule, epoch, EPOCHS, start_lr=LR) == pytest.approx(
            2 * scheduled_lr(LR, schedule, epoch, EPOCHS, start_lr=LR))


LOSSES = [1.0, 0.9, 0.9, 0.95, 0.91, 0.89, 0.8999, 0.95, 0.96, 0.97, float("nan"), 0.5, 0.5, 0.5, 0.5, 0.6,
          0.49, 0.4999, 0.49995, 0.7, 0.7, 0.7, 0.7, 0.7]


@pytest.mark.parametrize("factor, patience", [(0.5, 0), (0.1, 2), (0.3, 3)])
def test_plateau_makes_reduce_lr_on_plateaus_decisions(factor, patience):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    twin = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=factor, patience=patience)
    plateau = Plateau(factor, patience)
    for loss in LOSSES:
        twin.step(loss)
        plateau.step(loss)
        assert LR * plateau.scale == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-12)
        assert (plateau.best, plateau.bad_steps) == (twin.best, twin.num_bad_epochs) or math.isnan(loss)


def plateau_config(epochs: int = 12) -> TrainConfig:
    return TrainConfig.from_dict({"dataset": {"name": "spiral", "n_per_class": 60}, "epochs": epochs,
                                  "layers": [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}],
                                  "optimizer": {"name": "sgd", "lr": 10.0},
                                  "schedule": {"name": "plateau", "factor": 0.5, "patience": 1}})


def test_the_engine_cuts_on_the_test_loss_of_evaluated_epochs():
    engine = Engine(plateau_config())
    twin = Plateau(0.5, 1)
    rates = []
    for _ in range(12):
        event = engine.train_epoch()
        rates.append(event.lr)
        twin.step(event.test.loss)
        assert engine.plateau.scale == twin.scale
    assert rates[0] == 10.0 and min(rates) < 10.0  # the too-high rate was cut


def test_a_fork_and_a_saved_training_state_carry_the_plateau_state():
    engine = Engine(plateau_config(16))
    for _ in range(8):
        engine.train_epoch()
    assert engine.plateau.scale < 1 or engine.plateau.bad_steps > 0
    fork = engine.fork()
    state = engine.training_state()
    again = Engine(engine.config, engine.dataset, initial_state=state.pop("model_state"))
    again.continue_from(state["optimizer_state"], state["batch_order"], state["epoch"], state["seconds"],
                        verified=state["verified_state"], verified_epoch=state["verified_epoch"],
                        plateau=state["plateau"])
    assert fork.plateau.state() == again.plateau.state() == engine.plateau.state()
    assert fork.plateau is not engine.plateau
    expected = [engine.train_epoch() for _ in range(8)]
    for other in (fork, again):
        events = [other.train_epoch() for _ in range(8)]
        assert [e.lr for e in events] == [e.lr for e in expected]
        assert [e.train.loss for e in events] == [e.train.loss for e in expected]


@pytest.mark.parametrize("name, settings, key", [
    ("adam", {"betas": (0.8, 0.95), "eps": 1e-6}, "betas"), ("adamw", {"eps": 1e-4}, "eps"),
    ("rmsprop", {"alpha": 0.9}, "alpha"), ("adadelta", {"rho": 0.5}, "rho"),
    ("adagrad", {"lr_decay": 0.01}, "lr_decay"),
])
def test_the_more_settings_reach_torch_and_stay_out_of_the_dict_at_defaults(name, settings, key):
    config = OptimizerConfig(name=name, lr=0.1, **settings)
    group = make_optimizer(config, [torch.nn.Parameter(torch.zeros(2))]).param_groups[0]
    assert all(group[k] == v for k, v in settings.items())
    assert set(settings) <= set(config.to_dict())
    assert not set(settings) & set(OptimizerConfig(name=name).to_dict())
    full = TrainConfig(optimizer=config)
    assert TrainConfig.from_dict(full.to_dict()) == full
    assert key in why_not_batched(full) and why_not_batched(TrainConfig(optimizer=OptimizerConfig(name=name))) is None


@pytest.mark.parametrize("optimizer, key", [
    ({"betas": [0.9]}, "optimizer.betas"), ({"betas": [0.9, 1.0]}, "optimizer.betas[1]"),
    ({"betas": "0.9,0.999"}, "optimizer.betas"), ({"eps": 0}, "optimizer.eps"), ({"eps": "tiny"}, "optimizer.eps"),
    ({"name": "rmsprop", "alpha": 1.5}, "optimizer.alpha"), ({"name": "adadelta", "rho": -0.1}, "optimizer.rho"),
    ({"name": "adagrad", "lr_decay": 2}, "optimizer.lr_decay"), ({"name": "sgd", "eps": 1e-3}, "optimizer.eps"),
    ({"name": "adam", "rho": 0.5}, "optimizer.rho"),
])
def test_bad_optimizer_settings_name_their_key(optimizer, key):
    with pytest.raises(ConfigError) as caught:
        TrainConfig.from_dict({"optimizer": optimizer})
    assert caught.value.key == key


@pytest.mark.parametrize("schedule, key", [
    ({"name": "multistep", "milestones": []}, "schedule.milestones"),
    ({"name": "multistep", "milestones": [10, 10]}, "schedule.milestones"),
    ({"name": "multistep", "milestones": [0]}, "schedule.milestones[0]"),
    ({"name": "multistep", "milestones": list(range(1, 200))}, "schedule.milestones"),
    ({"name": "plateau", "factor": 1.0}, "schedule.factor"), ({"name": "plateau", "patience": -1}, "schedule.patience"),
    ({"name": "onecycle", "max_lr": 0}, "schedule.max_lr"), ({"name": "exponential", "gamma": 2}, "schedule.gamma"),
    ({"name": "cosine", "gamma": 0.5}, "schedule.gamma"), ({"name": "step", "patience": 3}, "schedule.patience"),
])
def test_bad_schedule_settings_name_their_key(schedule, key):
    with pytest.raises(ConfigError) as caught:
        TrainConfig.from_dict({"schedule": schedule})
    assert caught.value.key == key


@pytest.mark.parametrize("name", SCHEDULES)
def test_every_schedule_round_trips_with_only_its_own_keys(name):
    config = TrainConfig.from_dict({"schedule": {"name": name}})
    data = config.schedule.to_dict()
    assert set(data) == {"name", *SCHEDULES[name].keys}
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_old_schedules_write_the_same_dict_as_before():
    assert ScheduleConfig().to_dict() == {"name": "none"}
    step = ScheduleConfig(name="step", step_size=7, gamma=0.3)
    assert step.to_dict() == {"name": "step", "step_size": 7, "gamma": 0.3}
    assert TrainConfig().optimizer.to_dict() == {"name": "adam", "lr": 0.001, "weight_decay": 0.0}


def test_plateau_trains_alone_and_the_new_pure_schedules_stack():
    assert "plateau" in why_not_batched(TrainConfig(schedule=ScheduleConfig(name="plateau")))
    assert "plateau" in why_not_stacked(TrainConfig(schedule=ScheduleConfig(name="plateau"), batch_size=64))
    assert "betas" in why_not_stacked(TrainConfig(optimizer=OptimizerConfig(betas=(0.5, 0.9)), batch_size=64))
    for name in ("multistep", "exponential", "onecycle"):
        assert why_not_batched(TrainConfig(schedule=ScheduleConfig(name=name))) is None


def test_stacked_runs_follow_the_new_pure_schedules_as_their_solo_engines_do():
    from playground.batched import StackedTrainer
    from test_batched import assert_same_curve, solo_events, spiral, stacked_events

    configs = [spiral(schedule={"name": "multistep", "milestones": [2, 4], "gamma": 0.5}, epochs=6),
               spiral(seed=2, schedule={"name": "exponential", "gamma": 0.8}, epochs=6),
               spiral(seed=3, schedule={"name": "onecycle", "max_lr": 0.05}, epochs=6)]
    stacked = stacked_events(StackedTrainer(configs), 6)
    for run, config in enumerate(configs):
        solo = solo_events(config)
        assert [e.lr for e in stacked[run]] == [e.lr for e in solo]
        assert_same_curve(stacked[run], solo)
