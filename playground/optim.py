"""Optimizer and learning-rate schedule registries.

`make_optimizer` builds a torch optimizer from an `OptimizerConfig`. Schedules are pure functions
of (epoch, epochs) giving a factor on the base learning rate, so a learning rate changed in the
middle of training simply becomes the new base. Knows nothing about models or data; torch is
imported on first use.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from .lazy import lazy_module

torch = lazy_module("torch")  # imported on first use: the registry (and the config) need no torch


@dataclass(frozen=True)
class OptimizerType:
    name: str
    title: str
    class_name: str  # the torch.optim class's name, e.g. "Adam"
    options: tuple[str, ...]  # config keys beyond lr and weight_decay that it accepts

    @property
    def cls(self) -> type[torch.optim.Optimizer]:
        """The torch optimizer class (imports torch on first use)."""
        return getattr(torch.optim, self.class_name)


OPTIMIZERS: dict[str, OptimizerType] = {t.name: t for t in (
    OptimizerType("sgd", "SGD", "SGD", ("momentum", "nesterov")),
    OptimizerType("adam", "Adam", "Adam", ()),
    OptimizerType("adamw", "AdamW", "AdamW", ()),
    OptimizerType("rmsprop", "RMSprop", "RMSprop", ("momentum",)),
    OptimizerType("adagrad", "Adagrad", "Adagrad", ()),
    OptimizerType("adadelta", "Adadelta", "Adadelta", ()),
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
