"""Which models the Draw page can predict with, what one drawing costs them, and what it says about them.

A drawing is a 28x28 grey image (`DIGIT_SHAPE`), so only models of such images can read it;
`input_problem` says why another model cannot. `drawing_work` counts what explaining one drawing
costs a model on this server (`explain.DrawingWork`); `too_large` and `no_occlusion` are the
sentences when that is over the server's cap. `describe` is the one-line caption of a model.
Knows nothing about Streamlit, the canvas or where a model came from (the Playground, an upload
or the default model).
"""
from __future__ import annotations

from . import explain
from .budget import forward_flops
from .checkpoint import LoadedModel
from .config import TrainConfig
from .datasets import DATASETS
from .explain import DrawingWork
from .model import plan_for

DIGIT_SHAPE = (1, 28, 28)  # (C, H, W) of a drawing as the model sees it


def input_problem(input_shape: tuple[int, ...]) -> str | None:
    """Why a model of `input_shape` inputs cannot read drawings, or None when it can."""
    if tuple(input_shape) == DIGIT_SHAPE:
        return None
    shape = "x".join(map(str, input_shape))
    if len(input_shape) == 3 and input_shape[0] == 3:
        return (f"That model takes {shape} colour images (red, green and blue channels, e.g. CIFAR-10); a drawing "
                "is one grey channel of 28x28 pixels, so it cannot read it. Drawings need a model of 28x28 grey "
                "images (MNIST or Fashion-MNIST).")
    return f"That model takes {shape} inputs; drawings need a model of 28x28 grey images (MNIST or Fashion-MNIST)."


def drawing_work(config: TrainConfig) -> DrawingWork:
    """What explaining one drawing costs the model of `config` on this server (counted, not run)."""
    return explain.drawing_work(forward_flops(plan_for(config)), *DIGIT_SHAPE[1:])


def billions(flops: int) -> str:
    """`flops` in words: "5.6 billion"."""
    return f"{flops / 1e9:,.1f} billion"


def too_large(work: DrawingWork) -> str:
    """Why a model whose guess is over the cap cannot be used on every stroke."""
    return (f"That model is too large to run here on every stroke: each drawing would cost {billions(work.guess)} "
            f"operations, and this server allows {billions(work.cap)} per drawing (about a second of one "
            "processor core). Use fewer or narrower convolution layers, or pool earlier.")


def no_occlusion(work: DrawingWork) -> str:
    """Why the occlusion map is left out for a model whose guess fits but whose explanation does not."""
    return (f"This model is too large for the occlusion map here: it would cost "
            f"{billions(work.guess + work.occlusion)} operations per drawing, over this server's "
            f"{billions(work.cap)}. The guess and the feature maps are still shown.")


def describe(model: LoadedModel) -> str:
    """One line (Markdown) on the model: its layer count, its data and its test accuracy."""
    accuracy = model.metrics.get("test_accuracy")
    score = f"test accuracy **{accuracy:.1%}**" if accuracy is not None else "no recorded test accuracy"
    data = DATASETS[model.config.dataset.name].title
    return f"Using a {len(model.config.layers)}-layer model trained on {data}: {score}."
