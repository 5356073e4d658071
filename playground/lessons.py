"""The lessons gallery: one-click setups of the classic examples, each with its story and outcome.

A `Lesson` is a config (or, for a race, several configs trained side by side), a few sentences
saying what to watch for, and an `Outcome`: what to measure when the run ends and the range the
lesson promises. `measure` reads that value from a finished engine, `verdict` compares it with the
promise. The MNIST lessons promise what the offline 5,000-digit subset reaches; full MNIST does
better. Knows nothing about Streamlit, threads or figures.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .config import TrainConfig
from .presets import ONE_CONV_CNN, RELU_NET, RESIDUAL, TWO_CONV_DROPOUT, Preset


@dataclass(frozen=True)
class Outcome:
    """What a lesson promises: `measure` (a MEASURES key) lands in [low, high] when the run ends."""

    measure: str
    low: float
    high: float
    promise: str  # in words: "test accuracy near 50%"


@dataclass(frozen=True)
class Verdict:
    value: float | None
    as_promised: bool
    text: str  # "Test accuracy 0.46: as the lesson said (near 50%)."


@dataclass(frozen=True)
class Question:
    """Asked before Train ("predict, then press play"): `prompt`, its `choices`, and the index of
    the choice the lesson's outcome bears out."""

    prompt: str  # "A linear model on the spiral will reach:"
    choices: tuple[str, ...]  # ("about 33%", "about 50%", "about 95%")
    answer: int  # index into choices


@dataclass(frozen=True)
class Lesson:
    slug: str  # its name in links: ?lesson=spiral-relu
    title: str
    story: str  # two or three sentences: what it shows and why
    outcome: Outcome
    config: TrainConfig  # the setup (a race: its first entrant's)
    race: tuple[tuple[str, TrainConfig], ...] = ()  # entrants trained side by side, curves overlaid
    hide: tuple[str, ...] = ()  # controls the lesson link hides (see share.HIDEABLE)
    question: Question | None = None  # asked before Train; the answer is shown against the result
    # A race's promise: its entrants' final metrics (name -> dict, None when it did not finish) -> Verdict.
    judge: Callable[[dict[str, dict | None]], Verdict] | None = None

    @property
    def is_race(self) -> bool:
        return bool(self.race)


def _test_accuracy(engine, final: dict) -> float | None:
    return final.get("test_accuracy")


def _prediction_at_5(engine, final: dict) -> float:
    return float(engine.predict(np.array([[5.0]], dtype=np.float32))[0, 0])


MEASURES: dict[str, tuple[str, Callable]] = {  # name -> (label, function of (engine, final metrics))
    "test_accuracy": ("Test accuracy", _test_accuracy),
    "prediction_at_5": ("Prediction for x = 5.0", _prediction_at_5),
}


def measure(lesson: Lesson, engine, final: dict) -> float | None:
    """The lesson's measured value for a finished engine and its final metrics."""
    return MEASURES[lesson.outcome.measure][1](engine, final)


def verdict(lesson: Lesson, value: float | None) -> Verdict:
    outcome = lesson.outcome
    label = MEASURES[outcome.measure][0]
    if value is None:
        return Verdict(None, False, f"{label} could not be measured.")
    ok = outcome.low <= value <= outcome.high
    shown = f"{value:.2%}" if outcome.measure == "test_accuracy" else f"{value:.3f}"
    if ok:
        return Verdict(value, True, f"{label} {shown}: as the lesson said ({outcome.promise}).")
    return Verdict(value, False, f"{label} {shown}: the lesson expected {outcome.promise}. "
                                 "Did a setting change? Reopen the lesson to start over.")


def race_result(lesson: Lesson, finals: dict[str, dict | None]) -> Verdict:
    """A race lesson's verdict on its entrants' final metrics (entrant name -> final dict or None)."""
    return lesson.judge({name: finals.get(name) for name, _ in lesson.race})


def optimizer_race_verdict(finals: dict[str, dict | None]) -> Verdict:
    """The optimizer race's judge: reads each entrant's final train loss (see `race_verdict`)."""
    return race_verdict({name: (final or {}).get("train_loss") for name, final in finals.items()})


