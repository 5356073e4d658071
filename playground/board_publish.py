"""Board tiles shared between replicas: each server publishes the tiles of the runs it trains, and a board on
any server shows the published tile of a student whose run trains elsewhere.

With one server the board reads every run from this process (`class_live`); behind a load balancer a
student's run trains on their own replica while the teacher's board may be on another. So every
PUBLISH_SECONDS a `Publisher` (one thread per server, only with a shared store) turns the local runs of
every class into `board.Tile`s and writes those that changed (and an active run's every REFRESH_SECONDS,
so a paused run is not taken for lost) as small JSON records (`record`), with the
run's start time, into the store (`publish(code, rows)`); a board reads them back (`published(code)`) and
`merge` puts them where the local registry has no newer run of that member. A record whose run was
active but has not been refreshed for STALE_SECONDS (its server stopped or lost the run) shows as LOST.
Records are read back strictly (`from_record`): anything malformed is dropped, never drawn.
On a training cluster (a run's handle has a str `ref`) a record also carries the run's `Remote`: its `ref`
(an opaque name, only ever passed to `backend.attach`) and its config dict, so a board on another server can
attach to the run and show it large with its curves (`board_attach`); `read_record` gives it, kept apart from
the `Tile` (never drawn). A `ref` that is not a REF or a config that is not a JSON object drops the `Remote`,
not the tile. Knows nothing about Streamlit, markup, Ray or which database holds the records.
"""
from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Callable, Mapping, NamedTuple, Sequence

from .board import Tile, tile

log = logging.getLogger(__name__)
PUBLISH_SECONDS = 1.0  # how often a server publishes its runs' changed tiles
STALE_SECONDS = 30.0  # an active run's record not refreshed this long: its server lost it
REFRESH_SECONDS = 10.0  # an active run's unchanged tile (a paused run) is published again this often
LOST = "lost"  # the status shown for such a record
MAX_RECORD = 32_000  # characters of one published tile (a thumbnail is ~1-2 kB)
_TUPLES = ("changes", "sparkline")
_PNG_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/]*={0,2}")
REF = re.compile(r"[A-Za-z0-9_.:/#@+=~-]{1,200}")  # a run's name on the training cluster, as a record carries it
_warned: list[str] = []  # a ref that REF refused, once per process (the cluster's names changed?)


@dataclass(frozen=True)
class Remote:
    """How a board on another server can read a published run: its `ref` on the training cluster and its
    config dict (`TrainConfig.to_dict`, checked where it is used). Never drawn."""

    ref: str
    config: dict


class Published(NamedTuple):
    """A run another server publishes: its start time, its tile and, on a training cluster, its `Remote`."""

    started: float
    tile: Tile
    remote: Remote | None = None


def record(board_tile: Tile, remote: Remote | None = None) -> str:
    """A tile as compact JSON (its name left out: the reader has the member's name), with `remote`'s ref and
    config when given (left out where the record would be too long or the ref is not a REF)."""
    data = {key: value for key, value in asdict(board_tile).items() if key != "name"}
    plain = json.dumps(data, separators=(",", ":"), allow_nan=False)
    if remote is None or REF.fullmatch(remote.ref) is None:
        return plain
    try:
        text = json.dumps({**data, "ref": remote.ref, "config": remote.config}, separators=(",", ":"), allow_nan=False)
    except (ValueError, TypeError):
        return plain
    return text if len(text) <= MAX_RECORD else plain


def from_record(text: Any, name: str, updated: float, now: float) -> Tile | None:
    """The tile in a published record, under `name`; None when the record is not one `record` writes. An
    active run's record older than STALE_SECONDS (`updated` against `now`) comes back as LOST."""
    read = read_record(text, name, updated, now)
    return None if read is None else read[0]


def read_record(text: Any, name: str, updated: float, now: float) -> tuple[Tile, Remote | None] | None:
    """(`from_record`'s tile, the record's `Remote` or None); None when the record is not one `record` writes."""
    try:
        data = json.loads(text) if isinstance(text, str) and len(text) <= MAX_RECORD else None
        if not isinstance(data, dict):
            return None
        remote = _remote(data.pop("ref", None), data.pop("config", None))
        board_tile = _tile(data, name)
    except (ValueError, TypeError):
        return None
    if board_tile is None:
        return None
    if board_tile.active and now - updated > STALE_SECONDS:
        board_tile = replace(board_tile, status=LOST)
    return board_tile, remote


