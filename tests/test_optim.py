"""Optimizer and schedule registries: every optimizer steps, options reach torch, schedules shape the lr."""
import math

import pytest
import torch

from playground.config import OptimizerConfig, ScheduleConfig
from playground.optim import OPTIMIZERS, SCHEDULES, make_optimizer, scheduled_lr, set_learning_rate


def test_the_issue_optimizers_are_registered():
    assert set(OPTIMIZERS) == {"sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta"}
    assert set(SCHEDULES) == {"none", "step", "cosine", "multistep", "exponential", "onecycle", "plateau"}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_builds_and_a_step_lowers_the_loss(name):
    weight = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0]))
    optimizer = make_optimizer(OptimizerConfig(name=name, lr=0.1), [weight])
    assert isinstance(optimizer, OPTIMIZERS[name].cls)
    before = float((weight.detach() ** 2).sum())
    for _ in range(3):
        optimizer.zero_grad()
        (weight ** 2).sum().backward()
        optimizer.step()
    assert float((weight.detach() ** 2).sum()) < before


def test_learning_rate_and_weight_decay_reach_torch():
    weight = torch.nn.Parameter(torch.zeros(2))
    group = make_optimizer(OptimizerConfig(name="adamw", lr=0.02, weight_decay=0.1), [weight]).param_groups[0]
    assert group["lr"] == 0.02 and group["weight_decay"] == 0.1


def test_sgd_momentum_and_nesterov_are_passed_through():
    weight = torch.nn.Parameter(torch.zeros(2))
    config = OptimizerConfig(name="sgd", lr=0.1, momentum=0.9, nesterov=True)
    group = make_optimizer(config, [weight]).param_groups[0]
    assert group["momentum"] == 0.9 and group["nesterov"] is True


def test_rmsprop_momentum_is_passed_through():
    weight = torch.nn.Parameter(torch.zeros(2))
    group = make_optimizer(OptimizerConfig(name="rmsprop", lr=0.1, momentum=0.5), [weight]).param_groups[0]
    assert group["momentum"] == 0.5


def test_set_learning_rate_changes_every_group():
    a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    set_learning_rate(optimizer, 0.003)
    assert [group["lr"] for group in optimizer.param_groups] == [0.003, 0.003]


def test_no_schedule_keeps_the_learning_rate_constant():
    schedule = ScheduleConfig(name="none")
    assert {scheduled_lr(0.01, schedule, epoch, 100) for epoch in range(0, 101, 7)} == {0.01}


def test_step_schedule_halves_every_step_size_epochs():
    schedule = ScheduleConfig(name="step", step_size=10, gamma=0.5)
    lrs = [scheduled_lr(0.08, schedule, epoch, 100) for epoch in range(31)]
    assert lrs[:10] == [0.08] * 10
    assert lrs[10:20] == [0.04] * 10
    assert lrs[20:30] == [0.02] * 10
    assert lrs[30] == 0.01


def test_cosine_schedule_goes_from_lr_to_zero():
    schedule = ScheduleConfig(name="cosine")
    lrs = [scheduled_lr(0.1, schedule, epoch, 50) for epoch in range(51)]
    assert lrs[0] == pytest.approx(0.1)
    assert lrs[25] == pytest.approx(0.05)
    assert lrs[50] == pytest.approx(0.0, abs=1e-12)
    assert lrs[49] < 0.001
    assert all(later <= earlier for earlier, later in zip(lrs, lrs[1:]))


def test_cosine_schedule_stays_at_zero_past_the_end():
    schedule = ScheduleConfig(name="cosine")
    assert scheduled_lr(0.1, schedule, 80, 50) == pytest.approx(0.0, abs=1e-12)
    assert math.isfinite(scheduled_lr(0.1, schedule, 0, 0))