def race_verdict(final_losses: dict[str, float | None]) -> Verdict:
    """The optimizer race's promise: plain SGD ends highest, momentum next, Adam and RMSprop lowest."""
    losses = {name: value for name, value in final_losses.items() if value is not None}
    if len(losses) < len(final_losses) or len(losses) < 4:
        return Verdict(None, False, "Not every entrant finished, so the race has no result.")
    sgd, momentum, adam, rmsprop = (losses[name] for name in RACE_ORDER)
    ok = sgd > momentum > max(adam, rmsprop)
    ranking = " < ".join(f"{name} {losses[name]:.3f}" for name in sorted(losses, key=losses.get))
    text = f"Final train loss: {ranking}. " + ("As the lesson said: the adaptive optimizers win, momentum helps SGD."
                                              if ok else "Not the order the lesson expected.")
    return Verdict(None, ok, text)


TRANSFER_ORDER = ("MNIST features + new head", "From scratch")


def transfer_race_verdict(finals: dict[str, dict | None]) -> Verdict:
    """The transfer race's promise: the reused digit features end ahead of the same net from scratch."""
    scores = {name: (final or {}).get("test_accuracy") for name, final in finals.items()}
    if len(scores) < 2 or None in scores.values():
        return Verdict(None, False, "Not every entrant finished, so the race has no result.")
    reused, scratch = (scores[name] for name in TRANSFER_ORDER)
    ok = reused > scratch
    text = (f"Test accuracy: reused features + new head {reused:.1%}, from scratch {scratch:.1%}. "
            + ("As the lesson said: with few photos, features learned on digits give a head start."
               if ok else "Not what the lesson expected: from scratch ended level or ahead."))
    return Verdict(reused, ok, text)


def _config(data: dict) -> TrainConfig:
    return TrainConfig.from_dict({"device": "auto", **data})


def _mnist(preset: Preset, epochs: int) -> TrainConfig:
    """A preset on MNIST with the loss and optimizer it comes with, in mini-batches of 64."""
    return _config({"dataset": {"name": "mnist"}, "layers": preset.stack(), **preset.training, "epochs": epochs,
                    "batch_size": 64})


RACE_ORDER = ("SGD", "SGD + momentum", "Adam", "RMSprop")
RACE_LR = 0.02  # one learning rate for all: at 0.05 RMSprop's loss spikes late in the race
_RACE_BASE = {"dataset": {"name": "spiral", "n_per_class": 300}, "layers": RELU_NET.stack(), "epochs": 300}
_RACE = tuple((name, _config({**_RACE_BASE, "optimizer": optimizer})) for name, optimizer in zip(RACE_ORDER, (
    {"name": "sgd", "lr": RACE_LR}, {"name": "sgd", "lr": RACE_LR, "momentum": 0.9},
    {"name": "adam", "lr": RACE_LR}, {"name": "rmsprop", "lr": RACE_LR})))

# 500 Fashion-MNIST photos, three epochs (seconds on a CPU): the one-conv CNN whose conv layer comes from the
# Draw page's MNIST model and stays frozen, only a new Linear head learning; and the same net from scratch.
_FASHION = {"dataset": {"name": "fashion_mnist", "train_images": 500, "test_images": 1000},
            "layers": ONE_CONV_CNN.stack(), **ONE_CONV_CNN.training, "epochs": 3, "batch_size": 64}
_TRANSFER = tuple(zip(TRANSFER_ORDER, (_config({**_FASHION, "start_from": "default:mnist", "freeze": 4}),
                                       _config(_FASHION))))