def _remote(ref: Any, config: Any) -> Remote | None:
    if isinstance(ref, str) and REF.fullmatch(ref) is not None and isinstance(config, dict):
        return Remote(ref, config)
    return None


def remote_of(run: Any) -> Remote | None:
    """A local run's `Remote` (`class_live.LiveRun`): where its handle has a str `ref` (a training cluster's)."""
    ref = getattr(run.handle, "ref", None)
    if not isinstance(ref, str):
        return None
    if REF.fullmatch(ref) is None:
        if not _warned:
            _warned.append(ref)
            log.warning("a run's ref is not published (it is not a REF, other boards cannot attach): %r", ref[:60])
        return None
    return Remote(ref, run.config)


def _tile(data: dict, name: str) -> Tile | None:
    known = {f.name for f in fields(Tile)} - {"name"}
    if set(data) != known:
        return None
    for key in _TUPLES:
        if data[key] is not None:
            data[key] = tuple(data[key])
    board_tile = Tile(name=name, **data)
    return board_tile if _plausible(board_tile) else None


def _plausible(t: Tile) -> bool:
    numbers = [t.score, t.loss, *t.sparkline]
    return (isinstance(t.member, int) and isinstance(t.status, str) and len(t.status) <= 40
            and all(isinstance(n, int) and 0 <= n < 10**9 for n in (t.epoch, t.epochs))
            and (t.parameters is None or isinstance(t.parameters, int))
            and all(n is None or isinstance(n, (int, float)) and math.isfinite(n) for n in numbers)
            and all(isinstance(c, str) for c in t.changes or ())
            and (t.thumbnail is None or isinstance(t.thumbnail, str) and _PNG_URI.fullmatch(t.thumbnail) is not None))


def merge(local: Sequence[Tile], started: Mapping[int, float],
          published: Mapping[int, tuple[float, Tile] | Published]) -> list[Tile]:
    """The board's tiles: each of `local` (in order; `started`: member -> start time of their local run),
    replaced by the member's published tile (member -> (start time, tile)) when that run is newer."""
    merged = []
    for board_tile in local:
        elsewhere = published.get(board_tile.member)
        newer = elsewhere is not None and elsewhere[0] > started.get(board_tile.member, -math.inf)
        merged.append(replace(elsewhere[1], name=board_tile.name) if newer else board_tile)
    return merged


class Publisher:
    """Every PUBLISH_SECONDS: the changed tiles of this server's class runs, into the shared store.

    `live` is the server's `class_live.ClassLive`; `publish(code, rows)` stores rows of (member, started,
    record) for class `code`; `handout(code, id)` gives a hand-out (for what a run changed). An ended run is
    published once more (its final tile), then no longer.
    """

    def __init__(self, live, publish: Callable[[str, list], None], handout: Callable[[str, int], Any]):
        self.live, self.publish, self.handout = live, publish, handout
        self._sent: dict[tuple[str, int], tuple[float, str, float]] = {}  # (code, member) -> (started, record, when)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="playground-board-publisher", daemon=True)

    def start(self) -> "Publisher":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(PUBLISH_SECONDS):
            try:
                self.publish_once()
            except Exception:  # noqa: BLE001 (a database hiccup must not end the thread: next round retries)
                log.exception("publishing the class board's tiles failed; retrying in %s s", PUBLISH_SECONDS)

    def publish_once(self) -> int:
        """Publish what changed since the last round; returns how many tiles were written."""
        written, codes, now = 0, self.live.codes(), time.monotonic()
        for code in codes:
            rows = self._changed(code, self.live.runs(code), now)
            if rows:
                self.publish(code, rows)
                self._sent.update({(code, member): (started, text, now) for member, started, text in rows})
                written += len(rows)
        self._sent = {key: sent for key, sent in self._sent.items() if key[0] in codes}  # bounded as the registry
        return written

    def _changed(self, code: str, runs: Mapping[int, Any], now: float) -> list[tuple[int, float, str]]:
        rows = []
        for member, run in runs.items():
            board_tile = tile(_Nameless(member, code), run, lambda handout_id: self.handout(code, handout_id))
            text, sent = record(board_tile, remote_of(run)), self._sent.get((code, member))
            due = sent is None or board_tile.active and now - sent[2] >= REFRESH_SECONDS
            if due or sent[:2] != (run.started, text):
                rows.append((member, run.started, text))
        return rows


class _Nameless:
    """A member as `board.tile` needs one, for publishing (the reader puts the name back)."""

    def __init__(self, member: int, code: str):
        self.id, self.code, self.name = member, code, ""

