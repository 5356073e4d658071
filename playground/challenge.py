"""A class challenge: which runs count (a dataset, a goal, a limit) and what ranks them.

The teacher sets a challenge as a small JSON object, kept as is by `classroom.ClassStore.set_challenge`:

    {"dataset": "spiral", "data": {"classes": 3, "noise": 0.2},       # optional: any dataset when absent
     "goal": {"metric": "test_accuracy", "value": 0.9},                # optional: at least (a loss: at most)
     "max_epochs": 200,                                                # optional: at most this many epochs
     "rank": "parameters"}                                             # parameters | epochs | test_accuracy
                                                                       # | test_r2 | test_loss
`Challenge.from_dict` reads it strictly (`ChallengeError` naming the key), `describe()` says it in one
sentence ("≥ 90% test accuracy on the spiral (classes 3, noise 0.2) with the fewest parameters").
`judge` says whether one saved run (a `runstore.RunRecord`) is a valid entry, or why not: it must have
finished (completed or stopped, not diverged or failed), trained on the dataset (with the pinned data
settings), trained at most `max_epochs` epochs in all (its final metrics' epoch count, as it actually
trained: a stopped run counts the epochs it did, a run continued from another counts those too; a run
that started from a saved model does not count where epochs do, since its earlier training is unknown),
have the measures the goal and the rank need, and reach the goal. Parameters are counted from the run's
config as the Playground's plan counts them (`model.plan_for`), cached per config. The ranking itself is
`challenge_rank`.
Knows nothing about Streamlit, SQLite, training or HTML.
"""
from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from .checks import check_number, clip, quote
from .config import MAX_EPOCHS, TrainConfig
from .datasets import CSV, DATASETS
from .layers import LayerError
from .model import plan_for
from .runstore import RunRecord
from .start_ids import PRETRAINED
from .tasks import CLASSIFICATION, REGRESSION

KEYS = ("dataset", "data", "goal", "max_epochs", "rank")
GOAL_KEYS = ("metric", "value")
FINISHED = ("completed", "stopped")  # what a run's status must be to count
MAX_GOAL_LOSS = 1e6
PARAMETER_CACHE = 4096  # configs whose parameter count is kept


class ChallengeError(ValueError):
    """A bad challenge value; `key` is its dotted path, e.g. "goal.value"."""

    def __init__(self, key: str, message: str):
        self.key, self.message = key, message
        super().__init__(f"challenge{'.' + key if key else ''}: {message}")


def _percent(value: float) -> str:
    return f"{value * 100:.1f}".rstrip("0").rstrip(".") + "%"


@dataclass(frozen=True)
class Measure:
    """What a run can be ranked by (and, for the metrics, a goal on it)."""

    key: str
    noun: str  # "test accuracy"
    higher: bool  # more is better
    short: Callable[[float], str]  # the value alone: "87.1%", "1,203"
    phrase: str  # the value in a sentence, "{}" for `short`: "with {} test accuracy"
    task: str | None = None  # the only task that has it (None: every run)
    goal_range: tuple[float, float] | None = None  # bounds of a goal on it; None: no goal on it

    @property
    def best(self) -> str:
        """'highest', 'lowest' or (a count) 'fewest'."""
        return "highest" if self.higher else "lowest" if self.goal_range else "fewest"

    def text(self, value: float) -> str:
        return self.phrase.format(self.short(value))

    def better(self, value: float) -> float:
        """A sort key: smaller is better."""
        return -value if self.higher else value


MEASURES = {m.key: m for m in (
    Measure("parameters", "parameters", False, lambda v: f"{int(v):,}", "with {} parameters"),
    Measure("epochs", "epochs", False, lambda v: f"{int(v):,}", "in {} epochs"),
    Measure("test_accuracy", "test accuracy", True, _percent, "with {} test accuracy", CLASSIFICATION, (0.0, 1.0)),
    Measure("test_r2", "test R²", True, lambda v: f"{v:.3f}", "with test R² {}", REGRESSION, (-1.0, 1.0)),
    Measure("test_loss", "test loss", False, lambda v: f"{v:.4g}", "with test loss {}", None, (0.0, MAX_GOAL_LOSS)),
)}
GOAL_METRICS = tuple(key for key, m in MEASURES.items() if m.goal_range)
NEEDS_GOAL = ("parameters", "epochs")  # without a goal a 1-epoch, 1-neuron run would win these


