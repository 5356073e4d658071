"""Finished training runs kept in the shared store (SQLite by default, PostgreSQL when configured), so they
outlive the server and, on a database server, every replica sees them.

Each run (its config, curves, final metrics and status) belongs to a *workspace*: a short token a
browser session keeps in its URL, so people sharing one server never see each other's runs. The store
is named by a path (its SQLite file, `default_path()`) or a database URL (`default_location()` prefers
`settings.db_url()`); `database` connects (an Engine shared per process, retries for writes) and
`migrations` brings an older database to the current schema when the store first touches it (files of
schema 1, before timelines, and 2, before predictions, gain the columns in place). Curves are stored
downsampled to `MAX_POINTS` and non-finite floats survive as tagged strings in strict JSON. A run's
timeline (its kept boundary frames) is a compressed blob (`timeline_codec`), read only for the runs that
ask for it (`timeline`). A run of a lesson may keep the prediction the student made before it trained
(`prediction`, a small JSON object). Any trouble with the database comes out as a `RunStoreError` saying
why in plain words.
This module knows nothing about training, Streamlit or plotting; it never re-validates a config.
"""
from __future__ import annotations

import json
import logging
import math
import numbers
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from sqlalchemy import func, literal_column, select
from sqlalchemy.engine import Connection

from .config import TrainConfig
from .database import Database, RunStoreError, Unreachable  # noqa: F401 - RunStoreError is this module's error too
from .migrations import SCHEMA_VERSION, migrate  # noqa: F401 - the version, for callers
from .progress import History
from .schema import runs as RUNS
from .settings import data_root, db_url, runs_db
from .timeline import Timeline
from .timeline_codec import TimelineDecodeError, decode, encode

log = logging.getLogger(__name__)

DEFAULT_FILE = "runs.sqlite"
MAX_RUNS = 200  # per workspace; saving one more deletes the oldest
MAX_POINTS = 2000  # most points kept of each stored curve (at least 2)
MAX_NAME = 80  # characters of a run's name
MAX_PREDICTION = 2000  # characters of a run's stored prediction (JSON)

# Each x axis of a History and the curves that share it (the store keeps them aligned).
CURVES_BY_AXIS: dict[str, tuple[str, ...]] = {
    "epochs": ("train_loss",),
    "batch_epochs": ("batch_loss",),
    "eval_epochs": ("train_score", "test_loss", "test_score", "lr"),
}

_WORKSPACE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_COLUMNS = (RUNS.c.id, RUNS.c.workspace, RUNS.c.created, RUNS.c.name, RUNS.c.status, RUNS.c.config, RUNS.c.history,
            RUNS.c.final, RUNS.c.timeline.is_not(None), RUNS.c.prediction)
_NO_CURVES = tuple(literal_column("'{}'") if column is RUNS.c.history else column for column in _COLUMNS)


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


def default_location() -> str | Path:
    """Where the server keeps its runs and classes: $PLAYGROUND_DB_URL if set, else `default_path()`."""
    return db_url() or default_path()


