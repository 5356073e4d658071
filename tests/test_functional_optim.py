"""Functional stacked optimizers: k runs with different hyperparameters follow k solo torch.optim runs."""
import pytest
import torch

from playground.config import OptimizerConfig
from playground.functional_optim import FUNCTIONAL, hyperparameters
from playground.optim import OPTIMIZERS, make_optimizer

SHAPES = [(5, 3), (5,), (2, 4, 3)]
STEPS = 20


def configs_for(name: str) -> list[OptimizerConfig]:
    """Three runs of optimizer `name` with different learning rates, weight decay and (where offered) momentum."""
    options = OPTIMIZERS[name].options
    runs = [dict(lr=0.05, weight_decay=0.0, momentum=0.0, nesterov=False),
            dict(lr=0.01, weight_decay=0.1, momentum=0.9, nesterov=True),
            dict(lr=0.002, weight_decay=0.01, momentum=0.5, nesterov=False)]
    return [OptimizerConfig(name=name, lr=r["lr"], weight_decay=r["weight_decay"],
                            momentum=r["momentum"] if "momentum" in options else 0.0,
                            nesterov=r["nesterov"] if "nesterov" in options else False) for r in runs]


def gradient(step: int, run: int, shape: tuple[int, ...], param: torch.Tensor) -> torch.Tensor:
    """A gradient that depends on the weights (so drift would grow) and differs per run and step."""
    g = torch.Generator().manual_seed(1000 * step + 10 * run + len(shape))
    return torch.randn(shape, generator=g) + 0.3 * param.detach() ** 2


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_stacked_steps_equal_solo_torch_optimizers(name):
    configs = configs_for(name)
    torch.manual_seed(0)
    starts = [[torch.randn(shape) for shape in SHAPES] for _ in configs]
    solo = [[p.clone().requires_grad_(True) for p in run] for run in starts]
    solo_optimizers = [make_optimizer(c, params) for c, params in zip(configs, solo)]
    stacked = [torch.stack([run[j] for run in starts]) for j in range(len(SHAPES))]
    functional = FUNCTIONAL[name]
    state = functional.init_state(stacked)
    hyper = hyperparameters(configs, [c.lr for c in configs], torch.device("cpu"))
    for step in range(STEPS):
        for run, (params, optimizer) in enumerate(zip(solo, solo_optimizers)):
            for shape, p in zip(SHAPES, params):
                p.grad = gradient(step, run, shape, p)
            optimizer.step()
        grads = [torch.stack([gradient(step, run, shape, stacked[j][run]) for run in range(len(configs))])
                 for j, shape in enumerate(SHAPES)]
        functional.step(stacked, grads, state, hyper)
        for run, params in enumerate(solo):
            for j, p in enumerate(params):
                torch.testing.assert_close(stacked[j][run], p.detach(), rtol=1e-5, atol=1e-6,
                                           msg=f"{name} run {run} param {j} step {step + 1}")


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_a_runs_state_converts_to_torch_and_back(name):
    """After a few steps, run 1's state loaded into a solo torch optimizer continues exactly as the stack."""
    configs = configs_for(name)
    stacked = [torch.randn((3, *shape)) for shape in SHAPES]
    functional = FUNCTIONAL[name]
    state = functional.init_state(stacked)
    hyper = hyperparameters(configs, [c.lr for c in configs], torch.device("cpu"))
    for step in range(3):
        grads = [torch.stack([gradient(step, r, s, stacked[j][r]) for r in range(3)]) for j, s in enumerate(SHAPES)]
        functional.step(stacked, grads, state, hyper)
    solo = [p[1].clone().requires_grad_(True) for p in stacked]
    optimizer = make_optimizer(configs[1], solo)
    per_param = functional.torch_state(state, 1, {"momentum": configs[1].momentum})
    groups = optimizer.state_dict()["param_groups"]
    optimizer.load_state_dict({"state": dict(enumerate(per_param)), "param_groups": groups})
    back = functional.from_torch_state([p[1] for p in stacked], per_param)
    for name_, values in back.items():
        if name_ not in per_param[0]:  # SGD keeps no step count, and no buffer without momentum
            continue
        for j, value in enumerate(values):
            torch.testing.assert_close(value[0], state[name_][j][1])
    for shape, p in zip(SHAPES, solo):
        p.grad = gradient(3, 1, shape, p)
    optimizer.step()
    grads = [torch.stack([gradient(3, r, s, stacked[j][r]) for r in range(3)]) for j, s in enumerate(SHAPES)]
    functional.step(stacked, grads, state, hyper)
    for j, p in enumerate(solo):
        torch.testing.assert_close(stacked[j][1], p.detach(), rtol=1e-5, atol=1e-6)


def test_every_optimizer_the_app_offers_has_a_functional_version():
    assert set(FUNCTIONAL) == set(OPTIMIZERS)
