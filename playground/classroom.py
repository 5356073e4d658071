"""Classes kept in the run store's SQLite file: who is in which class, what the teacher handed out,
the challenge, and the drawings the class gave.

A teacher `create`s a class and gets its join code and a secret; only the secret's hash is kept, and
every teacher action (`hand_out`, `set_challenge`, `set_show_names`, `remove_member`, `remove_digits`,
`end`) needs the secret itself (`ClassAccessError` otherwise). A student `join`s with the code from
their browser's workspace token, which is how the class knows them again: the token is never shown,
only the display name (cleaned by `class_names`; names are unique within a class). Drawings are
28x28 uint8 digits with a label, given by members only. Everything belongs to its class and goes
when the class ends or expires (`class_days()` after it started; expired classes are deleted lazily
by the next create or join). Limits: `class_members()` students and `class_digits()` drawings a class,
MAX_DIGITS_EACH drawings a student, MAX_CLASSES classes on a server and MAX_TEACHING per teacher.
A hand-out is a setup (a config dict) or a lesson's name; a challenge is a small JSON object that
`challenge` interprets. The tables are created on first use (no other schema changes).
Knows nothing about Streamlit, training or what a config means; any trouble with the file comes
out as `RunStoreError` (see `runstore`), a refused request as ClassError with a plain message.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np

from .class_names import (
    check_code,
    check_display_name,
    friendly_name,
    new_code,
    new_secret,
    secret_hash,
    secret_matches,
)
from .runstore import RunStore, check_workspace
from .settings import class_days, class_digits, class_members

MAX_CLASSES = 1000  # live classes on one server
MAX_TEACHING = 20  # live classes one teacher's browser may have started
MAX_DIGITS_EACH = 100  # drawings one student may give
MAX_TITLE = 60  # characters of a class's title
MAX_JSON = 20_000  # characters of a hand-out or challenge as JSON
DIGIT_SIDE = 28
HANDOUT_KINDS = ("setup", "lesson")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS classes (
    code TEXT PRIMARY KEY, title TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL,
    teacher_hash TEXT NOT NULL, teacher_workspace TEXT NOT NULL, show_names INTEGER NOT NULL DEFAULT 1,
    challenge TEXT, challenge_set REAL);
CREATE TABLE IF NOT EXISTS class_members (
    id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL, workspace TEXT NOT NULL, name TEXT NOT NULL,
    folded TEXT NOT NULL, joined REAL NOT NULL, UNIQUE (code, workspace), UNIQUE (code, folded));
CREATE TABLE IF NOT EXISTS class_handouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL, created REAL NOT NULL, kind TEXT NOT NULL,
    payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS class_digits (
    id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL, member INTEGER NOT NULL, label INTEGER NOT NULL,
    pixels BLOB NOT NULL, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS class_digits_by_code ON class_digits (code, id);
CREATE INDEX IF NOT EXISTS class_members_by_workspace ON class_members (workspace);
"""
_CLASS_TABLES = ("class_members", "class_handouts", "class_digits")


class ClassError(Exception):
    """A request about a class that cannot be done; the message says why in plain words."""


class ClassAccessError(ClassError):
    """A teacher action without the class's teacher secret."""


@dataclass(frozen=True)
class ClassInfo:
    code: str
    title: str
    created: float
    expires: float
    show_names: bool
    challenge: dict | None  # as set (see `challenge`), None: no challenge
    challenge_set: float | None  # when it was set: runs before it do not count


@dataclass(frozen=True)
class NewClass:
    info: ClassInfo
    secret: str  # shown to the teacher once; the store keeps only its hash


@dataclass(frozen=True)
class Member:
    id: int
    code: str
    name: str
    joined: float
    workspace: str  # the member's browser token: for the server's own lookups, never to be shown


@dataclass(frozen=True)
class Handout:
    id: int
    kind: str  # "setup" (payload: a config dict) or "lesson" (payload: the lesson's name)
    payload: Any
    created: float


