"""The load test's classrooms: what each student opens, at which pace, when they press Train, and what must hold.

A student opens the Playground as a real one does, with a shared link's query string
(`playground.share.to_query`, as the address bar or a lesson link carries it), picks the pace with the
Speed control when it is not the default (Watch), then presses Train. `SCENARIOS` by name:

- `default`: today's test: every student opens the bare Playground (the default spiral, Watch) and
  presses Train as soon as the page has loaded. Only the checks every scenario has.
- `same`: the teacher's "open the ReLU lesson and press Train": every student opens the lesson link of
  `spiral-relu` (its setup equals the default Playground's), all press Train within `spread_s` of the last
  page load. Every page must show a live boundary within 1 s of its click and none may say "Queued";
  all done within 1.5x one run alone.
- `seeds`: the default architecture with a different model seed and learning rate each, at the Fast pace;
  all done within 3x one run alone.
- `mixed`: a handful of layer stacks and activations, each with its own seed, at the Watch pace: every
  page shows a live boundary; page interactions p95 under 1 s, max under 3 s.
- `class`: "30 students + the board open" (issue 18): every student's browser carries its workspace
  cookie, and the benchmark has put that workspace in a class whose teacher handed out the default setup
  (benchmarks/load_class.py); each student opens the bare Playground, clicks "Open the teacher's setup"
  on its hand-out bar, every fifth then picks another learning rate (`CLASS_LRS`, so the board shows
  differences), and all press Train within `spread_s`. Meanwhile the teacher's tab shows the Board. Page
  interactions p95 under 1 s; the board showed a tile for every student and refreshed, without exceptions.

The first student's setup is the warm-up's (trained alone first: "one run alone"); runs with that setup must
end with the warm-up's accuracy. Every scenario: all completed, no exceptions, no page froze, every page
showed its final numbers, server memory growth under 200 MB once the sessions closed.

"Shows a live boundary" is read from what the client receives: the data of the `pg_boundary` chart (the
live chart component's JSON) whose title names an epoch above 0 ("Decision boundary — epoch 12": a
boundary the model drew, not the bare data; `boundary_epoch`). The time is from sending the Train click
to the arrival of the first such message. "Queued": the page's status badge said so at any time.

"All done" for the ratio is the last run's end minus the first click (`done_after_clicks_s`); `all_done_s`
(from the first page opening, as before) is reported beside it. Pure: no Streamlit, no torch, no network.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlencode

from playground import share
from playground.config import TrainConfig
from playground.lessons import LESSONS
from playground.pace import FAST, LABELS, WATCH

BOUNDARY = "pg_boundary"  # the live chart's key on the Playground
_BOUNDARY_TITLE = re.compile(rb"Decision boundary(?: \\u2014 | \xe2\x80\x94 )epoch (\d+)")
ACCURACY_RANGE = (0.93, 0.97)  # the default spiral, 2-100-3 ReLU, Adam 1e-3, 1000 epochs: ~0.95
WORKSPACE_COOKIE = "neural_playground_workspace"  # playground/ui/workspace.COOKIE
TEACHER_COOKIE = "neural_playground_teacher"  # playground/ui/class_session.TEACHER_COOKIE
CLASS_LRS = ("0.003", "0.01")  # `class`: every fifth student picks one of these (the Learning rate control's labels)
MEMORY_GROWTH_MB = 200  # most server memory growth allowed once the sessions have closed
LESSON = "spiral-relu"  # the `same` scenario's lesson: the default setup, as a lesson link
LR_FACTORS = (0.5, 0.75, 1.5, 2.0, 3.0, 1.0)  # `seeds`: learning rates around the default 1e-3
STACKS = (  # `mixed`: layer stacks a class might try on the spiral
    "linear(out=100),relu,linear",
    "linear(out=32),tanh,linear(out=32),tanh,linear",
    "linear(out=64),leaky_relu,linear",
    "linear(out=16),sigmoid,linear(out=16),sigmoid,linear",
    "linear(out=50),gelu,linear(out=50),gelu,linear",
    "linear(out=24),elu,linear",
)


@dataclass(frozen=True)
class Student:
    """One student's setup: the Playground address's query string ("" opens the bare page) and the pace;
    the Cookie header its browser sends ("": none), whether it opens the class's hand-out and the
    learning rate it picks then ("": keeps the one it has)."""

    query: str = ""
    pace: str = WATCH
    cookie: str = ""
    open_handout: bool = False
    lr: str = ""

    @property
    def workspace(self) -> str:
        """The workspace token the cookie carries ("" without one)."""
        prefix = WORKSPACE_COOKIE + "="
        return next((part[len(prefix):] for part in self.cookie.split("; ") if part.startswith(prefix)), "")

    @property
    def speed_label(self) -> str:
        """What the Speed control sends for this pace (the segmented control's option label)."""
        return LABELS[self.pace]


@dataclass(frozen=True)
class Scenario:
    name: str
    students: Callable[[int], list[Student]]  # n -> the n students' setups, the warm-up's first
    spread_s: float | None = None  # Train pressed within this many seconds of the last page load; None: at once
    accuracy_range: tuple[float, float] | None = None  # for every run (when all train the default setup)
    live_within_s: float | None = None  # every page shows a live boundary this soon after its click
    all_live: bool = False  # every page shows a live boundary at some point
    never_queued: bool = False
    done_ratio: float | None = None  # done_after_clicks_s <= this x one run alone
    interaction_p95_ms: float | None = None
    interaction_max_ms: float | None = None
    board: bool = False  # a class and the teacher's board (benchmarks/load_class.py)


def link_query(config: TrainConfig, hidden=(), lesson: str = "") -> str:
    """The query string of a shared link to `config` (as `share.link` writes it)."""
    return urlencode(share.to_query(config, hidden, lesson), safe="(),=")


def default_params(**changes: str) -> dict[str, str]:
    """The default setup's link parameters with `changes` (link names, e.g. seed="7"); checked by the
    app's own parser, so a scenario never sends a link the app refuses."""
    params = {**share.to_query(TrainConfig()), **changes}
    share.from_query(params)
    return params


def everyone_default(n: int) -> list[Student]:
    return [Student() for _ in range(n)]


def everyone_the_lesson(n: int) -> list[Student]:
    lesson = LESSONS[LESSON]
    return [Student(link_query(lesson.config, lesson.hide, lesson.slug)) for _ in range(n)]


def seeds_and_rates(n: int) -> list[Student]:
    """The first student keeps the default seed and rate; the others each their own seed, rates cycling."""
    first = Student(urlencode(default_params(), safe="(),="), FAST)
    others = [default_params(seed=str(12345 + i), **{"optimizer.lr": f"{0.001 * LR_FACTORS[i % len(LR_FACTORS)]:g}"})
              for i in range(1, n)]
    return [first, *(Student(urlencode(p, safe="(),="), FAST) for p in others)][:n]


def mixed_stacks(n: int) -> list[Student]:
    """Stacks in turn (the first student gets the default one, default seed), each student their own seed."""
    params = [default_params(layers=STACKS[i % len(STACKS)], **({"seed": str(12345 + i)} if i else {}))
              for i in range(n)]
    return [Student(urlencode(p, safe="(),="), WATCH) for p in params]


def class_students(n: int) -> list[Student]:
    """Each with its own workspace cookie, opening the hand-out; every fifth then picks a learning rate."""
    return [Student(cookie=f"{WORKSPACE_COOKIE}=load-student-{i:02d}", open_handout=True,
                    lr=CLASS_LRS[i // 5 % len(CLASS_LRS)] if i % 5 == 4 else "") for i in range(n)]


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("default", everyone_default, accuracy_range=ACCURACY_RANGE),
    Scenario("same", everyone_the_lesson, spread_s=2.0, accuracy_range=ACCURACY_RANGE, live_within_s=1.0,
             all_live=True, never_queued=True, done_ratio=1.5),
    Scenario("seeds", seeds_and_rates, spread_s=2.0, done_ratio=3.0),
    Scenario("mixed", mixed_stacks, spread_s=2.0, all_live=True, interaction_p95_ms=1000, interaction_max_ms=3000),
    Scenario("class", class_students, spread_s=2.0, interaction_p95_ms=1000, board=True),
)}


def boundary_epoch(data: bytes | None) -> int:
    """The epoch a boundary chart's data shows (its title), 0 for the bare data or no chart."""
    match = _BOUNDARY_TITLE.search(data or b"")
    return int(match.group(1)) if match else 0


def scenario_checks(scenario: Scenario, summary: dict) -> dict[str, bool]:
    """The scenario's own checks, from the summary's numbers (see load_test.summarize)."""
    n, checks = summary["sessions"], {}
    if scenario.live_within_s is not None:
        late = summary["live_after"]["max_ms"]
        checks[f"every page showed a live boundary within {scenario.live_within_s:g} s of its click"] = \
            summary["pages_live"] == n and late is not None and late <= 1000 * scenario.live_within_s
    if scenario.all_live:
        checks["every page showed a live boundary"] = summary["pages_live"] == n
    if scenario.never_queued:
        checks['no page showed "Queued"'] = summary["pages_queued"] == 0
    if scenario.done_ratio is not None:
        ratio = summary["done_ratio"]
        checks[f"all done within {scenario.done_ratio:g}x one run alone"] = \
            ratio is not None and ratio <= scenario.done_ratio
    stats = summary["interaction"]
    if scenario.interaction_p95_ms is not None:
        checks[f"interaction p95 < {scenario.interaction_p95_ms:g} ms"] = \
            stats["n"] > 0 and stats["p95_ms"] < scenario.interaction_p95_ms
    if scenario.interaction_max_ms is not None:
        checks[f"interaction max < {scenario.interaction_max_ms:g} ms"] = \
            stats["n"] > 0 and stats["max_ms"] < scenario.interaction_max_ms
    if scenario.board:
        checks.update(board_checks(summary.get("board") or {}, n))
    growth = summary["rss_growth_mb"]
    if growth is not None:
        checks[f"server memory growth < {MEMORY_GROWTH_MB} MB after the sessions closed"] = growth < MEMORY_GROWTH_MB
    return checks


def board_checks(board: dict, students: int) -> dict[str, bool]:
    """The teacher's board: a tile for every student, refreshed while the class trained, no exceptions."""
    return {"the board showed a tile for every student": board.get("tiles_max") == students,
            "the board refreshed": bool(board.get("refreshes")),
            "no exceptions on the board": not board.get("exceptions") and not board.get("error")}
