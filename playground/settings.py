"""Server settings from the environment: every `PLAYGROUND_*` variable is read here and nowhere else.

Each setting is one function, read again on every call (a test or an operator may change the
variable); the module that uses the value calls it. Nothing here writes the environment: a flag a
caller wants to pass down (the command line letting configs name CSV files by path) is a parameter.

| variable                          | function                 | default                      | a bad value         |
|-----------------------------------|--------------------------|------------------------------|---------------------|
| `PLAYGROUND_WORKERS`              | `default_workers()`      | one per CPU core (0: threads)| ValueError          |
| `PLAYGROUND_IDLE_SECONDS`         | `idle_seconds()`         | 90                           | ValueError          |
| `PLAYGROUND_RUN_BUDGET_MINUTES`   | `budget_minutes()`       | 30                           | ValueError          |
| `PLAYGROUND_TURN_MINUTES`         | `turn_minutes()`         | 10                           | ValueError          |
| `PLAYGROUND_ABANDONED_SECONDS`    | `abandoned_seconds()`    | 30                           | ValueError          |
| `PLAYGROUND_LIVE_RUNS`            | `live_runs()`            | 1 per training worker        | ValueError          |
| `PLAYGROUND_TABLES_MB`            | `tables_mb()`            | 500                          | logged, default     |
| `PLAYGROUND_MIN_FREE_MB`          | `min_free_mb()`          | 200                          | logged, default     |
| `PLAYGROUND_UPLOADS_PER_MINUTE`   | `uploads_per_minute()`   | 6 (at least 1)               | logged, default     |
| `PLAYGROUND_UPLOAD_MB_PER_MINUTE` | `upload_mb_per_minute()` | 60                           | logged, default     |
| `PLAYGROUND_DATA`                 | `data_root()`            | ~/.cache/neural-playground   | (any path)          |
| `PLAYGROUND_OFFLINE`              | `downloads_allowed()`    | downloads allowed            | "1"/"true"/"yes": off |
| `PLAYGROUND_RUNS_DB`              | `runs_db()`              | None (the data folder's)     | (any path)          |
| `PLAYGROUND_STACK`                | `stacking()`             | on                           | "0"/"false"/"no": off |
| `PLAYGROUND_CLASS_DAYS`           | `class_days()`           | 7                            | ValueError          |
| `PLAYGROUND_CLASS_MEMBERS`        | `class_members()`        | 200                          | ValueError          |
| `PLAYGROUND_CLASS_DIGITS`         | `class_digits()`         | 3000                         | ValueError          |
| `PLAYGROUND_DB_URL`               | `db_url()`               | None (SQLite: `runs_db()`)   | ValueError          |
| `PLAYGROUND_RAY_ADDRESS`          | `ray_address()`          | None (the local pool)        | ValueError          |

Knows nothing about what the settings are for: the pool, the budget, the table store and the
image loaders apply them.
"""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path

log = logging.getLogger(__name__)

IDLE_SECONDS = 90.0  # an unwatched run stops after this long
BUDGET_MINUTES = 30.0  # the longest a run may be estimated to take on a server
TURN_MINUTES = 10.0  # a run that has had a worker this long while others wait is stopped
ABANDONED_SECONDS = 30.0  # a queued run whose page has not asked about it this long is dropped (a background
LIVE_RUNS_PER_WORKER = 1  # live runs per training worker: more saturate a 2-core server's Python (issue 16)
# tab still polls once a second, a reconnecting one within seconds)
TABLES_MB = 500.0  # all stored CSV uploads together
MIN_FREE_MB = 200.0  # disk space that must stay free after storing an upload
UPLOADS_PER_MINUTE = 6  # uploads per browser session and minute...
UPLOAD_MB_PER_MINUTE = 60.0  # ...and their megabytes
CLASS_DAYS = 7.0  # a class (members, hand-outs, challenge, digits) is deleted this long after it started
CLASS_MEMBERS = 200  # students one class may have
CLASS_DIGITS = 3000  # drawings one class may collect


def default_workers() -> int:
    """Worker processes from `$PLAYGROUND_WORKERS` (0: train on threads in the server), else the CPU count."""
    value = _text("PLAYGROUND_WORKERS")
    if value:
        if not value.isdigit():
            raise ValueError(f"PLAYGROUND_WORKERS must be a whole number (0: no worker processes), not {value!r}")
        return int(value)
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def idle_seconds() -> float:
    """Seconds without anyone watching after which a run stops (`$PLAYGROUND_IDLE_SECONDS`, default 90)."""
    value = _text("PLAYGROUND_IDLE_SECONDS")
    try:
        return float(value) if value else IDLE_SECONDS
    except ValueError:
        raise ValueError(f"PLAYGROUND_IDLE_SECONDS must be a number of seconds, not {value!r}") from None


def budget_minutes() -> float:
    """The longest a run may take on this server, in minutes (`$PLAYGROUND_RUN_BUDGET_MINUTES`, default 30)."""
    return positive_number("PLAYGROUND_RUN_BUDGET_MINUTES", BUDGET_MINUTES, "minutes")


def turn_minutes() -> float:
    """Minutes a run may keep a worker while others wait (`$PLAYGROUND_TURN_MINUTES`, default 10)."""
    return positive_number("PLAYGROUND_TURN_MINUTES", TURN_MINUTES, "minutes")


def live_runs(workers: int) -> float:
    """Runs whose pages may watch them live at once, shared ones included (`$PLAYGROUND_LIVE_RUNS`, default
    LIVE_RUNS_PER_WORKER per worker): each live page polls several times a second, and the server's one
    Python process serves them all."""
    return positive_number("PLAYGROUND_LIVE_RUNS", LIVE_RUNS_PER_WORKER * max(workers, 1), "runs")


