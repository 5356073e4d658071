"""The class board's tiles: one per member of a class, from the run each has going on this server.

`tiles(runs, members, handout)` reads every member's latest run (`class_live.LiveRun`) with
`snapshot(touch=False)`, so the board watching a run never keeps an abandoned run alive (its idle
watchdog and the pool's queue only count the student's own page), and makes a `Tile`: status, epoch,
the latest test score (accuracy, or R² for regression; the train score when the data has no test
split), test loss, parameters, what the student changed against the setup the run started from
(`board_changes`), the test-score curve thinned to SPARK_POINTS and, for a 2-D boundary, a
THUMB_SIDE-pixel PNG of it (a data URI). What does not change while a run trains (its parameters and
changes) is kept per run, a hand-out's setup per hand-out, the sparkline per run and evaluated epochs, the
thumbnail per run and frame epoch, so a refresh of 30 tiles costs little.
Members without a run get a NOT_STARTED tile. `sort_tiles` orders them (`SORTS`).
Knows nothing about Streamlit, markup (`board_html`) or where the runs and members come from.
"""
from __future__ import annotations

import base64
import functools
import io
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .board_changes import config_changes, summary
from .config import TrainConfig
from .frames import CONFIDENCE_LEVELS, BoundaryFrame
from .kept import Kept
from .lessons import LESSONS
from .model import plan_for
from .plots import region_rgb
from .progress import ACTIVE
from .tasks import CLASSIFICATION

NOT_STARTED = "not started"
SPARK_POINTS = 30  # points of a tile's score curve
THUMB_SIDE = 32  # pixels a side of a tile's boundary picture
_FACTS = Kept(2000)  # (class code, member, started) -> _Facts of that run
_THUMBS = Kept(2000)  # (member, started, frame epoch) -> data URI
_SPARKS = Kept(2000)  # (member, started, evaluated epochs) -> sparkline
_BASES = Kept(256)  # (class code, hand-out id) -> its config dict as `to_dict` writes it (hand-outs never change)


@dataclass(frozen=True)
class Tile:
    """One member's place on the board."""

    member: int  # member id
    name: str  # display name as the student gave it (not escaped)
    status: str  # a run status (`progress`) or NOT_STARTED
    epoch: int = 0
    epochs: int = 0
    score: float | None = None  # latest test accuracy or R² (train's without a test split); None: none yet
    score_name: str = "accuracy"  # or "R²"
    loss: float | None = None  # latest test loss (train loss without a test split)
    parameters: int | None = None  # None: the setup could not be planned
    changes: tuple[str, ...] | None = None  # every change against the hand-out; None: not started from one
    sparkline: tuple[float, ...] = ()  # the test score, at most SPARK_POINTS points
    thumbnail: str | None = None  # a data:image/png URI of the boundary (2-D classification only)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def change_text(self) -> str:
        return summary(self.changes)


@dataclass(frozen=True)
class _Facts:
    """What a run's tile keeps while it trains."""

    task: str
    n_classes: int
    parameters: int | None
    changes: tuple[str, ...] | None


def tiles(runs: Mapping[int, Any], members: Sequence[Any], handout: Callable[[int], Any]) -> list[Tile]:
    """A tile for each of `members` (`classroom.Member`), in their order, from `runs` (member id ->
    `class_live.LiveRun`); `handout(id)` gives the `classroom.Handout` a run started from, or None."""
    return [tile(member, runs.get(member.id), handout) for member in members]


def tile(member: Any, run: Any, handout: Callable[[int], Any]) -> Tile:
    """One member's tile: NOT_STARTED without a run."""
    if run is None:
        return Tile(member.id, member.name, NOT_STARTED)
    snap = run.handle.snapshot(touch=False)
    code = getattr(member, "code", "")
    facts = _FACTS.get_or_make((code, member.id, run.started), lambda: _facts(run, handout, code))
    score, loss = latest(snap, facts.task)
    spark = _SPARKS.get_or_make((member.id, run.started, len(snap.history.eval_epochs)),
                                lambda: sparkline(snap.history))
    return Tile(member.id, member.name, snap.status, snap.epoch, snap.epochs, score,
                "accuracy" if facts.task == CLASSIFICATION else "R²", loss, facts.parameters, facts.changes, spark,
                _thumbnail_of(member.id, run.started, snap.frame, facts.n_classes))


def latest(snap, task: str) -> tuple[float | None, float | None]:
    """(test score, test loss): the final ones once the run ended, else the latest evaluated; the train
    ones where the data has no test split; None for none yet or not finite (a diverged run)."""
    final, history = snap.final or {}, snap.history
    name = "accuracy" if task == CLASSIFICATION else "r2"
    if final:
        return _finite(_either(final, f"test_{name}", f"train_{name}")), _finite(_either(final, "test_loss",
                                                                                         "train_loss"))
    score = _last(history.test_score or history.train_score)
    loss = _last(history.test_loss or history.train_loss)
    return _finite(score), _finite(loss)


