"""The plan's shapes and parameter counts and the budget's FLOPs are arithmetic (no torch, so a page
checks a setup before torch has started): here each is checked against torch itself, the model built
on the meta device, every layer's output measured by a forward pass and every FLOP counted by
`FlopCounterMode`, for every preset, every lesson and race entrant, and a stack of every layer type."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from playground.budget import forward_flops
from playground.config import TrainConfig
from playground.layers import LAYERS
from playground.lessons import LESSONS
from playground.model import build_model, plan_for
from playground.presets import IMAGE_PRESETS, TOY_PRESETS
from playground.pretrained import LAYER_TYPES as PRETRAINED_LAYERS

ROOT = Path(__file__).resolve().parents[1]

IMAGE_EVERY_LAYER = [  # every image layer type, the residual block with and without its 1x1 skip
    {"type": "conv2d", "out": 8, "kernel": 3, "padding": 1}, {"type": "batchnorm2d"}, {"type": "relu"},
    {"type": "residual"}, {"type": "residual", "out": 12, "stride": 2}, {"type": "dropout2d"},
    {"type": "maxpool2d", "kernel": 2}, {"type": "conv2d", "out": 6, "kernel": 2, "stride": 2},
    {"type": "avgpool2d", "kernel": 1}, {"type": "flatten"}, {"type": "linear", "out": 20}, {"type": "elu"},
    {"type": "log_softmax"}, {"type": "linear"}]
FLAT_EVERY_LAYER = [
    {"type": "linear", "out": 16, "in": 2}, {"type": "batchnorm1d"}, {"type": "leaky_relu"}, {"type": "dropout"},
    {"type": "linear", "out": 8}, {"type": "tanh"}, {"type": "gelu"}, {"type": "sigmoid"}, {"type": "softmax"},
    {"type": "linear"}]
RECURRENT_EVERY_LAYER = {  # each recurrent type, on a sequence and on conv features read row by row
    "sine_sequence": [{"type": "rnn", "hidden": 6}, {"type": "linear"}],
    "digits": [{"type": "conv2d", "out": 3, "padding": 1}, {"type": "gru", "hidden": 5, "layers": 2,
                                                           "bidirectional": 1, "batch_first": 0},
               {"type": "linear"}],
    "mnist": [{"type": "lstm", "hidden": 7, "layers": 3, "bidirectional": 1}, {"type": "linear"}],
}


def _configs() -> dict[str, TrainConfig]:
    configs = {f"toy preset {title}": TrainConfig.from_dict({"dataset": {"name": "spiral"}, "layers": preset.stack()})
               for title, preset in TOY_PRESETS.items()}
    configs.update({f"image preset {title}": TrainConfig.from_dict({"dataset": {"name": "mnist"},
                                                                   "layers": preset.stack(), **preset.training})
                    for title, preset in IMAGE_PRESETS.items()})
    for slug, lesson in LESSONS.items():
        configs[f"lesson {slug}"] = lesson.config
        configs.update({f"lesson {slug}, {name}": config for name, config in lesson.race})
    configs["every image layer"] = TrainConfig.from_dict({"dataset": {"name": "digits"}, "layers": IMAGE_EVERY_LAYER})
    configs["every flat layer"] = TrainConfig.from_dict({"dataset": {"name": "spiral"}, "layers": FLAT_EVERY_LAYER})
    configs.update({f"recurrent layers on {name}": TrainConfig.from_dict({"dataset": {"name": name}, "layers": layers})
                    for name, layers in RECURRENT_EVERY_LAYER.items()})
    return configs


CONFIGS = _configs()


def test_the_checked_stacks_use_every_layer_type():
    used = {spec["type"] for config in CONFIGS.values() for spec in config.layers}
    assert used == set(LAYERS) - PRETRAINED_LAYERS  # those take colour images: tests/test_transfer.py checks them


@pytest.mark.parametrize("name", CONFIGS)
def test_the_plan_and_the_flops_agree_with_torch(name):
    plan = plan_for(CONFIGS[name])
    with torch.device("meta"):
        model = build_model(plan)
        outputs = []
        for layer in model:
            layer.register_forward_hook(lambda module, inputs, output: outputs.append(tuple(output.shape[1:])))
        with FlopCounterMode(display=False) as counter:
            model.eval()(torch.empty((1, *plan.input_shape)))
    assert [row.parameters for row in plan.rows] == [sum(p.numel() for p in layer.parameters()) for layer in model]
    assert [row.output_shape for row in plan.rows] == outputs and plan.output_shape == outputs[-1]
    assert forward_flops(plan) == counter.get_total_flops()


def test_planning_and_the_budget_import_no_torch():
    code = ("import sys; from playground import budget, model, presets; from playground.config import TrainConfig;"
            "config = TrainConfig.from_dict({'dataset': {'name': 'mnist'}, 'layers': presets.RESIDUAL.stack()});"
            "print(budget.training_problem(config, 1000, 5)[1], 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-1] == "False"
