"""Finished training runs kept in one embedded SQLite file, so they outlive the server.

Each run (its config, curves, final metrics and status) belongs to a *workspace*: a short token a
browser session keeps in its URL, so people sharing one server never see each other's runs. Every
operation opens its own short-lived connection in WAL mode, so threads and processes may share the
file. Curves are stored downsampled to `MAX_POINTS` and non-finite floats survive as tagged strings
in strict JSON. A run's timeline (its kept boundary frames) is a compressed blob (`timeline_codec`),
read only for the runs that ask for it (`timeline`); files of schema 1, written before timelines,
gain the column when first opened and their runs have none. A run of a lesson may keep the prediction the
student made before it trained (`prediction`, a small JSON object; files of schema 2 gain that column
too). Any trouble with the file comes out as
a `RunStoreError` saying why in plain words.
This module knows nothing about training, Streamlit or plotting; it never re-validates a config.
"""
from __future__ import annotations

import json
import logging
import math
import numbers
import re
import shutil
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from .config import TrainConfig
from .progress import History
from .settings import data_root, runs_db
from .timeline import Timeline
from .timeline_codec import TimelineDecodeError, decode, encode

log = logging.getLogger(__name__)

DEFAULT_FILE = "runs.sqlite"
MAX_RUNS = 200  # per workspace; saving one more deletes the oldest
MAX_POINTS = 2000  # most points kept of each stored curve (at least 2)
MAX_NAME = 80  # characters of a run's name
SCHEMA_VERSION = 3  # PRAGMA user_version of the file (2: runs have a timeline column; 3: and a prediction)
MAX_PREDICTION = 2000  # characters of a run's stored prediction (JSON)
TIMEOUT = 10  # seconds to wait for another writer
FULL_BELOW = 16 * 2**20  # bytes free under which an I/O error is put down to a full disk

# Each x axis of a History and the curves that share it (the store keeps them aligned).
CURVES_BY_AXIS: dict[str, tuple[str, ...]] = {
    "epochs": ("train_loss",),
    "batch_epochs": ("batch_loss",),
    "eval_epochs": ("train_score", "test_loss", "test_score", "lr"),
}

_WORKSPACE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace TEXT NOT NULL,
    created REAL NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    config TEXT NOT NULL,
    history TEXT NOT NULL,
    final TEXT NOT NULL,
    timeline BLOB,
    prediction TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_workspace ON runs (workspace, id);
