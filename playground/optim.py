"""Optimizer and learning-rate schedule registries.

`make_optimizer` builds a torch optimizer from an `OptimizerConfig`. Schedules are pure functions
of (epoch, epochs) giving the learning rate for the configured one, not torch.optim.lr_scheduler
objects, because: a learning rate changed by hand mid-run must win (it scales the schedule's rates
from the next epoch on: rate x new lr / configured lr), a fork or `continue_from` must reproduce a run
exactly from its epoch alone, and stacked runs (`batched`) compute each run's rate with no optimizer of
their own. tests/test_optim.py checks each against its torch.optim.lr_scheduler twin step by step.
The one schedule with state, plateau (ReduceLROnPlateau), lives in `plateau`. Knows nothing about
models or data; torch is imported on first use.
"""
from __future__ import annotations

import math
from bisect import bisect_right
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
    more: tuple[str, ...] = ()  # settings under "more" (torch's defaults: OPTIMIZER_DEFAULTS), kept only when changed

    @property
    def cls(self) -> type[torch.optim.Optimizer]:
        """The torch optimizer class (imports torch on first use)."""
        return getattr(torch.optim, self.class_name)


OPTIMIZERS: dict[str, OptimizerType] = {t.name: t for t in (
    OptimizerType("sgd", "SGD", "SGD", ("momentum", "nesterov")),
    OptimizerType("adam", "Adam", "Adam", (), ("betas", "eps")),
    OptimizerType("adamw", "AdamW", "AdamW", (), ("betas", "eps")),
    OptimizerType("rmsprop", "RMSprop", "RMSprop", ("momentum",), ("alpha",)),
    OptimizerType("adagrad", "Adagrad", "Adagrad", (), ("lr_decay",)),
    OptimizerType("adadelta", "Adadelta", "Adadelta", (), ("rho",)),
)}
# The "more" settings at torch's defaults (Adam's and AdamW's betas and eps, RMSprop's alpha, ...).
OPTIMIZER_DEFAULTS = {"betas": (0.9, 0.999), "eps": 1e-8, "alpha": 0.99, "lr_decay": 0.0, "rho": 0.9}


def make_optimizer(config, parameters) -> torch.optim.Optimizer:
    """An optimizer for `parameters` from an OptimizerConfig (name, lr, weight_decay, options)."""
    kind = OPTIMIZERS[config.name]
    options = {key: getattr(config, key) for key in kind.options + kind.more}
    return kind.cls(parameters, lr=config.lr, weight_decay=config.weight_decay, **options)


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


@dataclass(frozen=True)
class Schedule:
    title: str
    rate: Callable[[float, int, int, object], float]  # (configured lr, 0-based epoch, epochs, ScheduleConfig)
    keys: tuple[str, ...] = ()  # its ScheduleConfig keys
    torch_class: str = ""  # its twin in torch.optim.lr_scheduler (stepped once an epoch)


def _constant(lr: float, epoch: int, epochs: int, s) -> float:
    return lr


def _step(lr: float, epoch: int, epochs: int, s) -> float:
    return lr * s.gamma ** (epoch // s.step_size)


def _multistep(lr: float, epoch: int, epochs: int, s) -> float:
    return lr * s.gamma ** bisect_right(s.milestones, epoch)


def _exponential(lr: float, epoch: int, epochs: int, s) -> float:
    return lr * s.gamma ** epoch


def _cosine(lr: float, epoch: int, epochs: int, s) -> float:
    return lr * (0.5 * (1 + math.cos(math.pi * min(epoch, epochs) / max(epochs, 1))))


def _onecycle(lr: float, epoch: int, epochs: int, s) -> float:
    """torch's OneCycleLR(max_lr, total_steps=epochs) with its defaults (pct_start 0.3, cosine, div_factor
    25, final_div_factor 1e4), momentum not cycled: up from max_lr / 25, then down to max_lr / 25 / 1e4."""
    start, low = s.max_lr / 25, s.max_lr / 25 / 1e4
    warm_end = 0.3 * epochs - 1
    epoch = min(epoch, epochs - 1)
    if epoch <= warm_end:
        a, b, pct = start, s.max_lr, epoch / warm_end
    else:
        a, b, pct = s.max_lr, low, (epoch - warm_end) / (epochs - 1 - warm_end)
    return b + (a - b) / 2 * (math.cos(math.pi * pct) + 1)


SCHEDULES: dict[str, Schedule] = {
    "none": Schedule("Constant", _constant),
    "step": Schedule("Step decay", _step, ("step_size", "gamma"), "StepLR"),  # x gamma every step_size epochs
    "cosine": Schedule("Cosine decay", _cosine, (), "CosineAnnealingLR"),  # from lr to 0 over the run
    "multistep": Schedule("Multi-step decay", _multistep, ("milestones", "gamma"), "MultiStepLR"),
    "exponential": Schedule("Exponential decay", _exponential, ("gamma",), "ExponentialLR"),  # x gamma an epoch
    "onecycle": Schedule("One cycle", _onecycle, ("max_lr",), "OneCycleLR"),  # ignores the configured lr
    "plateau": Schedule("Reduce on plateau", _constant, ("factor", "patience"), "ReduceLROnPlateau"),  # `plateau`
}


def scheduled_lr(base_lr: float, schedule, epoch: int, epochs: int, start_lr: float | None = None) -> float:
    """Learning rate for 0-based `epoch` of `epochs` under a ScheduleConfig. `start_lr`: the configured
    rate (default `base_lr`); a `base_lr` set by hand scales the schedule's rates by base_lr / start_lr.
    (Plateau's cuts come on top: `plateau.Plateau.scale`.)"""
    start = base_lr if start_lr is None else start_lr
    rate = SCHEDULES[schedule.name].rate(start, epoch, epochs, schedule)
    return rate if base_lr == start else rate * (base_lr / start)