@dataclass(frozen=True)
class Digit:
    id: int
    member: int  # the member id of who gave it
    label: int
    pixels: np.ndarray  # (28, 28) uint8, white ink on black
    created: float


class ClassStore:
    """Classes in the file of `runs` (a RunStore). Safe to share between threads."""

    def __init__(self, runs: RunStore):
        self.runs = runs
        self._ready = False

    # --- the teacher ----------------------------------------------------------------------------

    def create(self, teacher_workspace: str, title: str = "", days: float | None = None) -> NewClass:
        """A new class started from the browser `teacher_workspace`, lasting `days` (default `class_days()`)."""
        check_workspace(teacher_workspace)
        title, secret, now = _check_title(title), new_secret(), time.time()
        expires = now + 86400 * (class_days() if days is None else _check_days(days))
        with self._db(write=True) as db:
            self._purge(db, now)
            self._check_room(db, teacher_workspace)
            code = self._unused_code(db)
            db.execute("INSERT INTO classes (code, title, created, expires, teacher_hash, teacher_workspace) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (code, title, now, expires, secret_hash(secret), teacher_workspace))
        return NewClass(ClassInfo(code, title, now, expires, True, None, None), secret)

    def is_teacher(self, code: str, secret: object) -> bool:
        """Whether `secret` is the teacher secret of the live class `code`."""
        with self._db() as db:
            row = db.execute("SELECT teacher_hash FROM classes WHERE code = ? AND expires > ?",
                             (_code(code), time.time())).fetchone()
        return bool(row) and secret_matches(secret, row[0])

    def teaching(self, teacher_workspace: str) -> list[ClassInfo]:
        """The live classes started from this browser, newest first (it still needs each one's secret)."""
        with self._db() as db:
            rows = db.execute(f"SELECT {_INFO} FROM classes WHERE teacher_workspace = ? AND expires > ? "
                              "ORDER BY created DESC", (check_workspace(teacher_workspace), time.time())).fetchall()
        return [_info(row) for row in rows]

    def hand_out(self, code: str, secret: str, kind: str, payload: Any) -> Handout:
        """Give the class a setup (a config dict) or a lesson (its name); the newest hand-out is the one offered."""
        if kind not in HANDOUT_KINDS:
            raise ClassError(f"a hand-out is a {' or a '.join(HANDOUT_KINDS)}, not {kind!r}")
        text, now = _bounded_json(payload, "hand-out"), time.time()
        with self._teacher_db(code, secret) as db:
            handout_id = db.execute("INSERT INTO class_handouts (code, created, kind, payload) VALUES (?, ?, ?, ?)",
                                    (code, now, kind, text)).lastrowid
        return Handout(handout_id, kind, json.loads(text), now)

    def set_challenge(self, code: str, secret: str, challenge: Mapping | None) -> None:
        """Set (or with None clear) the class's challenge: a JSON object `challenge` checks and ranks."""
        text = None if challenge is None else _bounded_json(dict(challenge), "challenge")
        with self._teacher_db(code, secret) as db:
            db.execute("UPDATE classes SET challenge = ?, challenge_set = ? WHERE code = ?",
                       (text, None if text is None else time.time(), code))

    def set_show_names(self, code: str, secret: str, show: bool) -> None:
        """Whether students see each other's names in the challenge's ranking."""
        with self._teacher_db(code, secret) as db:
            db.execute("UPDATE classes SET show_names = ? WHERE code = ?", (int(bool(show)), code))

    def remove_member(self, code: str, secret: str, member_id: int) -> None:
        """Take a student out of the class (their drawings go too)."""
        with self._teacher_db(code, secret) as db:
            db.execute("DELETE FROM class_digits WHERE code = ? AND member = ?", (code, int(member_id)))
            db.execute("DELETE FROM class_members WHERE code = ? AND id = ?", (code, int(member_id)))

    def remove_digits(self, code: str, secret: str, digit_ids: Iterable[int]) -> int:
        """Delete drawings of the class; returns how many went."""
        ids = [int(i) for i in digit_ids]
        with self._teacher_db(code, secret) as db:
            return sum(db.execute("DELETE FROM class_digits WHERE code = ? AND id = ?", (code, i)).rowcount
                       for i in ids)

    def end(self, code: str, secret: str) -> None:
        """Delete the class and everything in it now."""
        with self._teacher_db(code, secret) as db:
            _delete_classes(db, [code])

    # --- anyone with the code ----------------------------------------------------------------------

    def info(self, code: str) -> ClassInfo | None:
        """The live class `code`, or None (no such class, or it expired)."""
        with self._db() as db:
            row = db.execute(f"SELECT {_INFO} FROM classes WHERE code = ? AND expires > ?",
                             (_code(code), time.time())).fetchone()
        return _info(row) if row else None

    def join(self, code: str, workspace: str, name: str = "") -> Member:
        """This browser in the class (again: the same member, renamed when a new name is given)."""
        code, name, now = _code(code), check_display_name(name), time.time()
        check_workspace(workspace)
        with self._db(write=True) as db:
            self._purge(db, now)
            self._live(db, code)
            known = db.execute("SELECT id, name FROM class_members WHERE code = ? AND workspace = ?",
                               (code, workspace)).fetchone()
            if known is None:
                self._check_members(db, code)
            names = [r[0] for r in db.execute("SELECT name FROM class_members WHERE code = ? AND workspace != ?",
                                              (code, workspace))]
            name = name or (known[1] if known else friendly_name(names))
            if name.casefold() in {n.casefold() for n in names}:
                raise ClassError(f"someone in this class is already called {name!r}: pick another name")
            _upsert_member(db, code, workspace, name, now, known)
        return self.member(code, workspace)

    def member(self, code: str, workspace: str) -> Member | None:
        """This browser's membership of the live class `code`, if it joined."""
        with self._db() as db:
            row = db.execute("SELECT m.id, m.code, m.name, m.joined, m.workspace FROM class_members m JOIN classes c "
                             "ON c.code = m.code WHERE m.code = ? AND m.workspace = ? AND c.expires > ?",
                             (_code(code), check_workspace(workspace), time.time())).fetchone()
        return Member(*row) if row else None

    def memberships(self, workspace: str) -> list[Member]:
        """The live classes this browser joined, the newest first."""
        with self._db() as db:
            rows = db.execute("SELECT m.id, m.code, m.name, m.joined, m.workspace FROM class_members m JOIN classes c "
                              "ON c.code = m.code WHERE m.workspace = ? AND c.expires > ? ORDER BY m.joined DESC",
                              (check_workspace(workspace), time.time())).fetchall()
        return [Member(*row) for row in rows]

    def members(self, code: str) -> list[Member]:
        """Everyone in the class, in the order they joined."""
        with self._db() as db:
            rows = db.execute("SELECT id, code, name, joined, workspace FROM class_members WHERE code = ? ORDER BY id",
                              (_code(code),)).fetchall()
        return [Member(*row) for row in rows]

    def leave(self, code: str, workspace: str) -> None:
        """This browser out of the class (its drawings stay with the class)."""
        with self._db(write=True) as db:
            db.execute("DELETE FROM class_members WHERE code = ? AND workspace = ?",
                       (_code(code), check_workspace(workspace)))

    def handout(self, code: str) -> Handout | None:
        """The class's newest hand-out, if any."""
        return next(iter(self._handouts(code, "ORDER BY id DESC LIMIT 1")), None)

    def handout_by_id(self, code: str, handout_id: int) -> Handout | None:
        """One hand-out of the class (the setup a run started from)."""
        return next(iter(self._handouts(code, "AND id = ?", (int(handout_id),))), None)

    def newest_handout(self, workspace: str) -> tuple[Member, Handout | None] | None:
        """This browser's newest live membership and its class's newest hand-out, in one query (the
        Playground asks on every page run)."""
        with self._db() as db:
            row = db.execute("SELECT m.id, m.code, m.name, m.joined, m.workspace, h.id, h.kind, h.payload, h.created "
                             "FROM class_members m JOIN classes c ON c.code = m.code LEFT JOIN class_handouts h "
                             "ON h.id = (SELECT MAX(id) FROM class_handouts WHERE code = m.code) "
                             "WHERE m.workspace = ? AND c.expires > ? ORDER BY m.joined DESC LIMIT 1",
                             (check_workspace(workspace), time.time())).fetchone()
        if row is None:
            return None
        handout = None if row[5] is None else Handout(row[5], row[6], json.loads(row[7]), row[8])
        return Member(*row[:5]), handout

    # --- the class's drawings ---------------------------------------------------------------------

    def add_digit(self, code: str, workspace: str, label: int, pixels: np.ndarray) -> int:
        """A member's drawing (28x28, 0-255) with its label 0-9, given to the class; returns its id."""
        label, blob = _check_label(label), _digit_bytes(pixels)
        member = self.member(code, workspace)
        if member is None:
            raise ClassError("only members of the class can give it drawings: join it first")
        with self._db(write=True) as db:
            self._check_digit_room(db, member)
            return db.execute("INSERT INTO class_digits (code, member, label, pixels, created) VALUES (?, ?, ?, ?, ?)",
                              (member.code, member.id, label, blob, time.time())).lastrowid

    def digits(self, code: str) -> list[Digit]:
        """The class's drawings, oldest first."""
        with self._db() as db:
            rows = db.execute("SELECT id, member, label, pixels, created FROM class_digits WHERE code = ? ORDER BY id",
                              (_code(code),)).fetchall()
        return [Digit(i, m, label, np.frombuffer(p, np.uint8).reshape(DIGIT_SIDE, DIGIT_SIDE), t)
                for i, m, label, p, t in rows]

    def digits_state(self, code: str) -> tuple[int, int]:
        """(the newest drawing's id or 0, how many drawings) of the class: they change whenever its drawings do."""
        with self._db() as db:
            newest, count = db.execute("SELECT MAX(id), COUNT(*) FROM class_digits WHERE code = ?",
                                       (_code(code),)).fetchone()
        return newest or 0, count

    def digit_count(self, code: str) -> int:
        with self._db() as db:
            return db.execute("SELECT COUNT(*) FROM class_digits WHERE code = ?", (_code(code),)).fetchone()[0]

    # --- inside ---------------------------------------------------------------------------------------

    def _db(self, write: bool = False):
        if not self._ready:
            with self.runs.connection(write=True) as db:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
            self._ready = True
        return self.runs.connection(write)

    def _teacher_db(self, code: str, secret: object):
        """A write transaction on the live class `code`, only for its teacher."""
        code = _code(code)
        if not self.is_teacher(code, secret):
            raise ClassAccessError("only the class's teacher can do that (the teacher secret is missing or wrong)")
        return self._db(write=True)

    def _handouts(self, code: str, tail: str, args: tuple = ()) -> list[Handout]:
        with self._db() as db:
            rows = db.execute(f"SELECT id, kind, payload, created FROM class_handouts WHERE code = ? {tail}",
                              (_code(code), *args)).fetchall()
        return [Handout(i, kind, json.loads(payload), created) for i, kind, payload, created in rows]

    def _purge(self, db, now: float) -> None:
        expired = [row[0] for row in db.execute("SELECT code FROM classes WHERE expires <= ?", (now,))]
        _delete_classes(db, expired)

    def _check_room(self, db, teacher_workspace: str) -> None:
        if db.execute("SELECT COUNT(*) FROM classes").fetchone()[0] >= MAX_CLASSES:
            raise ClassError(f"this server already holds {MAX_CLASSES} classes: end an old one first")
        mine = db.execute("SELECT COUNT(*) FROM classes WHERE teacher_workspace = ?",
                          (teacher_workspace,)).fetchone()[0]
        if mine >= MAX_TEACHING:
            raise ClassError(f"this browser already started {MAX_TEACHING} classes: end one first")

    def _unused_code(self, db) -> str:
        for _ in range(50):
            code = new_code()
            if not db.execute("SELECT 1 FROM classes WHERE code = ?", (code,)).fetchone():
                return code
        raise ClassError("no free class code was found: try again")

    def _live(self, db, code: str) -> None:
        if not db.execute("SELECT 1 FROM classes WHERE code = ? AND expires > ?", (code, time.time())).fetchone():
            raise ClassError(f"there is no class {code} (check the code; a class ends after {class_days():g} days)")

    def _check_members(self, db, code: str) -> None:
        most = class_members()
        if db.execute("SELECT COUNT(*) FROM class_members WHERE code = ?", (code,)).fetchone()[0] >= most:
            raise ClassError(f"this class is full ({most} students)")

    def _check_digit_room(self, db, member: Member) -> None:
        most = class_digits()
        if db.execute("SELECT COUNT(*) FROM class_digits WHERE code = ?", (member.code,)).fetchone()[0] >= most:
            raise ClassError(f"the class has all the drawings it can keep ({most})")
        mine = db.execute("SELECT COUNT(*) FROM class_digits WHERE code = ? AND member = ?",
                          (member.code, member.id)).fetchone()[0]
        if mine >= MAX_DIGITS_EACH:
            raise ClassError(f"you gave the class {MAX_DIGITS_EACH} drawings already: that is the most one student can")


_INFO = "code, title, created, expires, show_names, challenge, challenge_set"


def _info(row: tuple) -> ClassInfo:
    code, title, created, expires, show_names, challenge, challenge_set = row
    return ClassInfo(code, title, created, expires, bool(show_names), json.loads(challenge) if challenge else None,
                     challenge_set)


def _code(code: object) -> str:
    try:
        return check_code(code)
    except ValueError as error:
        raise ClassError(str(error)) from None


def _check_title(title: object) -> str:
    try:
        cleaned = check_display_name(title)
    except ValueError:
        cleaned = None
    if cleaned is None or len(str(title)) > 4 * MAX_TITLE:
        raise ClassError(f"a class title is text of at most {MAX_TITLE} characters")
    return cleaned[:MAX_TITLE]


def _check_days(days: object) -> float:
    if isinstance(days, bool) or not isinstance(days, (int, float)) or not 0 < days <= 365:
        raise ClassError("a class lasts more than 0 and at most 365 days")
    return float(days)


def _check_label(label: object) -> int:
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= int(label) <= 9:
        raise ClassError("a drawing's label is a digit from 0 to 9")
    return int(label)


def _digit_bytes(pixels: object) -> bytes:
    array = np.asarray(pixels)
    if array.shape != (DIGIT_SIDE, DIGIT_SIDE) or not np.issubdtype(array.dtype, np.number):
        raise ClassError(f"a drawing is {DIGIT_SIDE}x{DIGIT_SIDE} pixels")
    if not np.isfinite(array).all() or array.min() < 0 or array.max() > 255:
        raise ClassError("a drawing's pixels are numbers from 0 to 255")
    return np.asarray(array, np.uint8).tobytes()


def _bounded_json(value: Any, what: str) -> str:
    try:
        text = json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise ClassError(f"a {what} must be plain JSON ({error})") from None
    if len(text) > MAX_JSON:
        raise ClassError(f"a {what} is at most {MAX_JSON:,} characters as JSON")
    return text


def _upsert_member(db, code: str, workspace: str, name: str, now: float, known: tuple | None) -> None:
    if known is None:
        db.execute("INSERT INTO class_members (code, workspace, name, folded, joined) VALUES (?, ?, ?, ?, ?)",
                   (code, workspace, name, name.casefold(), now))
    else:
        db.execute("UPDATE class_members SET name = ?, folded = ? WHERE id = ?", (name, name.casefold(), known[0]))


def _delete_classes(db, codes: list[str]) -> None:
    for code in codes:
        for table in _CLASS_TABLES:
            db.execute(f"DELETE FROM {table} WHERE code = ?", (code,))
        db.execute("DELETE FROM classes WHERE code = ?", (code,))