"""
_COLUMNS = "id, workspace, created, name, status, config, history, final, timeline IS NOT NULL, prediction"
_NO_CURVES = _COLUMNS.replace(", history,", ", '{}',")
_ADDED_COLUMNS = (("timeline", "BLOB"), ("prediction", "TEXT"))  # columns later schemas added, in order
# Pieces of sqlite3 error messages and what they mean for the runs file.
_REASONS = (
    ("not a database", "is not a SQLite database"),
    ("malformed", "is damaged (SQLite says the database disk image is malformed)"),
    ("readonly", "is read-only"),
    ("locked", f"is busy: another process kept it locked for more than {TIMEOUT} s"),
    ("full", "cannot be written: the server's disk is full"),
    ("disk i/o error", "cannot be read or written: the server's disk {disk} (SQLite: disk I/O error)"),
    ("unable to open", "cannot be opened (does the folder exist and is it writable?)"),
)


class RunStoreError(Exception):
    """The store cannot be opened, read or written; the message says why in plain words."""


@dataclass(frozen=True)
class RunRecord:
    id: int
    workspace: str
    created: float  # unix time
    name: str  # user-given or "" (the page shows a default)
    status: str  # "completed" | "stopped" | "diverged" | ...
    config: dict  # TrainConfig.to_dict() as saved; re-parse with TrainConfig.from_dict when needed
    history: History
    final: dict  # final metrics (values may be None), {} if none
    has_timeline: bool = False  # whether boundary frames were saved with it (read them with `RunStore.timeline`)
    prediction: dict | None = None  # a lesson's run: what the student predicted before Train (see `quiz`)


def default_path() -> Path:
    """$PLAYGROUND_RUNS_DB if set, else runs.sqlite in the data folder."""
    return runs_db() or data_root() / DEFAULT_FILE


class RunStore:
    """The runs of every workspace in one SQLite file. Safe to share between threads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)  # nothing touches the file before the first operation

    def save(self, workspace: str, config: TrainConfig | Mapping, history: History, final: Mapping | None,
             status: str, name: str = "", timeline: Timeline | None = None,
             prediction: Mapping | None = None) -> int:
        """Store a finished run and return its id; drops the workspace's oldest runs beyond MAX_RUNS."""
        row = (check_workspace(workspace), time.time(), _clean_name(name), _clean_status(status),
               _to_json(_config_dict(config)), _to_json(asdict(downsample(history))), _to_json(dict(final or {})),
               encode(timeline) if timeline is not None else None, _prediction_json(prediction))
        with self._connection(write=True) as db:
            run_id = db.execute("INSERT INTO runs (workspace, created, name, status, config, history, final, "
                                "timeline, prediction) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row).lastrowid
            db.execute("DELETE FROM runs WHERE workspace = ? AND id NOT IN "
                       "(SELECT id FROM runs WHERE workspace = ? ORDER BY id DESC LIMIT ?)",
                       (workspace, workspace, MAX_RUNS))
        return run_id

    def runs(self, workspace: str, since: float | None = None, curves: bool = True) -> list[RunRecord]:
        """The workspace's runs, newest first; with `since` (unix time) only those saved after it; without
        `curves` their histories are left unread (empty), for a listing of final numbers (a class's challenge)."""
        check_workspace(workspace)
        after, columns = "" if since is None else " AND created > ?", _COLUMNS if curves else _NO_CURVES
        with self._connection() as db:
            rows = db.execute(f"SELECT {columns} FROM runs WHERE workspace = ?{after} ORDER BY id DESC",
                              (workspace, *(() if since is None else (float(since),)))).fetchall()
        return [self._record(row) for row in rows]

    def get(self, workspace: str, run_id: int) -> RunRecord | None:
        """One run, or None when it does not exist or belongs to another workspace."""
        key = (check_workspace(workspace), int(run_id))
        with self._connection() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM runs WHERE workspace = ? AND id = ?", key).fetchone()
        return self._record(row) if row else None

    def timeline(self, workspace: str, run_id: int) -> Timeline | None:
        """A run's kept frames; None when it has none (saved before timelines, an image run, another
        workspace's) or they cannot be read (a damaged timeline does not make the run unreadable)."""
        key = (check_workspace(workspace), int(run_id))
        with self._connection() as db:
            row = db.execute("SELECT timeline FROM runs WHERE workspace = ? AND id = ?", key).fetchone()
        if not row or row[0] is None:
            return None
        try:
            return decode(row[0])
        except TimelineDecodeError as error:
            log.warning("run %d: its timeline cannot be read (%s)", run_id, error)
            return None

    def delete(self, workspace: str, run_ids: Iterable[int]) -> int:
        """Delete these runs of the workspace; returns how many went (others' ids are ignored)."""
        check_workspace(workspace)
        pairs = [(workspace, int(run_id)) for run_id in run_ids]
        if not pairs:
            return 0
        with self._connection(write=True) as db:
            return db.executemany("DELETE FROM runs WHERE workspace = ? AND id = ?", pairs).rowcount

    def rename(self, workspace: str, run_id: int, name: str) -> None:
        """Give a run a name (trimmed to MAX_NAME characters); a missing run is left alone."""
        values = (_clean_name(name), check_workspace(workspace), int(run_id))
        with self._connection(write=True) as db:
            db.execute("UPDATE runs SET name = ? WHERE workspace = ? AND id = ?", values)

    def count(self, workspace: str) -> int:
        check_workspace(workspace)
        with self._connection() as db:
            return db.execute("SELECT COUNT(*) FROM runs WHERE workspace = ?", (workspace,)).fetchone()[0]

    # --- the file -----------------------------------------------------------------------------

    def connection(self, write: bool = False):
        """A connection to the file for other tables kept in it (`classroom`), as the runs use it."""
        return self._connection(write)

    @contextmanager
    def _connection(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A fresh connection (a transaction when writing); sqlite and OS errors become RunStoreError."""
        try:
            db = self._open()
            try:
                if write:
                    db.execute("BEGIN IMMEDIATE")  # take the write lock now: no deadlock on upgrade
                yield db
                if write:
                    db.execute("COMMIT")
            finally:
                db.close()  # an open transaction is rolled back
        except (sqlite3.Error, OSError) as error:
            raise RunStoreError(self._explain(error)) from error

    def _open(self) -> sqlite3.Connection:
        if self.path.is_dir():
            raise RunStoreError(f"the runs file {self.path} is a folder, not a file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=TIMEOUT, isolation_level=None)
        try:
            _use_wal(db)
            self._check_schema(db)
        except BaseException:
            db.close()
            raise
        return db

    def _check_schema(self, db: sqlite3.Connection) -> None:
        """Create the table in a new file, add the columns an older file lacks (schema 1: timeline and
        prediction; 2: prediction); refuse a file written by a newer version."""
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise RunStoreError(f"the runs file {self.path} was written by a newer version of the app "
                                f"(schema {version}; this one reads {SCHEMA_VERSION})")
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
            for column, kind in _ADDED_COLUMNS:  # an older file (another connection may have added them meanwhile)
                if column not in columns:
                    db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _explain(self, error: Exception) -> str:
        if isinstance(error, (FileExistsError, NotADirectoryError)):
            return f"cannot create the folder {self.path.parent} for the runs file: a file is in the way"
        if isinstance(error, OSError):
            return f"cannot create the folder {self.path.parent} for the runs file: {error.strerror or error}"
        text = str(error).lower()
        reason = next((why for clue, why in _REASONS if clue in text), f"cannot be used ({error})")
        return f"the runs file {self.path} " + reason.replace("{disk}", self._disk_state())

    def _disk_state(self) -> str:
        """Why a disk failed, as far as its free space tells."""
        try:
            full = shutil.disk_usage(self.path.parent).free < FULL_BELOW
        except OSError:
            return "failed"
        return "is full" if full else "failed"

    def _record(self, row: tuple) -> RunRecord:
        run_id, workspace, created, name, status, config, history, final, has_timeline, prediction = row
        try:
            return RunRecord(run_id, workspace, created, name, status, json.loads(config),
                             _history(_restore(json.loads(history))), _restore(json.loads(final)), bool(has_timeline),
                             _prediction(prediction))
        except (ValueError, TypeError, AttributeError) as error:
            raise RunStoreError(f"run {run_id} in the runs file {self.path} is damaged ({error})") from None


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch a file to WAL (it stays so). On a new file several connections may race to do it and
    SQLite then answers "locked" at once, without waiting: retry for up to TIMEOUT seconds."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def check_workspace(workspace: Any) -> str:
    """The workspace token itself, or ValueError: 1-64 letters, digits, '_' or '-'."""
    if not isinstance(workspace, str) or not _WORKSPACE.fullmatch(workspace):
        raise ValueError(f"workspace must be 1-64 letters, digits, '_' or '-', got {workspace!r}")
    return workspace


def downsample(history: History) -> History:
    """At most MAX_POINTS points per curve: evenly spaced, first and last kept, pairs kept aligned."""
    if not isinstance(history, History):
        raise TypeError(f"history must be a playground.progress.History, got {type(history).__name__}")
    changes = {}
    for x_name, y_names in CURVES_BY_AXIS.items():
        x = getattr(history, x_name)
        for y_name in y_names:
            if len(getattr(history, y_name)) not in (0, len(x)):
                raise ValueError(f"history: {y_name} has {len(getattr(history, y_name))} values "
                                 f"but {x_name} has {len(x)}")
        keep = _even_indices(len(x), MAX_POINTS)
        for name in (x_name, *y_names):
            values = getattr(history, name)
            changes[name] = tuple(values[i] for i in keep) if values else ()
    return History(**changes)


def _even_indices(n: int, most: int) -> range | list[int]:
    """Indices of `most` (>= 2) evenly spaced points of n, 0 and n - 1 included; all when n <= most."""
    if n <= most:
        return range(n)
    return [round(i * (n - 1) / (most - 1)) for i in range(most)]


def _history(data: Mapping) -> History:
    return History(**{f.name: tuple(data.get(f.name, ())) for f in fields(History)})


def _config_dict(config: TrainConfig | Mapping) -> dict:
    if isinstance(config, TrainConfig) or callable(getattr(config, "to_dict", None)):
        return config.to_dict()  # duck-typed too: a server that reloaded its code has two TrainConfig classes
    if isinstance(config, Mapping):
        return dict(config)
    raise TypeError(f"config must be a TrainConfig or a dict, got {type(config).__name__}")


def _prediction_json(prediction: Mapping | None) -> str | None:
    """A run's prediction as stored: strict JSON of at most MAX_PREDICTION characters, or None."""
    if prediction is None:
        return None
    if not isinstance(prediction, Mapping):
        raise ValueError(f"a run's prediction must be a dict, got {type(prediction).__name__}")
    text = _to_json(dict(prediction))
    if len(text) > MAX_PREDICTION:
        raise ValueError(f"a run's prediction is {len(text):,} characters; at most {MAX_PREDICTION:,} are kept")
    return text


def _prediction(text: str | None) -> dict | None:
    """A stored prediction; None when there is none or it cannot be read (it never hides the run)."""
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _clean_name(name: str) -> str:
    if not isinstance(name, str):
        raise ValueError(f"a run's name must be text, got {type(name).__name__}")
    return name.strip()[:MAX_NAME].strip()


def _clean_status(status: str) -> str:
    if not isinstance(status, str) or not status:
        raise ValueError(f"status must be a non-empty string such as 'completed', got {status!r}")
    return status


def _to_json(value: Any) -> str:
    """Strict JSON: non-finite floats become "NaN", "Infinity" or "-Infinity"; numpy scalars plain."""
    return json.dumps(_plain(value), allow_nan=False, separators=(",", ":"))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a run: {value!r}")


def _restore(value: Any) -> Any:
    """Undo `_plain`'s tags for non-finite floats."""
    if isinstance(value, str):
        return _NON_FINITE.get(value, value)
    if isinstance(value, dict):
        return {key: _restore(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore(item) for item in value]
    return value
