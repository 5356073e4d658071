"""What a model costs to run: forward FLOPs per sample, counted by torch without computing anything.

The model a plan describes is built on PyTorch's "meta" device (shapes only, no memory, no
arithmetic) and one sample is passed through it under `torch.utils.flop_counter.FlopCounterMode`,
which adds up the FLOPs of every matrix multiply and convolution. Elementwise layers (ReLU,
pooling, normalisation) are not counted; they are small next to the layers that are.
Knows nothing about workers, pages or time limits: callers turn FLOPs into budgets.
"""
from __future__ import annotations

import functools

import torch
from torch.utils.flop_counter import FlopCounterMode

from .model import ModelPlan, build_model


@functools.lru_cache(maxsize=256)
def _flops(layers: tuple, input_shape: tuple[int, ...]) -> int:
    plan = ModelPlan(tuple(dict(spec) for spec in layers), (), input_shape, ())
    with torch.device("meta"):
        model = build_model(plan)
        with FlopCounterMode(display=False) as counter:
            model(torch.empty((1, *input_shape)))
    return int(counter.get_total_flops())


def forward_flops(plan: ModelPlan) -> int:
    """FLOPs of one sample's forward pass through the model `plan` describes (multiply-add = 2)."""
    layers = tuple(tuple(sorted(spec.items())) for spec in plan.layers)
    return _flops(layers, tuple(plan.input_shape))