@dataclass(frozen=True)
class Goal:
    metric: str  # one of GOAL_METRICS
    value: float  # at least this (a loss: at most)

    def reached(self, value: float) -> bool:
        return value >= self.value if MEASURES[self.metric].higher else value <= self.value

    def describe(self) -> str:
        measure = MEASURES[self.metric]
        return f"{'≥' if measure.higher else '≤'} {measure.short(self.value)} {measure.noun}"


@dataclass(frozen=True)
class Challenge:
    rank: str  # a key of MEASURES
    dataset: str | None = None  # a DATASETS name; None: any dataset
    data: tuple[tuple[str, int | float], ...] = ()  # the dataset's settings a run must use (others are free)
    goal: Goal | None = None
    max_epochs: int | None = None

    @classmethod
    def from_dict(cls, data: Any) -> "Challenge":
        """The challenge in JSON-like `data`; ChallengeError naming the key when it is not one."""
        if not isinstance(data, Mapping):
            raise ChallengeError("", f"must be a JSON object, got {type(data).__name__}")
        _reject_unknown("", data, KEYS)
        dataset = _dataset(data.get("dataset"))
        goal = _goal(data.get("goal"), dataset)
        return cls(rank=_rank(data.get("rank"), dataset, goal), dataset=dataset, data=_data(data.get("data"), dataset),
                   goal=goal, max_epochs=_optional_number("max_epochs", data.get("max_epochs"), int, 1, MAX_EPOCHS))

    def to_dict(self) -> dict:
        """The JSON object `from_dict` reads (unset parts left out)."""
        parts = {"dataset": self.dataset, "data": dict(self.data) or None, "max_epochs": self.max_epochs,
                 "goal": {"metric": self.goal.metric, "value": self.goal.value} if self.goal else None}
        return {**{key: value for key, value in parts.items() if value is not None}, "rank": self.rank}

    @property
    def measure(self) -> Measure:
        return MEASURES[self.rank]

    def describe(self) -> str:
        """The challenge in one sentence."""
        where = (f" on {dataset_phrase(self.dataset)}" if self.dataset else "") + _data_phrase(self.data)
        within = f" within {self.max_epochs:,} epochs" if self.max_epochs else ""
        measure = self.measure
        if self.goal is None:
            return f"{measure.best} {measure.noun}{where}{within}"
        if self.rank in NEEDS_GOAL:
            return f"{self.goal.describe()}{where}{within} {'with' if self.rank == 'parameters' else 'in'} " \
                   f"the fewest {measure.noun}"
        return f"{self.goal.describe()}{where}{within}: the {measure.best} {measure.noun} wins"


def dataset_phrase(name: str) -> str:
    """'the spiral', 'the MNIST digits'."""
    title = DATASETS[name].title
    return "the " + (title[0].lower() + title[1:] if title[1:2].islower() else title)


def _data_phrase(data: tuple[tuple[str, float], ...]) -> str:
    return " (" + ", ".join(f"{key} {value:g}" for key, value in data) + ")" if data else ""


SIZES = ("n_samples", "n_per_class", "train_images", "test_images")  # data settings that do not make it easier


def default_data(dataset: str) -> tuple[tuple[str, int | float], ...]:
    """The dataset's settings that make it easier or harder (noise, classes, ...), at their defaults: what a
    challenge pins so nobody wins by turning the noise off. Sizes stay free."""
    return tuple((p.name, int(p.default) if p.integer else p.default) for p in DATASETS[dataset].params
                 if p.name not in SIZES)


# The two challenges of the issue, ready to set.
PRESETS = {
    "spiral_fewest_parameters": Challenge(rank="parameters", dataset="spiral",
                                          data=default_data("spiral"), goal=Goal("test_accuracy", 0.9)),
    "lowest_loss_200_epochs": Challenge(rank="test_loss", max_epochs=200),
}


# --- reading a challenge --------------------------------------------------------------------------------

def _reject_unknown(prefix: str, data: Mapping, allowed: tuple[str, ...]) -> None:
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise ChallengeError(f"{prefix}{clip(unknown[0])}", f"unknown key; expected one of: {', '.join(allowed)}")


def _optional_number(key: str, value: Any, kind: type, low: float, high: float):
    if value is None:
        return None
    try:
        return kind(check_number(value, kind, low, high))
    except ValueError as error:
        raise ChallengeError(key, str(error)) from None


def _choice(key: str, value: Any, options) -> str:
    if not isinstance(value, str) or value not in options:
        raise ChallengeError(key, f"{quote(value)} is not one of: {', '.join(options)}")
    return value