def abandoned_seconds() -> float:
    """Seconds a queued run keeps its place without its page asking (`$PLAYGROUND_ABANDONED_SECONDS`, default 30)."""
    return positive_number("PLAYGROUND_ABANDONED_SECONDS", ABANDONED_SECONDS, "seconds")


def tables_mb() -> float:
    """Megabytes all stored CSV tables may take together (`$PLAYGROUND_TABLES_MB`, default 500)."""
    return non_negative_number("PLAYGROUND_TABLES_MB", TABLES_MB)


def min_free_mb() -> float:
    """Megabytes the disk must keep free after storing an upload (`$PLAYGROUND_MIN_FREE_MB`, default 200)."""
    return non_negative_number("PLAYGROUND_MIN_FREE_MB", MIN_FREE_MB)


def uploads_per_minute() -> int:
    """Files one browser session may upload per minute (`$PLAYGROUND_UPLOADS_PER_MINUTE`, default 6, at least 1)."""
    return max(int(non_negative_number("PLAYGROUND_UPLOADS_PER_MINUTE", UPLOADS_PER_MINUTE)), 1)


def upload_mb_per_minute() -> float:
    """Megabytes one browser session may upload per minute (`$PLAYGROUND_UPLOAD_MB_PER_MINUTE`, default 60)."""
    return non_negative_number("PLAYGROUND_UPLOAD_MB_PER_MINUTE", UPLOAD_MB_PER_MINUTE)


def class_days() -> float:
    """Days a class lasts before it is deleted (`$PLAYGROUND_CLASS_DAYS`, default 7)."""
    return positive_number("PLAYGROUND_CLASS_DAYS", CLASS_DAYS, "days")


def class_members() -> int:
    """Students one class may have (`$PLAYGROUND_CLASS_MEMBERS`, default 200)."""
    return max(int(positive_number("PLAYGROUND_CLASS_MEMBERS", CLASS_MEMBERS, "students")), 1)


def class_digits() -> int:
    """Drawings one class may collect (`$PLAYGROUND_CLASS_DIGITS`, default 3000)."""
    return max(int(positive_number("PLAYGROUND_CLASS_DIGITS", CLASS_DIGITS, "drawings")), 1)


def data_root() -> Path:
    """Where local datasets live and downloads go: $PLAYGROUND_DATA or ~/.cache/neural-playground."""
    return Path(os.environ.get("PLAYGROUND_DATA") or Path.home() / ".cache" / "neural-playground")


def downloads_allowed() -> bool:
    """False when `$PLAYGROUND_OFFLINE` is 1, true or yes: no dataset is downloaded then."""
    return os.environ.get("PLAYGROUND_OFFLINE", "").lower() not in ("1", "true", "yes")


def stacking() -> bool:
    """False when `$PLAYGROUND_STACK` is 0, false or no: the pool then trains every run alone (see `stacking`)."""
    return os.environ.get("PLAYGROUND_STACK", "").lower() not in ("0", "false", "no")


def runs_db() -> Path | None:
    """The run store's SQLite file from `$PLAYGROUND_RUNS_DB`, else None (the store picks its default)."""
    value = os.environ.get("PLAYGROUND_RUNS_DB")
    return Path(value) if value else None


DB_SCHEMES = ("sqlite", "postgresql")  # what `PLAYGROUND_DB_URL` may name (SQLAlchemy dialects, +driver allowed)


def db_url() -> str | None:
    """The shared store's SQLAlchemy URL from `$PLAYGROUND_DB_URL` (`postgresql://user@host/db`, or
    `sqlite:///path`), else None: the run store's SQLite file (`runs_db()`). ValueError naming the variable
    for another scheme (the password, if any, is not repeated)."""
    value = _text("PLAYGROUND_DB_URL")
    if not value:
        return None
    scheme = value.split(":", 1)[0].split("+", 1)[0].lower()
    if "://" not in value or scheme not in DB_SCHEMES:
        raise ValueError(f"PLAYGROUND_DB_URL must start with postgresql:// or sqlite:///, not {scheme!r}://…")
    return value


def ray_address() -> str | None:
    """The Ray cluster that trains the runs, from `$PLAYGROUND_RAY_ADDRESS`: `auto` (the cluster `ray start`
    began on this machine), `host:port` or `ray://host:port`; None: the local pool. ValueError for anything
    else."""
    value = _text("PLAYGROUND_RAY_ADDRESS")
    if not value:
        return None
    host_port = re.fullmatch(r"(ray://)?[A-Za-z0-9._-]{1,253}:\d{1,5}", value)
    if value != "auto" and host_port is None:
        raise ValueError(f"PLAYGROUND_RAY_ADDRESS must be auto, host:port or ray://host:port, not {value!r}")
    return value


# --- reading a number ------------------------------------------------------------------------------


def positive_number(name: str, default: float, unit: str) -> float:
    """A server limit from the environment variable `name` (a positive number), else `default`; ValueError
    naming the variable and `unit` for anything else."""
    value = _text(name)
    try:
        number = float(value) if value else default
    except ValueError:
        number = -1.0
    if not number > 0:
        raise ValueError(f"{name} must be a positive number of {unit}, not {value!r}")
    return number


def non_negative_number(name: str, default: float) -> float:
    """The non-negative number in the environment variable `name`, else `default` (a bad value is logged)."""
    text = _text(name)
    try:
        value = float(text) if text else default
    except ValueError:
        value = -1
    if not 0 <= value < 2**40:
        log.warning("%s=%r is not a non-negative number; using %s", name, text, default)
        value = default
    return value


def _text(name: str) -> str:
    return os.environ.get(name, "").strip()
