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
    the choice the lesson's outcome bears out. With `edges`, the choices are ranges of the measured
    value (ascending; choice i holds values from edges[i - 1] up to edges[i]), so a run's result
    falls into one of them (`quiz.choice_for`); without, the lesson's verdict decides."""

    prompt: str  # "A linear model on the spiral will reach:"
    choices: tuple[str, ...]  # ("about 33%", "about 50%", "about 95%")
    answer: int  # index into choices
    edges: tuple[float, ...] = ()  # len(choices) - 1 cut points between the choices' ranges, or ()


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
    "test_r2": ("Test R²", lambda engine, final: final.get("test_r2")),
}


def measure(lesson: Lesson, engine, final: dict) -> float | None:
    """The lesson's measured value for a finished engine and its final metrics."""
    return MEASURES[lesson.outcome.measure][1](engine, final)


def shown_value(measure_name: str, value: float) -> str:
    """A measured value as the page shows it: accuracy in percent, anything else to 3 decimals."""
    return f"{value:.2%}" if measure_name == "test_accuracy" else f"{value:.3f}"


def verdict(lesson: Lesson, value: float | None) -> Verdict:
    outcome = lesson.outcome
    label = MEASURES[outcome.measure][0]
    if value is None:
        return Verdict(None, False, f"{label} could not be measured.")
    ok = outcome.low <= value <= outcome.high
    shown = shown_value(outcome.measure, value)
    if ok:
        return Verdict(value, True, f"{label} {shown}: as the lesson said ({outcome.promise}).")
    return Verdict(value, False, f"{label} {shown}: the lesson expected {outcome.promise}. "
                                 "Did a setting change? Reopen the lesson to start over.")


def race_result(lesson: Lesson, finals: dict[str, dict | None]) -> Verdict:
    """A race lesson's verdict on its entrants' final metrics (entrant name -> final dict or None)."""
    return lesson.judge({name: finals.get(name) for name, _ in lesson.race})


NO_RESULT = "Not every entrant finished, so the race has no result."


def _scores(finals: dict[str, dict | None], key: str) -> dict[str, float] | None:
    """Each entrant's final `key`; None when an entrant has none (it did not finish)."""
    scores = {name: (final or {}).get(key) for name, final in finals.items()}
    return None if not scores or None in scores.values() else scores


def optimizer_race_verdict(finals: dict[str, dict | None]) -> Verdict:
    """The optimizer race's judge: reads each entrant's final train loss (see `race_verdict`)."""
    return race_verdict({name: (final or {}).get("train_loss") for name, final in finals.items()})


def race_verdict(final_losses: dict[str, float | None]) -> Verdict:
    """The optimizer race's promise: plain SGD ends highest, momentum next, Adam and RMSprop lowest."""
    losses = {name: value for name, value in final_losses.items() if value is not None}
    if len(losses) < len(final_losses) or len(losses) < 4:
        return Verdict(None, False, NO_RESULT)
    sgd, momentum, adam, rmsprop = (losses[name] for name in RACE_ORDER)
    ok = sgd > momentum > max(adam, rmsprop)
    ranking = " < ".join(f"{name} {losses[name]:.3f}" for name in sorted(losses, key=losses.get))
    text = f"Final train loss: {ranking}. " + ("As the lesson said: the adaptive optimizers win, momentum helps SGD."
                                              if ok else "Not the order the lesson expected.")
    return Verdict(None, ok, text)


def augment_race_verdict(finals: dict[str, dict | None]) -> Verdict:
    """The augmentation race's judge: the augmented entrant's train-test accuracy gap is the smaller one."""
    train, test = _scores(finals, "train_accuracy"), _scores(finals, "test_accuracy")
    if train is None or test is None:
        return Verdict(None, False, NO_RESULT)
    gaps = {name: train[name] - test[name] for name in finals}
    plain, augmented = (gaps[name] for name in AUGMENT_RACE_ORDER)
    ok = augmented < plain - AUGMENT_MARGIN
    text = "; ".join(f"{name}: train {train[name]:.1%}, test {test[name]:.1%}, "
                     f"gap {gaps[name]:.1%}" for name in AUGMENT_RACE_ORDER)
    return Verdict(augmented, ok, text + (". As the lesson said: augmentation narrows the gap." if ok else
                                          ". Not the gap the lesson expected."))


