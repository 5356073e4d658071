"""Versioned schema migrations of the shared store: numbered steps that bring a database of any
earlier version to `SCHEMA_VERSION`, applied once when a store first touches its database.

The version is recorded in the database itself: SQLite's `PRAGMA user_version` (as the runs files
have always had it, so an older app refuses a newer file) and, on PostgreSQL, the one-row table
`playground_schema`. Steps run in one transaction under the database's write lock (SQLite: BEGIN
IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock), so replicas that start together upgrade
it once. Each step is idempotent (it adds only what is missing), as files written by the old code
may hold a later step's tables already (the class tables were created on first use, unversioned).
Knows the tables only through `schema`; knows nothing about what is stored in them.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import Column, Integer, MetaData, Table, inspect, select, text
from sqlalchemy.engine import Connection

from . import schema
from .database import Database, RunStoreError

_LOCK_KEY = 0x706C6179  # "play": the advisory lock key that serialises migrations on PostgreSQL
_VERSIONS = Table("playground_schema", MetaData(), Column("version", Integer, nullable=False))


def _create_runs(conn: Connection) -> None:
    schema.runs.create(conn, checkfirst=True)
    for index in schema.runs.indexes:
        index.create(conn, checkfirst=True)


def _add_column(table: str, column: str) -> Callable[[Connection], None]:
    def step(conn: Connection) -> None:
        if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
            kind = schema.metadata.tables[table].c[column].type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    step.__doc__ = f"{table} gains the column {column}"
    return step


def _create_class_tables(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=schema.CLASS_TABLES, checkfirst=True)


def _create_class_tiles(conn: Connection) -> None:
    schema.class_tiles.create(conn, checkfirst=True)


# Step N brings a database of version N - 1 to version N.
STEPS: tuple[Callable[[Connection], None], ...] = (
    _create_runs,  # 1: the runs
    _add_column("runs", "timeline"),  # 2: a run's kept boundary frames
    _add_column("runs", "prediction"),  # 3: a lesson run's prediction
    _create_class_tables,  # 4: classes, members, hand-outs, drawings (before: created on first use)
    _create_class_tiles,  # 5: the class board's tiles published by each replica
)
SCHEMA_VERSION = len(STEPS)


def migrate(db: Database) -> int:
    """Bring `db` to SCHEMA_VERSION (a new database gets every step); returns the version it had.
    RunStoreError when it was written by a newer version of the app."""
    with db.read() as conn:
        found = _version(conn)
    if found == SCHEMA_VERSION:
        return found
    _refuse_newer(db, found)
    with db.write() as conn:
        if db.dialect() == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        found = _version(conn)  # another process may have upgraded it meanwhile
        _refuse_newer(db, found)
        for step in STEPS[found:]:
            step(conn)
        if found != SCHEMA_VERSION:
            _set_version(conn, SCHEMA_VERSION)
    return found


def _refuse_newer(db: Database, found: int) -> None:
    if found > SCHEMA_VERSION:
        raise RunStoreError(f"{db.name} was written by a newer version of the app "
                            f"(schema {found}; this one reads {SCHEMA_VERSION})")


def _version(conn: Connection) -> int:
    if conn.dialect.name == "sqlite":
        return conn.exec_driver_sql("PRAGMA user_version").scalar_one()
    if not inspect(conn).has_table(_VERSIONS.name):
        return 0
    return conn.execute(select(_VERSIONS.c.version)).scalar() or 0


def _set_version(conn: Connection, version: int) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
        return
    _VERSIONS.create(conn, checkfirst=True)
    conn.execute(_VERSIONS.delete())
    conn.execute(_VERSIONS.insert().values(version=version))
