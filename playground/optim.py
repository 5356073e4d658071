"""Optimizer and learning-rate schedule registries.

`make_optimizer` builds a torch optimizer from an `OptimizerConfig`. Schedules are pure functions
of (epoch, epochs) giving a factor on the base learning rate, so a learning rate changed in the
middle of training simply becomes the new base. Knows nothing about models or data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch


@dataclass(frozen=True)
class OptimizerType:
    name: str
    title: str
    cls: type[torch.optim.Optimizer]
    options: tuple[str, ...]  # config keys beyond lr and weight_decay that it accepts


OPTIMIZERS: dict[str, OptimizerType] = {t.name: t for t in (
    OptimizerType("sgd", "SGD", torch.optim.SGD, ("momentum", "nesterov")),
    OptimizerType("adam", "Adam", torch.optim.Adam, ()),
    OptimizerType("adamw", "AdamW", torch.optim.AdamW, ()),
    OptimizerType("rmsprop", "RMSprop", torch.optim.RMSprop, ("momentum",)),
    OptimizerType("adagrad", "Adagrad", torch.optim.Adagrad, ()),
    OptimizerType("adadelta", "Adadelta", torch.optim.Adadelta, ()),
)}


def make_optimizer(config, parameters) -> torch.optim.Optimizer:
    """An optimizer for `parameters` from an OptimizerConfig (name, lr, weight_decay, options)."""
    kind = OPTIMIZERS[config.name]
    options = {key: getattr(config, key) for key in kind.options}
    return kind.cls(parameters, lr=config.lr, weight_decay=config.weight_decay, **options)


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def _constant(epoch: int, epochs: int, step_size: int, gamma: float) -> float:
    return 1.0


def _step(epoch: int, epochs: int, step_size: int, gamma: float) -> float:
    return gamma ** (epoch // step_size)


def _cosine(epoch: int, epochs: int, step_size: int, gamma: float) -> float:
    return 0.5 * (1 + math.cos(math.pi * min(epoch, epochs) / max(epochs, 1)))


SCHEDULES: dict[str, Callable[[int, int, int, float], float]] = {
    "none": _constant,
    "step": _step,  # multiply by gamma every step_size epochs
    "cosine": _cosine,  # cosine decay from lr to 0 over the run
}


def scheduled_lr(base_lr: float, schedule, epoch: int, epochs: int) -> float:
    """Learning rate for 0-based `epoch` of `epochs` under a ScheduleConfig."""
    return base_lr * SCHEDULES[schedule.name](epoch, epochs, schedule.step_size, schedule.gamma)
