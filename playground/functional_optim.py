"""Functional optimizers for stacked runs: k models' weights in one tensor per parameter (leading dim k).

Each optimizer the app offers (`optim.OPTIMIZERS`) has a step function here that updates stacked
parameters in place from stacked gradients, with per-run hyperparameters as tensors of shape (k,):
learning rate, weight decay, momentum and Nesterov may differ between the runs of one stack. The
maths follows torch's own single-tensor implementations (`torch.optim.sgd._single_tensor_sgd` and
its siblings) operation by operation, so run i's weights follow what `torch.optim` gives run i alone
within float rounding (tests check ~20 steps of each). Those torch functions are not called: they
take one Python number per hyperparameter for all their tensors, so using them would mean k calls
on k slices, undoing the batching. The constants torch fixes (Adam's betas, RMSprop's alpha, eps...)
are read from the torch classes' signatures, never retyped.

State is a dict of lists aligned with the parameters, every tensor stacked (leading dim k), with
torch's names ("exp_avg", "square_avg"...) plus a per-run "step" count, so a run's slice converts
to and from `torch.optim` state (`torch_state` / `from_torch_state`). Knows nothing about models,
data or training loops.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from .optim import OPTIMIZERS

Tensor = torch.Tensor
Hyper = dict[str, Tensor]  # "lr", "weight_decay", "momentum", "nesterov": float64 tensors of shape (k,)
State = dict[str, list[Tensor]]  # name -> one stacked tensor per parameter


def _torch_default(name: str, option: str):
    """The default torch gives `option` in optimizer `name`'s constructor (e.g. Adam's betas)."""
    return inspect.signature(OPTIMIZERS[name].cls).parameters[option].default


def per_run(h: Tensor, like: Tensor) -> Tensor:
    """A (k,) hyperparameter shaped (k, 1, ..., 1) in `like`'s dtype, to broadcast over stacked weights."""
    return h.to(like.dtype).view((-1,) + (1,) * (like.dim() - 1))


def _decayed(param: Tensor, grad: Tensor, hyper: Hyper) -> Tensor:
    """grad + weight_decay * param (torch: grad.add(param, alpha=weight_decay))."""
    return grad.add(per_run(hyper["weight_decay"], param) * param)


def _lr_step(param: Tensor, update: Tensor, lr: Tensor) -> None:
    """param -= lr * update (torch: param.add_(update, alpha=-lr))."""
    param.sub_(per_run(lr, param) * update)


def sgd_step(params: Sequence[Tensor], grads: Sequence[Tensor], state: State, hyper: Hyper) -> None:
    for param, grad, buf, step in zip(params, grads, state["momentum_buffer"], state["step"]):
        grad = _decayed(param, grad, hyper)
        momentum = per_run(hyper["momentum"], param)
        first = per_run(step == 0, param).bool()
        buf.copy_(torch.where(first, grad, buf * momentum + grad))  # torch clones the first gradient
        nesterov = grad + buf * momentum
        uses_momentum = per_run(hyper["momentum"] > 0, param).bool()
        update = torch.where(uses_momentum, torch.where(per_run(hyper["nesterov"], param).bool(), nesterov, buf), grad)
        _lr_step(param, update, hyper["lr"])
        step += 1


def _adam_like(decoupled: bool) -> Callable[[Sequence[Tensor], Sequence[Tensor], State, Hyper], None]:
    beta1, beta2 = _torch_default("adam", "betas")
    eps = _torch_default("adam", "eps")

    def step_fn(params: Sequence[Tensor], grads: Sequence[Tensor], state: State, hyper: Hyper) -> None:
        for step in state["step"]:
            step += 1
        steps = state["step"][0].double()  # every parameter of a run has taken the same steps
        step_size = hyper["lr"] / (1 - beta1 ** steps)
        bias_correction2_sqrt = (1 - beta2 ** steps).sqrt()
        for param, grad, exp_avg, exp_avg_sq in zip(params, grads, state["exp_avg"], state["exp_avg_sq"]):
            if decoupled:  # AdamW: param *= 1 - lr * weight_decay
                param.mul_(per_run(1 - hyper["lr"] * hyper["weight_decay"], param))
            else:
                grad = _decayed(param, grad, hyper)
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = (exp_avg_sq.sqrt() / per_run(bias_correction2_sqrt, param)).add_(eps)
            param.sub_(per_run(step_size, param) * exp_avg / denom)
    return step_fn


def rmsprop_step(params: Sequence[Tensor], grads: Sequence[Tensor], state: State, hyper: Hyper) -> None:
    alpha, eps = _torch_default("rmsprop", "alpha"), _torch_default("rmsprop", "eps")
    for param, grad, square_avg, buf, step in zip(params, grads, state["square_avg"], state["momentum_buffer"],
                                                  state["step"]):
        step += 1
        grad = _decayed(param, grad, hyper)
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        avg = square_avg.sqrt().add_(eps)
        buf.mul_(per_run(hyper["momentum"], param)).addcdiv_(grad, avg)  # with momentum 0 it is grad / avg
        _lr_step(param, buf, hyper["lr"])