def _dataset(value: Any) -> str | None:
    if value is None:
        return None
    shared = tuple(name for name in DATASETS if name != CSV)  # a table is each student's own upload
    return _choice("dataset", value, shared)


def _task(dataset: str | None) -> str | None:
    return DATASETS[dataset].task if dataset else None


def _fits_task(key: str, measure: Measure, dataset: str | None) -> None:
    if dataset and measure.task and measure.task != _task(dataset):
        raise ChallengeError(key, f"{dataset_phrase(dataset)} is a {_task(dataset)} dataset: "
                                  f"it has no {measure.noun}")


def _goal(value: Any, dataset: str | None) -> Goal | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ChallengeError("goal", 'must be an object such as {"metric": "test_accuracy", "value": 0.9}')
    _reject_unknown("goal.", value, GOAL_KEYS)
    metric = _choice("goal.metric", value.get("metric"), GOAL_METRICS)
    _fits_task("goal.metric", MEASURES[metric], dataset)
    if value.get("value") is None:
        raise ChallengeError("goal.value", "is missing: the score to reach, e.g. 0.9 for 90%")
    low, high = MEASURES[metric].goal_range
    return Goal(metric, _optional_number("goal.value", value["value"], float, low, high))


def _rank(value: Any, dataset: str | None, goal: Goal | None) -> str:
    rank = _choice("rank", value, tuple(MEASURES))
    _fits_task("rank", MEASURES[rank], dataset)
    if rank in NEEDS_GOAL and goal is None:
        raise ChallengeError("rank", f"the fewest {rank} needs a goal (else the smallest run that learns "
                                     "nothing wins): add one")
    return rank


def _data(value: Any, dataset: str | None) -> tuple[tuple[str, float], ...]:
    if value is None or value == {}:
        return ()
    if dataset is None:
        raise ChallengeError("data", "pins a dataset's settings: name the dataset too")
    if not isinstance(value, Mapping):
        raise ChallengeError("data", 'must be an object of the dataset\'s settings, e.g. {"noise": 0.2}')
    params = {p.name: p for p in DATASETS[dataset].params}
    _reject_unknown("data.", value, tuple(params))
    return tuple((name, _optional_number(f"data.{name}", value[name], int if params[name].integer else float,
                                         params[name].low, params[name].high))
                 for name in params if name in value)


# --- judging one run ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Facts:
    """What a run measured, as the challenge reads it (None: it does not have it)."""

    parameters: int | None
    epochs: int | None
    test_accuracy: float | None
    test_r2: float | None
    test_loss: float | None

    def get(self, key: str) -> float | None:
        return getattr(self, key)


@dataclass(frozen=True)
class Failure:
    """Why a run is not a valid entry. `closeness`: how near it came (the rule it failed, later is nearer)."""

    closeness: int
    text: str  # "it diverged"
    hint: str  # what to try: "lower the learning rate and train again"
    score: float | None = None  # a missed goal: the run's value of the goal's metric


@dataclass(frozen=True)
class Verdict:
    facts: Facts
    failure: Failure | None  # None: a valid entry

    @property
    def valid(self) -> bool:
        return self.failure is None


def judge(challenge: Challenge, run: RunRecord) -> Verdict:
    """Whether `run` is a valid entry of `challenge` (its time is the caller's business) and what it measured."""
    facts = None
    for closeness, check in enumerate(_CHECKS):
        if facts is None and check is _within_limit:  # the data matches: now it is worth counting
            facts = measure_run(run)
        failure = check(challenge, run, facts)
        if failure is not None:
            return Verdict(facts or measure_run(run, count=False), Failure(closeness, *failure))
    return Verdict(facts, None)


def measure_run(run: RunRecord, count: bool = True) -> Facts:
    """A run's measures; `count`: also its parameters (from its config)."""
    final = run.final if isinstance(run.final, Mapping) else {}
    numbers = {key: _finite(final.get(key)) for key in ("test_accuracy", "test_r2", "test_loss")}
    return Facts(parameters=count_parameters(run.config) if count else None, epochs=trained_epochs(run), **numbers)


def trained_epochs(run: RunRecord) -> int | None:
    """The epochs the run trained in all: its final count, or its curve's last epoch (the larger; a run read
    without its curves has only the final count)."""
    final = run.final.get("epochs") if isinstance(run.final, Mapping) else None
    counts = [int(n) for n in (final, run.history.epochs[-1] if run.history.epochs else None)
              if isinstance(n, (int, float)) and not isinstance(n, bool) and math.isfinite(n)]
    return max(counts) if counts else None


