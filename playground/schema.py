"""The tables of the shared store, as SQLAlchemy Core `Table`s: the runs (`runstore`) and the classes
(`classroom`). Column types are portable: the same definitions make the SQLite file and the PostgreSQL
tables. This module only describes the newest shape; `migrations` brings an older database to it, and it
knows nothing about what a row means.
"""
from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, LargeBinary, MetaData, Table, Text, UniqueConstraint

metadata = MetaData()

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace", Text, nullable=False),
    Column("created", Float(precision=53), nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    Column("status", Text, nullable=False),
    Column("config", Text, nullable=False),
    Column("history", Text, nullable=False),
    Column("final", Text, nullable=False),
    Column("timeline", LargeBinary),  # schema 2
    Column("prediction", Text),  # schema 3
    sqlite_autoincrement=True,  # ids are never reused, as in the files the old code wrote
)
Index("runs_by_workspace", runs.c.workspace, runs.c.id)

classes = Table(
    "classes", metadata,
    Column("code", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("created", Float(precision=53), nullable=False),
    Column("expires", Float(precision=53), nullable=False),
    Column("teacher_hash", Text, nullable=False),
    Column("teacher_workspace", Text, nullable=False),
    Column("show_names", Integer, nullable=False, server_default="1"),
    Column("challenge", Text),
    Column("challenge_set", Float(precision=53)),
)

class_members = Table(
    "class_members", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", Text, nullable=False),
    Column("workspace", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("folded", Text, nullable=False),
    Column("joined", Float(precision=53), nullable=False),
    UniqueConstraint("code", "workspace"),
    UniqueConstraint("code", "folded"),
    sqlite_autoincrement=True,
)
Index("class_members_by_workspace", class_members.c.workspace)

class_handouts = Table(
    "class_handouts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", Text, nullable=False),
    Column("created", Float(precision=53), nullable=False),
    Column("kind", Text, nullable=False),
    Column("payload", Text, nullable=False),
    sqlite_autoincrement=True,
)

class_digits = Table(
    "class_digits", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", Text, nullable=False),
    Column("member", Integer, nullable=False),
    Column("label", Integer, nullable=False),
    Column("pixels", LargeBinary, nullable=False),
    Column("created", Float(precision=53), nullable=False),
    sqlite_autoincrement=True,
)
Index("class_digits_by_code", class_digits.c.code, class_digits.c.id)

class_tiles = Table(  # the board's tiles of runs on each replica (`board_publish`): one per member, newest run
    "class_tiles", metadata,
    Column("code", Text, primary_key=True),
    Column("member", Integer, primary_key=True),
    Column("started", Float(precision=53), nullable=False),  # the run's start (unix time): the newest wins
    Column("updated", Float(precision=53), nullable=False),  # when its replica last wrote it
    Column("tile", Text, nullable=False),  # board_publish.record
)

CLASS_TABLES = (classes, class_members, class_handouts, class_digits)
