"""The standings of a class's challenge: each member's best valid run, ranked, and why the others have none.

`entries` picks each member's best valid run (`challenge.judge`) among the runs saved after the challenge
was set AND after the member joined (ties: the earlier run), or the reason none is valid, from the run that
came nearest ("best 87.1%: below the 90% goal", with what to try). `ranking` orders the entries by the
challenge's measure, ties sharing a rank (1, 2, 2, 4; the earlier entry is listed first).
`read_standings` reads a class from the store: its info and members (two small queries), then each
member's runs saved since the cutoff (one indexed query per member, `RunStore.runs(since=...,
curves=False)`: a workspace's older runs, up to MAX_RUNS, are never parsed, nor any run's curves).
`StandingsCache` keeps each class's standings for CACHE_SECONDS (longer when a read took long: at least
COST_SHARE times its duration), one reader at a time per class, so a board refreshing every few seconds and
200 students polling cost one read per class per refresh, and never more than a tenth of a core.
Knows nothing about Streamlit or HTML: names come back as the students typed them (cleaned, not escaped).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

from .challenge import MEASURES, Challenge, Facts, Failure, judge
from .classroom import ClassStore, Member
from .runstore import RunRecord, RunStoreError

CACHE_SECONDS = 3.0  # how long a class's standings are reused at least
COST_SHARE = 10  # ... and at least this many times as long as reading them took (at most 1/10 of a core)
MAX_CACHED = 64  # classes whose standings are kept at once


@dataclass(frozen=True)
class Entry:
    """A member's best valid run."""

    member_id: int
    name: str
    run_id: int
    created: float
    facts: Facts
    value: float  # the challenge's measure of the run


@dataclass(frozen=True)
class Reason:
    """Why a member has no valid entry, and what to try."""

    text: str
    hint: str


NO_RUN = Reason("no run saved since the challenge started (or since you joined)",
                "train one: it counts when it ends")
UNREADABLE = Reason("the runs cannot be read just now", "wait a moment")


@dataclass(frozen=True)
class Row:
    """One line of the ranking."""

    rank: int  # 1-based; tied entries share it
    member_id: int
    name: str
    value: float
    value_text: str  # the measure's value alone: "1,203", "93.2%"
    run_id: int
    epochs: int | None
    accuracy: float | None
    loss: float | None
    params: int | None


@dataclass(frozen=True)
class Standings:
    challenge: Challenge
    rows: tuple[Row, ...]
    reasons: Mapping[int, Reason] = field(default_factory=dict)  # member id -> why they have no entry
    members: int = 0
    show_names: bool = True  # whether students see each other's names
    names: Mapping[int, str] = field(default_factory=dict)  # member id -> display name, of every member

    def row_of(self, member_id: int) -> Row | None:
        return next((row for row in self.rows if row.member_id == member_id), None)


RunReader = Callable[[str, float], Sequence[RunRecord]]  # (workspace, since) -> the runs saved after `since`


def entries(challenge: Challenge, since: float, members: Iterable[Member],
            read_runs: RunReader) -> tuple[dict[int, Entry], dict[int, Reason]]:
    """Each member's best valid entry (by member id), and the reason of each member who has none."""
    best, reasons = {}, {}
    for member in members:
        cutoff = max(since, member.joined)
        try:
            runs = [run for run in read_runs(member.workspace, cutoff) if run.created > cutoff]
        except RunStoreError:
            reasons[member.id] = UNREADABLE
            continue
        verdicts = [(run, judge(challenge, run)) for run in runs]
        valid = [(run, verdict.facts) for run, verdict in verdicts if verdict.valid]
        if valid:
            run, facts = min(valid, key=lambda pair: (challenge.measure.better(pair[1].get(challenge.rank)),
                                                      pair[0].created, pair[0].id))
            best[member.id] = Entry(member.id, member.name, run.id, run.created, facts, facts.get(challenge.rank))
        else:
            reasons[member.id] = nearest_miss([verdict.failure for _, verdict in verdicts], challenge)
    return best, reasons


