"""The connection to the shared store: one SQLAlchemy Engine per database URL and process, and the one
place where database trouble becomes a `RunStoreError` in plain words.

A store names its database by a path (the SQLite file, as before) or a URL (`sqlite:///…` or
`postgresql://…`, see `settings.db_url`). SQLite files run in WAL mode with a busy timeout and take the
write lock when a write begins, so threads and processes share the file; PostgreSQL gets a small pool
whose connections are checked before use (a restarted server is reconnected to). A write that cannot
reach the database is retried for up to `RETRY_SECONDS` with backoff; a read fails at once. Messages
never repeat a password from the URL. Knows nothing about the tables (`schema`) or their versions
(`migrations`); PostgreSQL's driver (psycopg) is imported only when a PostgreSQL URL is used.
"""
from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

log = logging.getLogger(__name__)

TIMEOUT = 10  # seconds a SQLite connection waits for another writer
CONNECT_TIMEOUT = 3  # seconds to reach a PostgreSQL server
RETRY_SECONDS = 5.0  # how long a write keeps trying to reach the database
FIRST_RETRY = 0.1  # seconds before the first retry; doubled each time, up to MAX_RETRY_WAIT
MAX_RETRY_WAIT = 1.0
POOL_SIZE, POOL_OVERFLOW = 4, 8  # PostgreSQL connections a process keeps, and how many more it may open
FULL_BELOW = 16 * 2**20  # bytes free under which a SQLite I/O error is put down to a full disk
UNREACHABLE_HINT = "the database {where} cannot be reached"

# Pieces of SQLite's error messages and what they mean for the runs file.
_SQLITE_REASONS = (
    ("not a database", "is not a SQLite database"),
    ("malformed", "is damaged (SQLite says the database disk image is malformed)"),
    ("readonly", "is read-only"),
    ("locked", f"is busy: another process kept it locked for more than {TIMEOUT} s"),
    ("full", "cannot be written: the server's disk is full"),
    ("disk i/o error", "cannot be read or written: the server's disk {disk} (SQLite: disk I/O error)"),
    ("unable to open", "cannot be opened (does the folder exist and is it writable?)"),
)
# Pieces of PostgreSQL's (psycopg's) messages and what they mean.
_SERVER_REASONS = (
    ("password authentication failed", "refused the login (check the user and password in PLAYGROUND_DB_URL)"),
    ("does not exist", "does not exist on the server ({detail})"),
    ("permission denied", "refused the request: permission denied ({detail})"),
    ("disk full", "cannot be written: the database server's disk is full"),
)
MAX_ENGINES = 16  # databases a process keeps connections to; the least recently used one is closed beyond it
_ENGINES: OrderedDict[tuple[int, str], Engine] = OrderedDict()
_ENGINES_LOCK = threading.Lock()


class RunStoreError(Exception):
    """The store cannot be opened, read or written; the message says why in plain words."""


class Unreachable(RunStoreError):
    """The database server cannot be reached (down, restarting or unknown)."""


def store_url(where: str | Path) -> URL:
    """The SQLAlchemy URL of a store named by a path (a SQLite file) or a URL; `postgresql://` uses psycopg."""
    text = str(where)
    if "://" not in text:
        return URL.create("sqlite", database=text)
    url = make_url(text)
    return url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url


