"""Which models the Draw page can use, what a drawing costs them, and the sentences about them."""
import torch

from playground.budget import forward_flops
from playground.checkpoint import LoadedModel
from playground.config import TrainConfig
from playground.draw_models import DIGIT_SHAPE, billions, describe, drawing_work, input_problem, no_occlusion, too_large
from playground.explain import DRAWING_FLOPS, DrawingWork
from playground.model import plan_for

MNIST_MLP = TrainConfig.from_dict({"dataset": {"name": "mnist"}, "layers": [
    {"type": "flatten"}, {"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}]})


def test_only_28x28_grey_models_can_read_drawings():
    assert input_problem(DIGIT_SHAPE) is None
    assert input_problem((1, 8, 8)) == ("That model takes 1x8x8 inputs; drawings need a model of 28x28 grey images "
                                        "(MNIST or Fashion-MNIST).")
    assert "takes 2 inputs" in input_problem((2,))


def test_a_colour_model_is_refused_with_the_reason():
    problem = input_problem((3, 32, 32))
    assert problem.startswith("That model takes 3x32x32 colour images (red, green and blue channels, e.g. CIFAR-10)")
    assert "a drawing is one grey channel of 28x28 pixels" in problem


def test_drawing_work_counts_the_models_forward_pass_on_a_28x28_drawing():
    work = drawing_work(MNIST_MLP)
    assert work.guess == 2 * forward_flops(plan_for(MNIST_MLP)) and work.cap == DRAWING_FLOPS
    assert work.fits and work.explains


def test_billions_has_one_decimal_and_thousands_separators():
    assert billions(5_600_000_000) == "5.6 billion"
    assert billions(1_234_500_000_000) == "1,234.5 billion"


def test_the_too_large_sentences_name_the_cost_and_the_cap():
    work = DrawingWork(guess=12_000_000_000, occlusion=30_000_000_000, cap=10_000_000_000)
    assert "each drawing would cost 12.0 billion operations, and this server allows 10.0 billion" in too_large(work)
    assert "it would cost 42.0 billion operations per drawing, over this server's 10.0 billion" in no_occlusion(work)


def test_describe_names_the_layers_the_data_and_the_test_accuracy():
    model = LoadedModel(MNIST_MLP, torch.nn.Sequential(), tuple("0123456789"), {"test_accuracy": 0.9876})
    assert describe(model) == "Using a 4-layer model trained on MNIST digits: test accuracy **98.8%**."
    assert describe(LoadedModel(MNIST_MLP, torch.nn.Sequential(), (), {})).endswith("no recorded test accuracy.")