def adagrad_step(params: Sequence[Tensor], grads: Sequence[Tensor], state: State, hyper: Hyper) -> None:
    eps = _torch_default("adagrad", "eps")  # lr_decay and initial_accumulator_value are torch's 0
    for param, grad, total, step in zip(params, grads, state["sum"], state["step"]):
        step += 1
        grad = _decayed(param, grad, hyper)
        total.addcmul_(grad, grad, value=1)
        std = total.sqrt().add_(eps)
        _lr_step(param, grad / std, hyper["lr"])


def adadelta_step(params: Sequence[Tensor], grads: Sequence[Tensor], state: State, hyper: Hyper) -> None:
    rho, eps = _torch_default("adadelta", "rho"), _torch_default("adadelta", "eps")
    for param, grad, square_avg, acc_delta, step in zip(params, grads, state["square_avg"], state["acc_delta"],
                                                        state["step"]):
        step += 1
        grad = _decayed(param, grad, hyper)
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_().div_(std).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        _lr_step(param, delta, hyper["lr"])


@dataclass(frozen=True)
class FunctionalOptimizer:
    """One optimizer type: its state tensors (torch's names) and its stacked step."""

    name: str
    state_names: tuple[str, ...]  # besides "step"
    step: Callable[[Sequence[Tensor], Sequence[Tensor], State, Hyper], None]
    torch_names: Callable[[dict[str, float]], tuple[str, ...]]  # the names torch keeps, given a run's options

    def init_state(self, params: Sequence[Tensor]) -> State:
        """Fresh state for stacked `params`: zeros, and step 0 for every run."""
        state = {name: [torch.zeros_like(p) for p in params] for name in self.state_names}
        state["step"] = [torch.zeros(len(p), dtype=torch.float32, device=p.device) for p in params]
        return state

    def torch_state(self, state: State, i: int, options: dict[str, float]) -> list[dict[str, Tensor]]:
        """Run i's state as `torch.optim` keeps it, one dict per parameter (for `Optimizer.load_state_dict`)."""
        if float(state["step"][0][i]) == 0:
            return [{} for _ in state["step"]]
        names = self.torch_names(options)
        return [{name: _run_slice(state[name][p], i, name) for name in names} for p in range(len(state["step"]))]

    def from_torch_state(self, params: Sequence[Tensor], per_param: Sequence[dict[str, Tensor]]) -> State:
        """One run's stacked state (k = 1) from torch's per-parameter state dicts (missing ones: fresh)."""
        state = self.init_state([p.unsqueeze(0) for p in params])
        for p, saved in enumerate(per_param):
            for name, value in saved.items():
                if name in state and value is not None:
                    state[name][p][0] = value
            if saved and "step" not in saved:  # SGD keeps no count: a momentum buffer means it has stepped
                state["step"][p][0] = 1
        return state


def _run_slice(stacked: Tensor, i: int, name: str) -> Tensor:
    value = stacked[i].clone()
    return value.reshape(()) if name == "step" else value


def _sgd_names(options: dict[str, float]) -> tuple[str, ...]:
    return ("momentum_buffer",) if options.get("momentum", 0) != 0 else ()


def _rmsprop_names(options: dict[str, float]) -> tuple[str, ...]:
    return ("step", "square_avg") + (("momentum_buffer",) if options.get("momentum", 0) > 0 else ())


FUNCTIONAL: dict[str, FunctionalOptimizer] = {opt.name: opt for opt in (
    FunctionalOptimizer("sgd", ("momentum_buffer",), sgd_step, _sgd_names),
    FunctionalOptimizer("adam", ("exp_avg", "exp_avg_sq"), _adam_like(decoupled=False),
                        lambda options: ("step", "exp_avg", "exp_avg_sq")),
    FunctionalOptimizer("adamw", ("exp_avg", "exp_avg_sq"), _adam_like(decoupled=True),
                        lambda options: ("step", "exp_avg", "exp_avg_sq")),
    FunctionalOptimizer("rmsprop", ("square_avg", "momentum_buffer"), rmsprop_step, _rmsprop_names),
    FunctionalOptimizer("adagrad", ("sum",), adagrad_step, lambda options: ("step", "sum")),
    FunctionalOptimizer("adadelta", ("square_avg", "acc_delta"), adadelta_step,
                        lambda options: ("step", "square_avg", "acc_delta")),
)}


def hyperparameters(configs: Sequence, lrs: Sequence[float], device: torch.device) -> Hyper:
    """The (k,) hyperparameter tensors of k OptimizerConfigs, with this epoch's learning rates `lrs`."""
    def column(values) -> Tensor:
        return torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
    return {"lr": column(lrs), "weight_decay": column(c.weight_decay for c in configs),
            "momentum": column(c.momentum for c in configs), "nesterov": column(c.nesterov for c in configs)}