class Database:
    """One database as a store uses it: `read()` and `write()` give a connection in a transaction."""

    def __init__(self, where: str | Path):
        self.url = store_url(where)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.path = Path(self.url.database) if self.is_sqlite else None
        self.name = f"the runs file {self.path}" if self.is_sqlite else f"the database {self.where()}"

    def where(self) -> str:
        """host:port/database (or the file), never the password."""
        if self.is_sqlite:
            return str(self.path)
        return f"{self.url.host or 'localhost'}:{self.url.port or 5432}/{self.url.database or ''}"

    @property
    def engine(self) -> Engine:
        return engine_for(self.url)

    def dialect(self) -> str:
        return self.url.get_backend_name()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading (one attempt: a page waits for nobody)."""
        with self._explained():
            with self._connect(write=False) as conn:
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction, committed at the end; reaching the database is retried
        for RETRY_SECONDS. A connection lost in the middle of the transaction rolls it back (no retry)."""
        with self._explained():
            conn = self._connect_retrying()
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.close()

    def _connect_retrying(self) -> Connection:
        deadline, wait = time.monotonic() + RETRY_SECONDS, FIRST_RETRY
        while True:
            try:
                return self._connect(write=True)  # PostgreSQL: the pool checks a kept connection first
            except exc.DBAPIError as error:
                if not self._is_unreachable(error) or time.monotonic() + wait > deadline:
                    raise
                log.warning("%s: retrying a write in %.1f s (%s)", self.name, wait, _first_line(error.orig))
                pause(wait)
                wait = min(2 * wait, MAX_RETRY_WAIT)

    def _connect(self, write: bool) -> Connection:
        if self.is_sqlite:
            _prepare_folder(self.path)
        return self.engine.connect().execution_options(playground_write=write)

    def _is_unreachable(self, error: Exception) -> bool:
        if self.is_sqlite:
            return False
        return isinstance(error, exc.DBAPIError) and (error.connection_invalidated or isinstance(
            error, (exc.OperationalError, exc.InterfaceError)) and _looks_unreachable(error))

    @contextmanager
    def _explained(self) -> Iterator[None]:
        try:
            yield
        except RunStoreError:
            raise
        except (exc.SQLAlchemyError, sqlite3.Error, OSError) as error:
            raise self.explain(error) from error

    def explain(self, error: Exception) -> RunStoreError:
        """A RunStoreError that says in plain words what went wrong with this database."""
        if isinstance(error, OSError) and not isinstance(error, sqlite3.Error):
            return RunStoreError(_folder_trouble(self.path, error))
        cause = getattr(error, "orig", None) or error
        if self.is_sqlite:
            return RunStoreError(f"{self.name} " + _sqlite_reason(cause, self.path))
        if self._is_unreachable(error):
            return Unreachable(UNREACHABLE_HINT.format(where=self.where()) +
                               f" (is the PostgreSQL server running? {self._scrub(_first_line(cause))})")
        text = self._scrub(_first_line(cause))
        reason = next((why for clue, why in _SERVER_REASONS if clue in text.lower()), "cannot be used ({detail})")
        return RunStoreError(f"{self.name} " + reason.replace("{detail}", text))

    def _scrub(self, text: str) -> str:
        password = self.url.password
        return text.replace(str(password), "***") if password else text


def pause(seconds: float) -> None:
    """Wait before a write's next try (tests watch it)."""
    time.sleep(seconds)


def engine_for(url: URL) -> Engine:
    """The process's Engine for `url`, made on first use and shared by every store on it (stores ask each time,
    so one closed for being the least recently used of MAX_ENGINES is simply made again)."""
    key = (os.getpid(), url.render_as_string(hide_password=False))
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = _sqlite_engine(url) if url.get_backend_name() == "sqlite" else _server_engine(url)
            while len(_ENGINES) > MAX_ENGINES:
                _ENGINES.popitem(last=False)[1].dispose()  # connections in use close when they are given back
        _ENGINES.move_to_end(key)
    return engine


def dispose_all() -> None:
    """Close every pooled connection of this process (tests; a server that shuts down)."""
    with _ENGINES_LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def _sqlite_engine(url: URL) -> Engine:
    engine = create_engine(url, connect_args={"timeout": TIMEOUT, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connected(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy, not the driver, begins transactions (below)
        _use_wal(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _begin(conn):
        write = conn.get_execution_options().get("playground_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")  # a writer takes the lock at once

    return engine


def _server_engine(url: URL) -> Engine:
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW,
                         pool_recycle=1800, connect_args={"connect_timeout": CONNECT_TIMEOUT})


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


def _prepare_folder(path: Path) -> None:
    if path.is_dir():
        raise RunStoreError(f"the runs file {path} is a folder, not a file")
    path.parent.mkdir(parents=True, exist_ok=True)


def _folder_trouble(path: Path | None, error: OSError) -> str:
    folder = path.parent if path is not None else "?"
    if isinstance(error, (FileExistsError, NotADirectoryError)):
        return f"cannot create the folder {folder} for the runs file: a file is in the way"
    return f"cannot create the folder {folder} for the runs file: {error.strerror or error}"


def _sqlite_reason(cause: BaseException, path: Path) -> str:
    text = str(cause).lower()
    reason = next((why for clue, why in _SQLITE_REASONS if clue in text), f"cannot be used ({cause})")
    return reason.replace("{disk}", _disk_state(path))


def _disk_state(path: Path) -> str:
    """Why a disk failed, as far as its free space tells."""
    try:
        full = shutil.disk_usage(path.parent).free < FULL_BELOW
    except OSError:
        return "failed"
    return "is full" if full else "failed"


_UNREACHABLE_CLUES = ("connection refused", "could not connect", "connection failed", "server closed the connection",
                      "terminating connection", "connection timeout", "timeout expired", "the database system is",
                      "no route to host", "name or service not known", "connection is closed", "consuming input failed",
                      "server conn crashed", "connection not open", "ssl syscall error", "eof detected")


def _looks_unreachable(error: exc.DBAPIError) -> bool:
    """A server that did not answer (not one that answered no: a refused login, a missing database)."""
    text = str(error.orig).lower()
    refused = any(clue in text for clue, _ in _SERVER_REASONS)
    return not refused and any(clue in text for clue in _UNREACHABLE_CLUES)


def _first_line(error: object) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