TRANSFER_ORDER = ("MNIST features + new head", "From scratch")


def transfer_race_verdict(finals: dict[str, dict | None]) -> Verdict:
    """The transfer race's promise: the reused digit features end ahead of the same net from scratch."""
    scores = _scores(finals, "test_accuracy")
    if scores is None or len(scores) < 2:
        return Verdict(None, False, NO_RESULT)
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

AUGMENT_RACE_ORDER = ("Plain", "Augmented")
AUGMENT_MARGIN = 0.02  # the augmented gap is at least this much smaller (measured: 12% vs 7-9% over seeds)
_AUGMENT_BASE = {"dataset": {"name": "mnist", "train_images": 300, "test_images": 1000}, "layers": ONE_CONV_CNN.stack(),
                 **ONE_CONV_CNN.training, "epochs": 20, "batch_size": 32}
_AUGMENT_RACE = (("Plain", _config(_AUGMENT_BASE)),
                 ("Augmented", _config({**_AUGMENT_BASE, "augment": {"crop": 2, "rotate": 10}})))


PLATEAU_ORDER = ("Constant rate", "Reduce on plateau")
_PLATEAU_BASE = {"dataset": {"name": "spiral", "n_per_class": 300}, "layers": RELU_NET.stack(), "epochs": 200,
                 "optimizer": {"name": "sgd", "lr": 5.0}}  # far too high: the loss jumps about and stalls
_PLATEAU_RACE = tuple((name, _config({**_PLATEAU_BASE, "schedule": schedule})) for name, schedule in zip(
    PLATEAU_ORDER, ({"name": "none"}, {"name": "plateau", "factor": 0.5, "patience": 3})))