def count_parameters(config: Mapping) -> int | None:
    """The parameters of the model `config` describes, as the Playground's plan counts them; None when the
    config cannot be read (a run saved by another version, a table that is gone)."""
    try:
        return _count(json.dumps(config, sort_keys=True, allow_nan=False))
    except (TypeError, ValueError):
        return None


@functools.lru_cache(maxsize=PARAMETER_CACHE)
def _count(config_json: str) -> int | None:
    try:
        return plan_for(TrainConfig.from_dict(json.loads(config_json))).parameters
    except (ValueError, TypeError, KeyError, OSError, LayerError):
        return None


def _finite(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def _dataset_of(run: RunRecord) -> Mapping:
    dataset = run.config.get("dataset") if isinstance(run.config, Mapping) else None
    return dataset if isinstance(dataset, Mapping) else {}


Found = Optional[tuple]  # (text, hint[, score]) of a failure, or None: the run passes the check


def _finished(challenge: Challenge, run: RunRecord, facts: Facts | None) -> Found:
    if run.status in FINISHED:
        return None
    if run.status == "diverged":
        return "it diverged", "lower the learning rate and train again"
    return f"it did not finish ({clip(str(run.status), 20)})", "train again"


def _on_dataset(challenge: Challenge, run: RunRecord, facts: Facts | None) -> Found:
    name = _dataset_of(run).get("name", "spiral")  # a config without a dataset trains the spiral
    if challenge.dataset is None or name == challenge.dataset:
        return None
    return (f"it trained on another dataset, not {dataset_phrase(challenge.dataset)}",
            f"train on {dataset_phrase(challenge.dataset)} (choose it under Data)")


def _on_data(challenge: Challenge, run: RunRecord, facts: Facts | None) -> Found:
    defaults = DATASETS[challenge.dataset].defaults() if challenge.dataset else {}
    used = _dataset_of(run)
    off = [key for key, value in challenge.data if _finite(used.get(key, defaults.get(key))) != value]
    if not off:
        return None
    return (f"its data settings differ ({', '.join(off)})",
            f"set the data to{_data_phrase(challenge.data)} under Data")


def _within_limit(challenge: Challenge, run: RunRecord, facts: Facts) -> Found:
    if challenge.max_epochs is None and challenge.rank != "epochs":
        return None
    start = run.config.get("start_from") if isinstance(run.config, Mapping) else None
    if start and not str(start).startswith(PRETRAINED):
        return ("it started from a saved model, whose epochs are not counted",
                "train from fresh weights (Start from: fresh weights)")
    if challenge.max_epochs is None:
        return None
    if facts.epochs is None:
        return "it has no epoch count", "train again"
    if facts.epochs <= challenge.max_epochs:
        return None
    return (f"it trained {facts.epochs:,} epochs, more than {challenge.max_epochs:,}",
            f"set Epochs to {challenge.max_epochs:,} or fewer (a continued run counts all its epochs)")


def _measured(challenge: Challenge, run: RunRecord, facts: Facts) -> Found:
    for key in (challenge.rank, *((challenge.goal.metric,) if challenge.goal else ())):
        if facts.get(key) is None:
            return _MISSING.get(key, (f"it has no {MEASURES[key].noun}", "train again"))
    return None


_MISSING = {
    "parameters": ("its model cannot be counted", "check the layers and train again"),
    "test_accuracy": ("it has no test accuracy", "train a classification dataset with a test split"),
    "test_r2": ("it has no test R²", "train a regression dataset with a test split"),
    "test_loss": ("it has no test loss", "keep a test split (a test fraction above 0)"),
}


def _reached_goal(challenge: Challenge, run: RunRecord, facts: Facts) -> Found:
    goal = challenge.goal
    if goal is None or goal.reached(facts.get(goal.metric)):
        return None
    measure, value = MEASURES[goal.metric], facts.get(goal.metric)
    text = f"{measure.short(value)}: {'below' if measure.higher else 'above'} the {measure.short(goal.value)} goal"
    return text, _GOAL_HINTS[challenge.rank], value


_GOAL_HINTS = {
    "parameters": "first reach the goal with a bigger model, then make it smaller step by step",
    "epochs": "try a larger learning rate or another optimizer to get there sooner (then stop the run)",
}
_GOAL_HINTS.update(dict.fromkeys(GOAL_METRICS, "train longer, or try another learning rate, activation or layer width"))
_CHECKS = (_finished, _on_dataset, _on_data, _within_limit, _measured, _reached_goal)  # nearest to valid last
