"""Presets: every named stack plans on the data it is offered for, and the one-conv CNN is written once."""
import pytest

from playground import presets
from playground.config import TrainConfig
from playground.default_model import DEFAULT_CONFIG
from playground.lessons import LESSONS
from playground.model import plan_for


def preset_config(preset: presets.Preset, dataset: str) -> TrainConfig:
    return TrainConfig.from_dict({"dataset": {"name": dataset}, "layers": preset.stack(), **preset.training})


@pytest.mark.parametrize("preset", presets.TOY_PRESETS.values(), ids=lambda preset: preset.title)
def test_every_toy_preset_plans_on_the_spiral(preset):
    assert plan_for(preset_config(preset, "spiral")).output_shape == (3,)


@pytest.mark.parametrize("preset", presets.IMAGE_PRESETS.values(), ids=lambda preset: preset.title)
def test_every_image_preset_plans_on_mnist(preset):
    assert plan_for(preset_config(preset, "mnist")).output_shape == (10,)


def test_the_presets_offered_and_started_with_follow_the_kind_of_data():
    assert presets.presets_for(True) is presets.IMAGE_PRESETS and presets.presets_for(False) is presets.TOY_PRESETS
    assert presets.starting_preset(True) in presets.IMAGE_PRESETS.values()
    assert presets.starting_preset(False) in presets.TOY_PRESETS.values()
    assert presets.suggested_epochs(True) < presets.suggested_epochs(False)


@pytest.mark.parametrize("preset", presets.COLOUR_PRESETS.values(), ids=lambda preset: preset.title)
def test_every_colour_preset_plans_on_cifar10(preset):
    assert plan_for(preset_config(preset, "cifar10")).output_shape == (10,)


def test_the_cifar_cnn_is_the_materials_and_colour_data_offers_it_first():
    plan = plan_for(preset_config(presets.CIFAR_CNN, "cifar10"))
    assert [row.output_shape for row in plan.rows][-3:] == [(32, 8, 8), (2048,), (10,)]  # Linear(32*8*8, 10)
    assert plan.parameters == (3 * 16 * 9 + 16) + (16 * 32 * 9 + 32) + (32 * 8 * 8 * 10 + 10)
    assert [row.output_shape for row in plan_for(preset_config(presets.SMALL_RESNET, "cifar10")).rows][-3] == (32, 8, 8)
    assert presets.presets_for(True, 3) is presets.COLOUR_PRESETS
    assert presets.presets_for(True, 1) is presets.IMAGE_PRESETS
    assert presets.starting_preset(True, 3) is presets.CIFAR_CNN
    assert presets.starting_preset(False, 3) is presets.RELU_NET
    assert presets.TWO_CONV_DROPOUT not in presets.COLOUR_PRESETS.values()  # MNIST's own example


def test_stack_returns_a_fresh_copy():
    stack = presets.RELU_NET.stack()
    stack[0]["out"] = 7
    assert presets.RELU_NET.stack()[0]["out"] == 100


def test_the_one_conv_cnn_with_adam_is_the_lessons_and_the_default_models():
    one_conv = preset_config(presets.ONE_CONV_CNN, "mnist")
    assert (one_conv.loss, one_conv.optimizer.name, one_conv.optimizer.lr) == ("cross_entropy", "adam", 1e-3)
    for config in (LESSONS["mnist-cnn"].config, DEFAULT_CONFIG):
        assert config.layers == one_conv.layers
        assert (config.loss, config.optimizer) == (one_conv.loss, one_conv.optimizer)