def sparkline(history, most: int = SPARK_POINTS) -> tuple[float, ...]:
    """The test score curve (train's without a test split), at most `most` evenly spaced points, the last kept
    (a value that is not finite as 0)."""
    values = history.test_score or history.train_score
    picks = range(len(values)) if len(values) <= most else np.linspace(0, len(values) - 1, most).round().astype(int)
    return tuple(_finite(values[i]) or 0.0 for i in picks)


def thumbnail(frame: BoundaryFrame, n_classes: int, side: int = THUMB_SIDE) -> str:
    """The frame's regions (the boundary's colours and shades) as a `side` x `side` PNG data URI, x2 upwards."""
    picks = np.linspace(0, frame.classes.shape[0] - 1, min(side, frame.classes.shape[0])).round().astype(int)
    cells = np.ix_(picks, picks)
    codes = frame.classes[cells].astype(np.int64) * CONFIDENCE_LEVELS + frame.confidence[cells]
    colours = _colours(max(n_classes, int(frame.classes.max()) + 1))
    rgb = colours[np.clip(codes, 0, len(colours) - 1)][::-1]  # rows along x2: the image's top is the highest x2
    return "data:image/png;base64," + base64.b64encode(png(rgb)).decode("ascii")


def png(rgb: np.ndarray) -> bytes:
    """An (H, W, 3) uint8 picture as PNG bytes (Pillow, which comes with Streamlit, as `class_digits` uses)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, np.uint8), mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


SORTS: dict[str, Callable[[Tile], tuple]] = {  # the board's orders; ties keep the members' order
    "accuracy": lambda t: (t.score is None, -(t.score or 0.0)),
    "loss": lambda t: (t.loss is None, t.loss or 0.0),
    "parameters": lambda t: (t.parameters is None, t.parameters or 0),
    "name": lambda t: (t.name.casefold(),),
}


def sort_tiles(board: Sequence[Tile], by: str) -> list[Tile]:
    """The tiles in the order `by` (a key of SORTS; tiles without that number last), ties in their order."""
    return sorted(board, key=SORTS[by])


def base_config(handout: Any) -> dict | None:
    """The config dict a hand-out gave (a setup's, or a lesson's setup), or None."""
    if handout is None:
        return None
    if handout.kind == "lesson":
        lesson = LESSONS.get(handout.payload) or next((x for x in LESSONS.values() if x.title == handout.payload), None)
        return None if lesson is None else lesson.config.to_dict()
    return handout.payload if isinstance(handout.payload, Mapping) else None


def _facts(run: Any, handout: Callable[[int], Any], code: str) -> _Facts:
    config = run_config(run)
    base = None if run.handout is None else _BASES.get_or_make((code, run.handout),
                                                                lambda: _normal(base_config(handout(run.handout))))
    changes = None if base is None else config_changes(base, run.config)
    if config is None:
        return _Facts(CLASSIFICATION, 0, None, changes)
    return _Facts(config.dataset.task, config.dataset.n_classes, _parameters(config), changes)


def run_config(run: Any) -> TrainConfig | None:
    """The run's TrainConfig: its handle's, else read from its config dict; None when it cannot be read."""
    held = getattr(run.handle, "config", None)
    if isinstance(held, TrainConfig):
        return held
    try:
        return TrainConfig.from_dict(run.config)
    except (ValueError, TypeError, KeyError):  # ConfigError is a ValueError
        return None


def _normal(config: Mapping | None) -> dict | None:
    """A hand-out's config as `to_dict` writes it (defaults filled in, like a run's), or as given."""
    if config is None:
        return None
    try:
        return TrainConfig.from_dict(config).to_dict()
    except (ValueError, TypeError, KeyError):
        return dict(config)


def _parameters(config: TrainConfig) -> int | None:
    try:
        return plan_for(config).parameters
    except (ValueError, TypeError, KeyError):  # LayerError is a ValueError
        return None


def _thumbnail_of(member: int, started: float, frame: Any, n_classes: int) -> str | None:
    if not isinstance(frame, BoundaryFrame):
        return None
    return _THUMBS.get_or_make((member, started, frame.epoch), lambda: thumbnail(frame, n_classes))


@functools.lru_cache(maxsize=16)
def _colours(n_classes: int) -> np.ndarray:
    return np.array(region_rgb(n_classes), np.uint8)


def _either(final: Mapping, key: str, fallback: str) -> Any:
    return final.get(key) if final.get(key) is not None else final.get(fallback)


def _last(values) -> float | None:
    return values[-1] if values else None


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None