def plateau_race_verdict(finals: dict[str, dict | None]) -> Verdict:
    """The plateau lesson's judge: the plateau entrant ends at least 10 points of test accuracy above the
    constant rate, and above 85%."""
    scores = _scores(finals, "test_accuracy")
    if scores is None or len(scores) < 2:
        return Verdict(None, False, NO_RESULT)
    constant, plateau = (scores[name] for name in PLATEAU_ORDER)
    ok = plateau >= max(constant + 0.10, 0.85)
    text = f"Test accuracy: constant rate {constant:.1%}, reduce on plateau {plateau:.1%}. " + (
        "As the lesson said: cutting the rate when the test loss stalls rescues the run." if ok
        else "Not what the lesson expected: did a setting change?")
    return Verdict(plateau, ok, text)


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
           _config({"layers": [{"type": "linear"}]}),
           question=Question("A single Linear layer on the three-arm spiral will reach a test accuracy of:",
                             ("about 33%: no better than guessing", "about 50%", "about 95%"), 1, (0.34, 0.75))),
    Lesson("spiral-relu", "Add a hidden ReLU layer",
           "The same spiral with 100 ReLU units between input and output. Each unit bends the boundary once, "
           "together they wrap around the arms. Accuracy climbs to about 95%.",
           Outcome("test_accuracy", 0.9, 1.0, "test accuracy about 95%"),
           _config({"layers": RELU_NET.stack()}),
           question=Question("With 100 ReLU units between input and output, the test accuracy will reach:",
                             ("about 50%: still straight lines", "about 75%", "about 95%"), 2, (0.62, 0.88))),
    Lesson("line", "Linear regression: learn y = 2x",
           "Four points on y = 2x and one Linear layer (a weight and a bias), MSE loss, plain SGD with learning "
           "rate 0.01. After 1,000 epochs the weight is close to 2, so the model predicts about 10 for x = 5.",
           Outcome("prediction_at_5", 9.9, 10.1, "a prediction of about 10.0 for x = 5.0"),
           _config({"dataset": {"name": "linear_regression"}, "layers": [{"type": "linear"}], "loss": "mse",
                    "optimizer": {"name": "sgd", "lr": 0.01}, "epochs": 1000}),
           question=Question("After 1,000 epochs of plain SGD, the model's prediction for x = 5 will be:",
                             ("near 0: a learning rate of 0.01 barely moves it", "about 5", "about 10",
                              "far above 10: it overshoots"), 2, (2.5, 7.5, 12.5))),
    Lesson("coffee", "Coffee roasting: sigmoid units and BCE",
           "Good roasts lie in a triangle of temperature and duration. Three sigmoid units each draw one edge "
           "of it; a sigmoid output with binary cross-entropy gives the probability of a good roast. Inputs "
           "are standardised first; Adam does the rest.",
           Outcome("test_accuracy", 0.95, 1.0, "test accuracy above 95%"),
           _config({"dataset": {"name": "coffee_roast", "n_samples": 1000},
                    "layers": [{"type": "linear", "out": 3}, {"type": "sigmoid"}, {"type": "linear", "out": 1},
                               {"type": "sigmoid"}], "loss": "bce", "optimizer": {"name": "adam", "lr": 0.1},
                    "epochs": 3000}),
           question=Question("Three sigmoid units and a sigmoid output will sort good roasts from bad with a test "
                             "accuracy of:", ("about 60%", "about 80%", "above 90%"), 2, (0.7, 0.9))),
    Lesson("mnist-cnn", "MNIST with one convolution",
           "32 learned 3x3 filters slide over each digit, max-pooling halves the image, and one Linear layer "
           "reads the result. Three epochs reach about 94% on the 5,000-digit offline set and about 98% on "
           "full MNIST. Open the filters tab to see what it learned.",
           Outcome("test_accuracy", 0.92, 1.0, "test accuracy above 92%"),
           _mnist(ONE_CONV_CNN, 3),
           question=Question("One convolution and three epochs on the digits: the test accuracy will be:",
                             ("about 50%", "about 80%", "above 90%"), 2, (0.65, 0.9))),
    Lesson("mnist-dropout", "PyTorch's MNIST example: dropout and NLL",
           "Two 5x5 convolutions, dropout on whole channels and on the hidden layer, and a LogSoftmax output "
           "trained with the NLL loss by SGD with momentum 0.5, exactly as in PyTorch's examples. Dropout makes "
           "training noisier and slower: about 90% after five epochs on the subset.",
           Outcome("test_accuracy", 0.85, 1.0, "test accuracy above 85%"),
           _mnist(TWO_CONV_DROPOUT, 5),  # NLL loss, SGD 0.01 with momentum 0.5, as in PyTorch's example
           question=Question("Dropout switches off random parts of the network at every step. After five epochs "
                             "the test accuracy will be:", ("below 50%: too much is switched off", "50% to 80%",
                                                            "above 80%"), 2, (0.5, 0.8))),
    Lesson("residual", "A residual block",
           "A convolution, then a residual block: two 3x3 convolutions whose output is added to their input. "
           "The skip connection lets gradients flow straight through, which is what lets very deep networks "
           "train. Two epochs reach about 96% on the subset.",
           Outcome("test_accuracy", 0.93, 1.0, "test accuracy above 93%"),
           _mnist(RESIDUAL, 2),
           question=Question("A convolution and a residual block, two epochs: the test accuracy will be:",
                             ("about 50%", "about 80%", "above 90%"), 2, (0.65, 0.9))),
    Lesson("optimizer-race", "Optimizer race: SGD, momentum, Adam, RMSprop",
           "The same ReLU net on the same spiral, trained four times with the same learning rate (0.02) by four "
           "optimizers, curves overlaid. Plain SGD crawls, momentum speeds it up, and the adaptive optimizers "
           "(Adam, RMSprop) race ahead.",
           Outcome("test_accuracy", 0.0, 1.0, "plain SGD's loss highest, then momentum's, Adam and RMSprop lowest"),
           _RACE[0][1], race=_RACE, judge=optimizer_race_verdict,
           question=Question("Same net, same spiral, same learning rate: which optimizer ends with the highest "
                             "train loss?", ("plain SGD", "SGD + momentum", "Adam", "RMSprop"), 0)),
    Lesson("rnn-digits", "An RNN reads digits row by row",
           "The classic MNIST with an RNN: an LSTM reads each 28x28 digit as 28 steps of 28 pixels, top row "
           "first, carrying what it saw in its 64-value memory, and only its last step's output is classified. "
           "It never sees the whole image at once, yet three epochs reach about 90% on the offline subset.",
           Outcome("test_accuracy", 0.85, 1.0, "test accuracy above 85%"),
           _config({"dataset": {"name": "mnist"}, "layers": [{"type": "lstm", "hidden": 64}, {"type": "linear"}],
                    "optimizer": {"name": "adam", "lr": 0.005}, "epochs": 3, "batch_size": 64}),
           question=Question("An LSTM sees a digit one row at a time and must remember the rest. After three "
                             "epochs on the 5,000-digit set, its test accuracy will be about:",
                             ("10%: one row at a time is guessing", "50%", "90%"), 2, (0.3, 0.7))),
    Lesson("sine-next", "Predict what comes next: a GRU on a noisy sine",
           "Each sample is 20 values in a row of a noisy sine wave; a GRU reads them one step at a time and "
           "predicts the 21st. The chart shows its predictions against the truth over the test windows: they "
           "follow the wave, and the noise is what is left, so R² ends above 0.9.",
           Outcome("test_r2", 0.9, 1.0, "a test R² above 0.9"),
           _config({"dataset": {"name": "sine_sequence"}, "layers": [{"type": "gru", "hidden": 16},
                                                                     {"type": "linear"}],
                    "loss": "mse", "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 40, "batch_size": 32}),
           question=Question("A GRU reads the previous 20 values of a noisy sine. How well will it predict the "
                             "next one (R², where 1 is perfect and 0 is no better than the mean)?",
                             ("about 0: noise makes it unpredictable", "about 0.5", "close to 1"), 2, (0.25, 0.75))),
    Lesson("augmentation", "Augmentation: overfitting on a small subset, with and without",
           "Only 300 digits and 20 epochs: the one-conv CNN learns them by heart, near 100% on its training images "
           "but far less on new ones. The second entrant sees each digit shifted by up to 2 pixels and turned by "
           "up to 10 degrees, anew every epoch, so it cannot memorise the pixels; the gap between its train and "
           "test accuracy shrinks.",
           Outcome("test_accuracy", 0.0, 1.0, "a smaller gap between train and test accuracy with augmentation"),
           _AUGMENT_RACE[0][1], race=_AUGMENT_RACE, judge=augment_race_verdict,
           question=Question("Trained on 300 digits with random shifts and turns, the gap between train and test "
                             "accuracy will be:", ("larger than without", "about the same", "smaller than without"),
                             2)),
    Lesson("schedule-plateau", "Schedules: reduce on plateau rescues a too-high learning rate",
           "Plain SGD at learning rate 5, far too high for this ReLU net on the spiral, trained twice: once at that "
           "rate throughout, once with a plateau schedule that halves the rate whenever the test loss has not "
           "improved for 3 evaluations in a row (torch's ReduceLROnPlateau). Watch the learning-rate curve step down "
           "and the loss settle.",
           Outcome("test_accuracy", 0.85, 1.0, "reduce on plateau at least 10 points above the constant rate"),
           _PLATEAU_RACE[1][1], race=_PLATEAU_RACE, judge=plateau_race_verdict,
           question=Question("SGD at learning rate 5 (far too high) on the spiral. Halving the rate each time the "
                             "test loss stalls will end:",
                             ("about where the constant rate ends", "clearly higher, above 90% test accuracy",
                              "lower: the cuts stop it learning"), 1)),
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
