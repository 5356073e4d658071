"""The load test's class (scenario `class`): the class in the server's runs file, the students' class steps
and the teacher's board tab.

`prepare_class(runs_db, students)` does what the teacher's Start button and the students' Join would:
creates a class in the runs file the server reads (`PLAYGROUND_RUNS_DB`), has every student whose
browser carries a workspace cookie join it, and hands out the default setup; it returns the class with
the teacher's Cookie header (the teacher's workspace and the teacher cookie `CODE.secret`, as
`ui/class_session.remember_teacher` writes it). `class_steps` is a student's part on the Playground: click
"Open the teacher's setup" on the hand-out bar, then pick its learning rate. `BoardTab` is the teacher's
tab: it opens the Class page (the Board is the default view) with that cookie and lets the board's
`run_every` fragment poll as the browser's timer does, until `close()`; it reads every grid the server
sends (the tile grid component's JSON: its "html" has one `clb-tile` per student, each with its status)
and times each board refresh from the fragment rerun sent to the end of the fragment run that answered
it (`st_client.RunLog.fragment_trips`). `board_figures` and `board_rows` summarise it for the load
test's JSON and table. Knows nothing about training.
"""
from __future__ import annotations

import asyncio
import collections
import html
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.load_scenarios import TEACHER_COOKIE, WORKSPACE_COOKIE, Student
from benchmarks.st_client import Session
from playground.classroom import ClassStore
from playground.config import TrainConfig
from playground.runstore import RunStore

CLASS_PAGE, GRID = "Class", "cl_board_grid"  # the page's URL path; the board's tile grid component's key
HANDOUT_OPEN, LEARNING_RATE = "cl_hand_bar_open", "pg_lr"  # the Playground's hand-out bar button; lr control
TEACHER_WORKSPACE = "load-teacher"
RUNNING = "running"  # a tile's status text while its run trains (progress.RUNNING)
_TILE = '<div class="clb-tile'
_STATUS = re.compile(r'class="clb-status"[^>]*>([^<]*)</span>')
_CHANGES = re.compile(r'class="clb-changes">([^<]*)</div>')


@dataclass(frozen=True)
class PreparedClass:
    code: str
    secret: str
    members: int

    @property
    def teacher_cookie(self) -> str:
        """The teacher's browser's Cookie header: its workspace and the class it teaches."""
        return f"{WORKSPACE_COOKIE}={TEACHER_WORKSPACE}; {TEACHER_COOKIE}={self.code}.{self.secret}"


def prepare_class(runs_db: Path, students: list[Student]) -> PreparedClass:
    """A class in `runs_db` with every student that has a workspace cookie, the default setup handed out."""
    store = ClassStore(RunStore(runs_db))
    new = store.create(TEACHER_WORKSPACE, title="Load test")
    joined = [store.join(new.info.code, s.workspace, f"Student {i + 1}")
              for i, s in enumerate(students) if s.workspace]
    store.hand_out(new.info.code, new.secret, "setup", TrainConfig().to_dict())
    return PreparedClass(new.info.code, new.secret, len(joined))


async def class_steps(session: Session, setup: Student, timeout: float) -> None:
    """Open the teacher's setup from the Playground's hand-out bar, then pick the setup's learning rate."""
    deadline = time.monotonic() + timeout
    if setup.open_handout:
        if HANDOUT_OPEN not in session.view.widget_ids:
            raise RuntimeError(f"no hand-out bar on the Playground; exceptions: {session.view.exceptions}")
        if await session.full_run(await session.click(HANDOUT_OPEN), deadline - time.monotonic()) is None:
            raise TimeoutError("the page's run after opening the hand-out did not report its end")
    if setup.lr:
        if await session.full_run(await session.set_strings(LEARNING_RATE, [setup.lr]),
                                  deadline - time.monotonic()) is None:
            raise TimeoutError("the page's run after picking the learning rate did not report its end")


def grid_html(data: bytes | None) -> str | None:
    """The HTML of a tile grid component's data (its JSON's "html"); None when it is no board grid."""
    try:
        text = json.loads(data or b"").get("html", "")
    except (ValueError, AttributeError):
        return None
    return text if isinstance(text, str) and ("clb-grid" in text or "clb-empty" in text) else None


def grid_tiles(text: str) -> list[tuple[str, str]]:
    """(status, what it changed) of each tile of a grid's HTML, in order."""
    tiles = text.split(_TILE)[1:]
    return [(found[1] if (found := _STATUS.search(tile)) else "",
             html.unescape(found[1]) if (found := _CHANGES.search(tile)) else "") for tile in tiles]


