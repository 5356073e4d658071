"""Named layer stacks and the training settings they come with, as config fragments.

A `Preset` is a stack of layer specs (what `TrainConfig.layers` holds) plus the part of a config
it implies (loss and optimizer as `TrainConfig.to_dict()` spells them). The Playground's preset
buttons, the lessons, the Draw page's default model and the benchmarks all take their stacks from
here, so the classic one-conv CNN is written once. Knows nothing about Streamlit or training.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ADAM = {"loss": "cross_entropy", "optimizer": {"name": "adam", "lr": 1e-3}}


@dataclass(frozen=True)
class Preset:
    title: str  # the button's label
    layers: tuple[dict, ...]  # layer specs, e.g. {"type": "linear", "out": 100}
    tip: str  # one line: what the stack is
    training: dict = field(default_factory=dict)  # config fragment it also sets: {"loss": ..., "optimizer": {...}}

    def stack(self) -> list[dict]:
        """A fresh copy of the layer specs (callers may edit it)."""
        return [dict(spec) for spec in self.layers]


LINEAR = Preset("Linear", ({"type": "linear"},), "a single Linear layer: a straight decision boundary")
RELU_NET = Preset("ReLU net", ({"type": "linear", "out": 100}, {"type": "relu"}, {"type": "linear"}),
                  "one hidden layer of 100 ReLU units")
TANH_NET = Preset("Tanh net", ({"type": "linear", "out": 16}, {"type": "tanh"}, {"type": "linear", "out": 16},
                               {"type": "tanh"}, {"type": "linear"}), "two hidden layers of 16 Tanh units")
ONE_CONV_CNN = Preset(
    "One-conv CNN",
    ({"type": "conv2d", "out": 32, "kernel": 3, "padding": 1}, {"type": "relu"}, {"type": "maxpool2d", "kernel": 2},
     {"type": "flatten"}, {"type": "linear"}),
    "the classic: conv 32 3x3 pad 1, ReLU, max-pool 2, Linear 10; cross-entropy + Adam 1e-3", ADAM)
TWO_CONV_DROPOUT = Preset(
    "Two-conv + dropout",
    ({"type": "conv2d", "out": 10, "kernel": 5}, {"type": "maxpool2d", "kernel": 2}, {"type": "relu"},
     {"type": "conv2d", "out": 20, "kernel": 5}, {"type": "dropout2d", "p": 0.5}, {"type": "maxpool2d", "kernel": 2},
     {"type": "relu"}, {"type": "flatten"}, {"type": "linear", "out": 50}, {"type": "relu"},
     {"type": "dropout", "p": 0.5}, {"type": "linear"}, {"type": "log_softmax"}),
    "PyTorch's MNIST example: two 5x5 convs with dropout, log-softmax + NLL loss, SGD 0.01 momentum 0.5 "
    "(needs 28x28 images)",
    {"loss": "nll", "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.5}})
RESIDUAL = Preset(
    "Residual",
    ({"type": "conv2d", "out": 16, "kernel": 3, "padding": 1}, {"type": "batchnorm2d"}, {"type": "relu"},
     {"type": "residual"}, {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear"}),
    "conv 16 + a residual block (two 3x3 convs with a skip connection), then Linear", ADAM)
MLP = Preset("MLP", ({"type": "flatten"}, {"type": "linear", "out": 128}, {"type": "relu"}, {"type": "linear"}),
             "no convolutions: flatten the pixels into a 128-unit ReLU layer", ADAM)
CIFAR_CNN = Preset(
    "CIFAR CNN",
    ({"type": "conv2d", "out": 16, "kernel": 3, "padding": 1}, {"type": "relu"}, {"type": "maxpool2d", "kernel": 2},
     {"type": "conv2d", "out": 32, "kernel": 3, "padding": 1}, {"type": "relu"}, {"type": "maxpool2d", "kernel": 2},
     {"type": "flatten"}, {"type": "linear"}),
    "the classic colour CNN: conv 16 and conv 32 (3x3 pad 1), each with ReLU and max-pool 2, then Linear "
    "32*8*8 -> 10 on 32x32 images; cross-entropy + Adam 1e-3", ADAM)
SMALL_RESNET = Preset(
    "Small ResNet",
    ({"type": "conv2d", "out": 16, "kernel": 3, "padding": 1}, {"type": "batchnorm2d"}, {"type": "relu"},
     {"type": "residual"}, {"type": "residual", "out": 32, "stride": 2}, {"type": "maxpool2d", "kernel": 2},
     {"type": "flatten"}, {"type": "linear"}),
    "conv 16, a residual block, a second one to 32 channels at half the size, max-pool 2, then Linear "
    "(32*8*8 -> 10 on 32x32 images)", ADAM)

TOY_PRESETS = {preset.title: preset for preset in (LINEAR, RELU_NET, TANH_NET)}
IMAGE_PRESETS = {preset.title: preset for preset in (ONE_CONV_CNN, TWO_CONV_DROPOUT, RESIDUAL, MLP)}
# colour images (CIFAR-10): the colour nets first; PyTorch's MNIST example is left out, it is MNIST's own
COLOUR_PRESETS = {preset.title: preset for preset in (CIFAR_CNN, SMALL_RESNET, ONE_CONV_CNN, MLP)}
TOY_EPOCHS = 1000  # what the Playground suggests for toy data...
IMAGE_EPOCHS = 3  # ...and for images, when the dataset switches between the two kinds


def presets_for(is_image: bool, channels: int = 1) -> dict[str, Preset]:
    """The presets offered for toy data, grey images or colour (3-channel) images."""
    if not is_image:
        return TOY_PRESETS
    return COLOUR_PRESETS if channels == 3 else IMAGE_PRESETS


def starting_preset(is_image: bool, channels: int = 1) -> Preset:
    """The stack the Playground swaps in when the dataset changes to this kind."""
    if not is_image:
        return RELU_NET
    return CIFAR_CNN if channels == 3 else ONE_CONV_CNN


def suggested_epochs(is_image: bool) -> int:
    return IMAGE_EPOCHS if is_image else TOY_EPOCHS