class RunStore:
    """The runs of every workspace in one database (a SQLite file or a URL). Safe to share between threads;
    stores on the same database, in this process or others, see each other's runs."""

    def __init__(self, path: str | Path):
        self.db = Database(path)  # nothing touches the database before the first operation
        self.path = self.db.path  # the SQLite file; None on a database server
        self._migrated = False
        self._migrating = threading.Lock()

    def save(self, workspace: str, config: TrainConfig | Mapping, history: History, final: Mapping | None,
             status: str, name: str = "", timeline: Timeline | None = None,
             prediction: Mapping | None = None) -> int:
        """Store a finished run and return its id; drops the workspace's oldest runs beyond MAX_RUNS."""
        row = dict(workspace=check_workspace(workspace), created=time.time(), name=_clean_name(name),
                   status=_clean_status(status), config=_to_json(_config_dict(config)),
                   history=_to_json(asdict(downsample(history))), final=_to_json(dict(final or {})),
                   timeline=encode(timeline) if timeline is not None else None,
                   prediction=_prediction_json(prediction))
        newest = select(RUNS.c.id).where(RUNS.c.workspace == workspace).order_by(RUNS.c.id.desc()).limit(MAX_RUNS)
        with self._connection(write=True) as db:
            run_id = db.execute(RUNS.insert().values(row)).inserted_primary_key[0]
            db.execute(RUNS.delete().where(RUNS.c.workspace == workspace, RUNS.c.id.not_in(newest)))
        return run_id

    def runs(self, workspace: str, since: float | None = None, curves: bool = True) -> list[RunRecord]:
        """The workspace's runs, newest first; with `since` (unix time) only those saved after it; without
        `curves` their histories are left unread (empty), for a listing of final numbers (a class's challenge)."""
        query = select(*(_COLUMNS if curves else _NO_CURVES)).where(RUNS.c.workspace == check_workspace(workspace))
        if since is not None:
            query = query.where(RUNS.c.created > float(since))
        with self._connection() as db:
            rows = db.execute(query.order_by(RUNS.c.id.desc())).all()
        return [self._record(row) for row in rows]

    def get(self, workspace: str, run_id: int) -> RunRecord | None:
        """One run, or None when it does not exist or belongs to another workspace."""
        with self._connection() as db:
            row = db.execute(select(*_COLUMNS).where(*_mine(workspace, run_id))).first()
        return self._record(row) if row else None

    def timeline(self, workspace: str, run_id: int) -> Timeline | None:
        """A run's kept frames; None when it has none (saved before timelines, an image run, another
        workspace's) or they cannot be read (a damaged timeline does not make the run unreadable)."""
        with self._connection() as db:
            blob = db.execute(select(RUNS.c.timeline).where(*_mine(workspace, run_id))).scalar()
        if blob is None:
            return None
        try:
            return decode(bytes(blob))
        except TimelineDecodeError as error:
            log.warning("run %d: its timeline cannot be read (%s)", run_id, error)
            return None

    def delete(self, workspace: str, run_ids: Iterable[int]) -> int:
        """Delete these runs of the workspace; returns how many went (others' ids are ignored)."""
        check_workspace(workspace)
        ids = [int(run_id) for run_id in run_ids]
        if not ids:
            return 0
        with self._connection(write=True) as db:
            return db.execute(RUNS.delete().where(RUNS.c.workspace == workspace, RUNS.c.id.in_(ids))).rowcount

    def rename(self, workspace: str, run_id: int, name: str) -> None:
        """Give a run a name (trimmed to MAX_NAME characters); a missing run is left alone."""
        name = _clean_name(name)
        with self._connection(write=True) as db:
            db.execute(RUNS.update().where(*_mine(workspace, run_id)).values(name=name))

    def count(self, workspace: str) -> int:
        query = select(func.count()).select_from(RUNS).where(RUNS.c.workspace == check_workspace(workspace))
        with self._connection() as db:
            return db.execute(query).scalar_one()

    # --- the database -------------------------------------------------------------------------

    def connection(self, write: bool = False):
        """A connection (SQLAlchemy Core) for the other tables kept with the runs (`classroom`)."""
        return self._connection(write)

    @contextmanager
    def _connection(self, write: bool = False) -> Iterator[Connection]:
        """A connection in a transaction (committed at the end when writing) on a database brought to the
        current schema; database and OS errors become RunStoreError (see `database`)."""
        self._ensure_schema()
        with (self.db.write() if write else self.db.read()) as db:
            yield db

    def _ensure_schema(self) -> None:
        if self._migrated:
            return
        with self._migrating:
            if not self._migrated:
                migrate(self.db)
                self._migrated = True

    def _record(self, row: tuple) -> RunRecord:
        run_id, workspace, created, name, status, config, history, final, has_timeline, prediction = row
        try:
            return RunRecord(run_id, workspace, created, name, status, json.loads(config),
                             _history(_restore(json.loads(history))), _restore(json.loads(final)), bool(has_timeline),
                             _prediction(prediction))
        except (ValueError, TypeError, AttributeError) as error:
            raise RunStoreError(f"run {run_id} in {self.db.name} is damaged ({error})") from None


def _mine(workspace: str, run_id: int) -> tuple:
    """The WHERE clauses of one run of one workspace."""
    return RUNS.c.workspace == check_workspace(workspace), RUNS.c.id == int(run_id)


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