LESSONS: dict[str, Lesson] = {lesson.slug: lesson for lesson in (
    Lesson("spiral-linear", "A straight line cannot follow a spiral",
           "Three spiral arms, and a model with a single Linear layer: it can only cut the plane with straight "
           "lines. However long it trains, about half the points stay on the wrong side. Watch the boundary: "
           "three flat wedges.",
           Outcome("test_accuracy", 0.35, 0.62, "test accuracy near 50%"),
           _config({"layers": [{"type": "linear"}]})),
    Lesson("spiral-relu", "Add a hidden ReLU layer",
           "The same spiral with 100 ReLU units between input and output. Each unit bends the boundary once, "
           "together they wrap around the arms. Accuracy climbs to about 95%.",
           Outcome("test_accuracy", 0.9, 1.0, "test accuracy about 95%"),
           _config({"layers": RELU_NET.stack()})),
    Lesson("line", "Linear regression: learn y = 2x",
           "Four points on y = 2x and one Linear layer (a weight and a bias), MSE loss, plain SGD with learning "
           "rate 0.01. After 1,000 epochs the weight is close to 2, so the model predicts about 10 for x = 5.",
           Outcome("prediction_at_5", 9.9, 10.1, "a prediction of about 10.0 for x = 5.0"),
           _config({"dataset": {"name": "linear_regression"}, "layers": [{"type": "linear"}], "loss": "mse",
                    "optimizer": {"name": "sgd", "lr": 0.01}, "epochs": 1000})),
    Lesson("coffee", "Coffee roasting: sigmoid units and BCE",
           "Good roasts lie in a triangle of temperature and duration. Three sigmoid units each draw one edge "
           "of it; a sigmoid output with binary cross-entropy gives the probability of a good roast. Inputs "
           "are standardised first; Adam does the rest.",
           Outcome("test_accuracy", 0.95, 1.0, "test accuracy above 95%"),
           _config({"dataset": {"name": "coffee_roast", "n_samples": 1000},
                    "layers": [{"type": "linear", "out": 3}, {"type": "sigmoid"}, {"type": "linear", "out": 1},
                               {"type": "sigmoid"}], "loss": "bce", "optimizer": {"name": "adam", "lr": 0.1},
                    "epochs": 3000})),
    Lesson("mnist-cnn", "MNIST with one convolution",
           "32 learned 3x3 filters slide over each digit, max-pooling halves the image, and one Linear layer "
           "reads the result. Three epochs reach about 94% on the 5,000-digit offline set and about 98% on "
           "full MNIST. Open the filters tab to see what it learned.",
           Outcome("test_accuracy", 0.92, 1.0, "test accuracy above 92%"),
           _mnist(ONE_CONV_CNN, 3)),
    Lesson("mnist-dropout", "PyTorch's MNIST example: dropout and NLL",
           "Two 5x5 convolutions, dropout on whole channels and on the hidden layer, and a LogSoftmax output "
           "trained with the NLL loss by SGD with momentum 0.5, exactly as in PyTorch's examples. Dropout makes "
           "training noisier and slower: about 90% after five epochs on the subset.",
           Outcome("test_accuracy", 0.85, 1.0, "test accuracy above 85%"),
           _mnist(TWO_CONV_DROPOUT, 5)),  # NLL loss, SGD 0.01 with momentum 0.5, as in PyTorch's example
    Lesson("residual", "A residual block",
           "A convolution, then a residual block: two 3x3 convolutions whose output is added to their input. "
           "The skip connection lets gradients flow straight through, which is what lets very deep networks "
           "train. Two epochs reach about 96% on the subset.",
           Outcome("test_accuracy", 0.93, 1.0, "test accuracy above 93%"),
           _mnist(RESIDUAL, 2)),
    Lesson("optimizer-race", "Optimizer race: SGD, momentum, Adam, RMSprop",
           "The same ReLU net on the same spiral, trained four times with the same learning rate (0.02) by four "
           "optimizers, curves overlaid. Plain SGD crawls, momentum speeds it up, and the adaptive optimizers "
           "(Adam, RMSprop) race ahead.",
           Outcome("test_accuracy", 0.0, 1.0, "plain SGD's loss highest, then momentum's, Adam and RMSprop lowest"),
           _RACE[0][1], race=_RACE, judge=optimizer_race_verdict),
    Lesson("transfer", "Transfer learning: digit features for clothes",
           "The one-conv CNN of the Draw page learned its 32 filters on MNIST digits. Here they are reused on "
           "Fashion-MNIST, frozen, and only a new Linear head learns the 10 kinds of clothes, from just 500 "
           "photos; beside it the same net learns everything from scratch. Strokes and edges carry over: the "
           "reused features end a few points ahead (about 72% against 68% on the offline data).",
           Outcome("test_accuracy", 0.0, 1.0, "the reused features end ahead of the net from scratch"),
           _TRANSFER[0][1], race=_TRANSFER, judge=transfer_race_verdict,
           question=Question("500 clothes photos, three epochs: the CNN with frozen filters learned on digits "
                             "and a new head, or the same CNN trained from scratch. Which ends ahead?",
                             ("the reused digit features", "from scratch", "exactly level"), 0)),
)}