def nearest_miss(failures: Sequence[Failure], challenge: Challenge) -> Reason:
    """The reason of the run that came nearest to counting (a missed goal: the best value)."""
    if not failures:
        return NO_RUN
    better = MEASURES[challenge.goal.metric].better if challenge.goal else (lambda score: 0.0)
    nearest = max(failures, key=lambda f: (f.closeness, -better(f.score) if f.score is not None else 0.0))
    if nearest.score is not None:
        return Reason(f"best {nearest.text}", nearest.hint)
    return Reason(f"your {'closest run' if len(failures) > 1 else 'run'}: {nearest.text}", nearest.hint)


def ranking(challenge: Challenge, chosen: Iterable[Entry]) -> list[Row]:
    """The entries best first; equal values share a rank (the earlier entry is listed first)."""
    measure = challenge.measure
    ordered = sorted(chosen, key=lambda e: (measure.better(e.value), e.created, e.member_id))
    rows: list[Row] = []
    for place, entry in enumerate(ordered, start=1):
        rank = rows[-1].rank if rows and rows[-1].value == entry.value else place
        facts = entry.facts
        rows.append(Row(rank, entry.member_id, entry.name, entry.value, measure.short(entry.value), entry.run_id,
                        facts.epochs, facts.test_accuracy, facts.test_loss, facts.parameters))
    return rows


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def your_place(standings: Standings, member_id: int) -> str | None:
    """'You are 3rd of 12 with 1,203 parameters' ('2nd (tied)' when others share it); None without an entry."""
    row = standings.row_of(member_id)
    if row is None:
        return None
    tied = " (tied)" if sum(other.rank == row.rank for other in standings.rows) > 1 else ""
    return f"You are {ordinal(row.rank)}{tied} of {len(standings.rows)} {standings.challenge.measure.text(row.value)}"


def read_standings(classes: ClassStore, code: str) -> Standings | None:
    """The class's standings read from the store now; None when it has no challenge (or is gone).
    A stored challenge this version cannot read raises ChallengeError; the store's trouble RunStoreError."""
    info = classes.info(code)
    if info is None or info.challenge is None:
        return None
    challenge = Challenge.from_dict(info.challenge)
    members = classes.members(code)
    best, reasons = entries(challenge, info.challenge_set or 0.0, members,
                            lambda workspace, since: classes.runs.runs(workspace, since=since, curves=False))
    return Standings(challenge, tuple(ranking(challenge, best.values())), reasons, len(members), info.show_names,
                     {member.id: member.name for member in members})


class StandingsCache:
    """Each class's standings, reused for `seconds` or COST_SHARE times as long as reading them took, whichever
    is longer; while one session reads a class, others asking for it wait for that read instead of starting
    their own. Safe to share between threads (one per server)."""

    def __init__(self, seconds: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic,
                 most: int = MAX_CACHED):
        self.seconds, self._clock, self._most = seconds, clock, most
        self._kept: dict[str, tuple[float, float, Standings | None]] = {}  # code -> (when, kept for, standings)
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.reads = 0  # how many times the store was read (for the benchmark and tests)

    def get(self, classes: ClassStore, code: str) -> Standings | None:
        with self._lock:
            class_lock = self._locks.setdefault(code, threading.Lock())
        with class_lock:
            kept = self._kept.get(code)
            if kept is not None and self._clock() - kept[0] < kept[1]:
                return kept[2]
            start = self._clock()
            standings = read_standings(classes, code)
            now = self._clock()
            with self._lock:
                self.reads += 1
                self._kept[code] = (now, max(self.seconds, COST_SHARE * (now - start)), standings)
                self._trim()
            return standings

    def forget(self, code: str) -> None:
        """Read the class afresh next time (its challenge or settings just changed)."""
        with self._lock:
            self._kept.pop(code, None)

    def _trim(self) -> None:
        for code in sorted(self._kept, key=lambda c: self._kept[c][0])[:max(0, len(self._kept) - self._most)]:
            self._kept.pop(code)
            self._locks.pop(code, None)