@dataclass
class BoardSeen:
    """What the teacher's tab saw of the grid: how many grids came, the most tiles, the most running at once."""

    grids: int = 0
    tiles_max: int = 0
    running_peak: int = 0
    at_peak: dict[str, int] = field(default_factory=dict)  # tiles by status when the most were running
    last: dict[str, int] = field(default_factory=dict)  # tiles by status in the latest grid
    changes: dict[str, int] = field(default_factory=dict)  # tiles by what they changed, in the latest grid
    _data: bytes | None = None

    def read(self, data: bytes | None) -> None:
        if data is None or data is self._data:
            return
        self._data = data
        text = grid_html(data)
        if text is None:
            return
        tiles = grid_tiles(text)
        statuses = [status for status, _ in tiles]
        self.grids += 1
        self.tiles_max = max(self.tiles_max, len(tiles))
        self.last = dict(collections.Counter(statuses))
        self.changes = dict(collections.Counter(change for _, change in tiles))
        if statuses.count(RUNNING) >= self.running_peak:
            self.running_peak, self.at_peak = statuses.count(RUNNING), self.last


class BoardTab:
    """The teacher's tab on the Board while the class trains: `open(...)`, then `await close()`."""

    def __init__(self, url: str, prepared: PreparedClass, deadline: float):
        self.prepared, self.seen, self.done = prepared, BoardSeen(), asyncio.Event()
        self.task = asyncio.create_task(self._watch(url, deadline))

    async def close(self) -> dict:
        """Stop watching; what the tab saw and measured."""
        self.done.set()
        return await self.task

    async def _watch(self, url: str, deadline: float) -> dict:
        result: dict = {"class_members": self.prepared.members}
        try:
            async with Session(url, CLASS_PAGE, headers={"Cookie": self.prepared.teacher_cookie}) as tab:
                tab.on_message.append(lambda: self.seen.read(tab.view.components.get(GRID)))
                took = await tab.full_run(await tab.rerun(), deadline - time.monotonic())
                if took is None or GRID not in tab.view.components:
                    raise RuntimeError(f"the Class page showed no board; exceptions: {tab.view.exceptions}")
                result["page_load_s"] = round(took, 3)
                await asyncio.wait_for(self.done.wait(), max(deadline - time.monotonic(), 0.001))
                result.update(tab_figures(tab))
        except Exception as error:  # noqa: BLE001 - reported with the figures, the class goes on
            result["error"] = f"{type(error).__name__}: {error}"
        return {**result, "grids": self.seen.grids, "tiles_max": self.seen.tiles_max,
                "running_peak": self.seen.running_peak, "tiles_at_peak": self.seen.at_peak,
                "tiles_last_grid": self.seen.last, "changes_last_grid": self.seen.changes}


def tab_figures(tab: Session) -> dict:
    """The board's refresh round trips (ms, in order), what its timers asked for, what it received."""
    return {"round_trips_ms": [round(1000 * s, 1) for _, s in tab.runs.fragment_trips],
            "fragment_runs": tab.runs.fragment_runs, "superseded": tab.runs.fragment_superseded,
            "full_runs": len(tab.runs.started), "poll_intervals": sorted(tab.intervals),
            "received_mb": round(tab.received_bytes / 2**20, 1), "exceptions": tab.view.exceptions}


def board_figures(board: dict, percentiles) -> dict:
    """The summary's "board": refreshes and their round trips (`percentiles` of load_test), tiles."""
    trips = board.get("round_trips_ms", [])
    keep = ("class_members", "page_load_s", "grids", "tiles_max", "running_peak", "tiles_at_peak", "changes_last_grid",
            "superseded",
            "full_runs", "poll_intervals", "exceptions", "error")
    return {"refreshes": len(trips), "round_trip": percentiles(trips), **{k: board[k] for k in keep if k in board}}


def board_rows(board: dict, ms) -> list[tuple[str, str]]:
    """The table's rows for the board (`ms` formats a percentiles dict)."""
    peak = board.get("tiles_at_peak", {})
    return [("board: refreshes / round trip p50 / p95 / max ms",
             f"{board['refreshes']} / {ms(board['round_trip'])} (page load {board.get('page_load_s')} s;"
             f" intervals asked: {', '.join(f'{i:g} s' for i in board.get('poll_intervals', []))})"),
            ("board: grids seen / tiles / most running at once",
             f"{board.get('grids')} / {board.get('tiles_max')} of {board.get('class_members')} students / "
             f"{board.get('running_peak')} ({', '.join(f'{k} {v}' for k, v in peak.items())})")]
