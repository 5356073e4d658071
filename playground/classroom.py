"""Classes kept in the run store's database (`runstore`, `schema`): who is in which class, what the teacher handed out,
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
`challenge` interprets. The tables come with the store's schema (`migrations`, step 4).
Knows nothing about Streamlit, training or what a config means; any trouble with the database comes
out as `RunStoreError` (see `runstore`), a refused request as ClassError with a plain message.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np
from sqlalchemy import func, select

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
from .schema import class_digits as DIGITS
from .schema import class_handouts as HANDOUTS
from .schema import class_members as MEMBERS
from .schema import class_tiles as TILES
from .schema import classes as CLASSES
from .settings import class_days, class_digits, class_members

MAX_CLASSES = 1000  # live classes on one server
MAX_TEACHING = 20  # live classes one teacher's browser may have started
MAX_DIGITS_EACH = 100  # drawings one student may give
MAX_TITLE = 60  # characters of a class's title
MAX_JSON = 20_000  # characters of a hand-out or challenge as JSON
DIGIT_SIDE = 28
HANDOUT_KINDS = ("setup", "lesson")
_CLASS_TABLES = (MEMBERS, HANDOUTS, DIGITS, TILES)  # what goes with a class, before the class itself


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
            db.execute(CLASSES.insert().values(code=code, title=title, created=now, expires=expires,
                                               teacher_hash=secret_hash(secret), teacher_workspace=teacher_workspace))
        return NewClass(ClassInfo(code, title, now, expires, True, None, None), secret)

    def is_teacher(self, code: str, secret: object) -> bool:
        """Whether `secret` is the teacher secret of the live class `code`."""
        with self._db() as db:
            stored = db.execute(select(CLASSES.c.teacher_hash).where(*_live_class(code))).scalar()
        return stored is not None and secret_matches(secret, stored)

    def teaching(self, teacher_workspace: str) -> list[ClassInfo]:
        """The live classes started from this browser, newest first (it still needs each one's secret)."""
        with self._db() as db:
            rows = db.execute(select(*_INFO).where(CLASSES.c.teacher_workspace == check_workspace(teacher_workspace),
                                                   CLASSES.c.expires > time.time())
                              .order_by(CLASSES.c.created.desc())).all()
        return [_info(row) for row in rows]

    def hand_out(self, code: str, secret: str, kind: str, payload: Any) -> Handout:
        """Give the class a setup (a config dict) or a lesson (its name); the newest hand-out is the one offered."""
        if kind not in HANDOUT_KINDS:
            raise ClassError(f"a hand-out is a {' or a '.join(HANDOUT_KINDS)}, not {kind!r}")
        text, now = _bounded_json(payload, "hand-out"), time.time()
        with self._teacher_db(code, secret) as db:
            handout_id = db.execute(HANDOUTS.insert().values(code=code, created=now, kind=kind, payload=text)
                                    ).inserted_primary_key[0]
        return Handout(handout_id, kind, json.loads(text), now)

    def set_challenge(self, code: str, secret: str, challenge: Mapping | None) -> None:
        """Set (or with None clear) the class's challenge: a JSON object `challenge` checks and ranks."""
        text = None if challenge is None else _bounded_json(dict(challenge), "challenge")
        with self._teacher_db(code, secret) as db:
            db.execute(CLASSES.update().where(CLASSES.c.code == code)
                       .values(challenge=text, challenge_set=None if text is None else time.time()))

    def set_show_names(self, code: str, secret: str, show: bool) -> None:
        """Whether students see each other's names in the challenge's ranking."""
        with self._teacher_db(code, secret) as db:
            db.execute(CLASSES.update().where(CLASSES.c.code == code).values(show_names=int(bool(show))))

    def remove_member(self, code: str, secret: str, member_id: int) -> None:
        """Take a student out of the class (their drawings go too)."""
        with self._teacher_db(code, secret) as db:
            db.execute(DIGITS.delete().where(DIGITS.c.code == code, DIGITS.c.member == int(member_id)))
            db.execute(MEMBERS.delete().where(MEMBERS.c.code == code, MEMBERS.c.id == int(member_id)))

    def remove_digits(self, code: str, secret: str, digit_ids: Iterable[int]) -> int:
        """Delete drawings of the class; returns how many went."""
        ids = [int(i) for i in digit_ids]
        with self._teacher_db(code, secret) as db:
            return db.execute(DIGITS.delete().where(DIGITS.c.code == code, DIGITS.c.id.in_(ids))).rowcount if ids else 0

    def end(self, code: str, secret: str) -> None:
        """Delete the class and everything in it now."""
        with self._teacher_db(code, secret) as db:
            _delete_classes(db, [code])

    # --- anyone with the code ----------------------------------------------------------------------

    def info(self, code: str) -> ClassInfo | None:
        """The live class `code`, or None (no such class, or it expired)."""
        with self._db() as db:
            row = db.execute(select(*_INFO).where(*_live_class(code))).first()
        return _info(row) if row else None

    def join(self, code: str, workspace: str, name: str = "") -> Member:
        """This browser in the class (again: the same member, renamed when a new name is given)."""
        code, name, now = _code(code), check_display_name(name), time.time()
        check_workspace(workspace)
        with self._db(write=True) as db:
            self._purge(db, now)
            self._live(db, code)
            known = db.execute(select(MEMBERS.c.id, MEMBERS.c.name)
                               .where(MEMBERS.c.code == code, MEMBERS.c.workspace == workspace)).first()
            if known is None:
                self._check_members(db, code)
            names = list(db.execute(select(MEMBERS.c.name)
                                    .where(MEMBERS.c.code == code, MEMBERS.c.workspace != workspace)).scalars())
            name = name or (known[1] if known else friendly_name(names))
            if name.casefold() in {n.casefold() for n in names}:
                raise ClassError(f"someone in this class is already called {name!r}: pick another name")
            _upsert_member(db, code, workspace, name, now, known)
            return _member_in(db, code, workspace)

    def member(self, code: str, workspace: str) -> Member | None:
        """This browser's membership of the live class `code`, if it joined."""
        code, workspace = _code(code), check_workspace(workspace)
        with self._db() as db:
            return _member_in(db, code, workspace)

    def memberships(self, workspace: str) -> list[Member]:
        """The live classes this browser joined, the newest first."""
        with self._db() as db:
            rows = db.execute(_LIVE_MEMBERS.where(MEMBERS.c.workspace == check_workspace(workspace),
                                                  CLASSES.c.expires > time.time())
                              .order_by(MEMBERS.c.joined.desc())).all()
        return [Member(*row) for row in rows]

    def members(self, code: str) -> list[Member]:
        """Everyone in the class, in the order they joined."""
        with self._db() as db:
            rows = db.execute(select(*_MEMBER).where(MEMBERS.c.code == _code(code)).order_by(MEMBERS.c.id)).all()
        return [Member(*row) for row in rows]

    def leave(self, code: str, workspace: str) -> None:
        """This browser out of the class (its drawings stay with the class)."""
        with self._db(write=True) as db:
            db.execute(MEMBERS.delete().where(MEMBERS.c.code == _code(code),
                                              MEMBERS.c.workspace == check_workspace(workspace)))

    def handout(self, code: str) -> Handout | None:
        """The class's newest hand-out, if any."""
        return next(iter(self._handouts(code, newest=True)), None)

    def handout_by_id(self, code: str, handout_id: int) -> Handout | None:
        """One hand-out of the class (the setup a run started from)."""
        return next(iter(self._handouts(code, HANDOUTS.c.id == int(handout_id))), None)

    def newest_handout(self, workspace: str) -> tuple[Member, Handout | None] | None:
        """This browser's newest live membership and its class's newest hand-out, in one query (the
        Playground asks on every page run)."""
        with self._db() as db:
            row = db.execute(_NEWEST_HANDOUT.where(MEMBERS.c.workspace == check_workspace(workspace),
                                                   CLASSES.c.expires > time.time())
                             .order_by(MEMBERS.c.joined.desc()).limit(1)).first()
        if row is None:
            return None
        handout = None if row[5] is None else Handout(row[5], row[6], json.loads(row[7]), row[8])
        return Member(*row[:5]), handout

    # --- the class's drawings ---------------------------------------------------------------------

    def add_digit(self, code: str, workspace: str, label: int, pixels: np.ndarray) -> int:
        """A member's drawing (28x28, 0-255) with its label 0-9, given to the class; returns its id."""
        label, blob, code = _check_label(label), _digit_bytes(pixels), _code(code)
        check_workspace(workspace)
        with self._db(write=True) as db:  # one transaction: it waits for a restarting database as a whole
            self._live(db, code)
            member = _member_in(db, code, workspace)
            if member is None:
                raise ClassError("only members of the class can give it drawings: join it first")
            self._check_digit_room(db, member)
            return db.execute(DIGITS.insert().values(code=member.code, member=member.id, label=label, pixels=blob,
                                                     created=time.time())).inserted_primary_key[0]

    def digits(self, code: str) -> list[Digit]:
        """The class's drawings, oldest first."""
        with self._db() as db:
            rows = db.execute(select(DIGITS.c.id, DIGITS.c.member, DIGITS.c.label, DIGITS.c.pixels, DIGITS.c.created)
                              .where(DIGITS.c.code == _code(code)).order_by(DIGITS.c.id)).all()
        return [Digit(i, m, label, np.frombuffer(bytes(p), np.uint8).reshape(DIGIT_SIDE, DIGIT_SIDE), t)
                for i, m, label, p, t in rows]

    def digits_state(self, code: str) -> tuple[int, int]:
        """(the newest drawing's id or 0, how many drawings) of the class: they change whenever its drawings do."""
        with self._db() as db:
            newest, count = db.execute(select(func.max(DIGITS.c.id), func.count())
                                       .where(DIGITS.c.code == _code(code))).one()
        return newest or 0, count

    def digit_count(self, code: str) -> int:
        with self._db() as db:
            return _count(db, DIGITS, DIGITS.c.code == _code(code))

    # --- the board's tiles across replicas (`board_publish`) ----------------------------------------

    def publish_tiles(self, code: str, rows: Iterable[tuple[int, float, str]]) -> None:
        """Keep each (member, run start, tile record) as the member's tile in class `code`, unless a newer run
        of theirs is kept already (another replica's); stamped with the time now."""
        code, now = _code(code), time.time()
        with self._db(write=True) as db:
            for member, started, record in rows:
                kept = db.execute(select(TILES.c.started).where(TILES.c.code == code, TILES.c.member == member)).first()
                if kept is None:
                    db.execute(TILES.insert().values(code=code, member=int(member), started=float(started),
                                                     updated=now, tile=str(record)))
                elif kept[0] <= started:
                    db.execute(TILES.update().where(TILES.c.code == code, TILES.c.member == member)
                               .values(started=float(started), updated=now, tile=str(record)))

    def published_tiles(self, code: str) -> list[tuple[int, float, float, str]]:
        """(member, run start, written, tile record) of every tile kept for the class `code`."""
        with self._db() as db:
            return [tuple(row) for row in db.execute(select(TILES.c.member, TILES.c.started, TILES.c.updated,
                                                            TILES.c.tile).where(TILES.c.code == _code(code)))]

    # --- inside ---------------------------------------------------------------------------------------

    def _db(self, write: bool = False):
        return self.runs.connection(write)

    def _teacher_db(self, code: str, secret: object):
        """A write transaction on the live class `code`, only for its teacher."""
        code = _code(code)
        if not self.is_teacher(code, secret):
            raise ClassAccessError("only the class's teacher can do that (the teacher secret is missing or wrong)")
        return self._db(write=True)

    def _handouts(self, code: str, *where, newest: bool = False) -> list[Handout]:
        query = select(HANDOUTS.c.id, HANDOUTS.c.kind, HANDOUTS.c.payload, HANDOUTS.c.created).where(
            HANDOUTS.c.code == _code(code), *where)
        if newest:
            query = query.order_by(HANDOUTS.c.id.desc()).limit(1)
        with self._db() as db:
            rows = db.execute(query).all()
        return [Handout(i, kind, json.loads(payload), created) for i, kind, payload, created in rows]

    def _purge(self, db, now: float) -> None:
        expired = list(db.execute(select(CLASSES.c.code).where(CLASSES.c.expires <= now)).scalars())
        _delete_classes(db, expired)

    def _check_room(self, db, teacher_workspace: str) -> None:
        if _count(db, CLASSES) >= MAX_CLASSES:
            raise ClassError(f"this server already holds {MAX_CLASSES} classes: end an old one first")
        if _count(db, CLASSES, CLASSES.c.teacher_workspace == teacher_workspace) >= MAX_TEACHING:
            raise ClassError(f"this browser already started {MAX_TEACHING} classes: end one first")

    def _unused_code(self, db) -> str:
        for _ in range(50):
            code = new_code()
            if db.execute(select(CLASSES.c.code).where(CLASSES.c.code == code)).first() is None:
                return code
        raise ClassError("no free class code was found: try again")

    def _live(self, db, code: str) -> None:
        """Refuse a class that is not live; lock its row till the transaction ends (PostgreSQL: joins and
        drawings of one class take turns, as SQLite's write lock makes every writer do)."""
        if db.execute(select(CLASSES.c.code).where(*_live_class(code)).with_for_update()).first() is None:
            raise ClassError(f"there is no class {code} (check the code; a class ends after {class_days():g} days)")

    def _check_members(self, db, code: str) -> None:
        most = class_members()
        if _count(db, MEMBERS, MEMBERS.c.code == code) >= most:
            raise ClassError(f"this class is full ({most} students)")

    def _check_digit_room(self, db, member: Member) -> None:
        most = class_digits()
        if _count(db, DIGITS, DIGITS.c.code == member.code) >= most:
            raise ClassError(f"the class has all the drawings it can keep ({most})")
        if _count(db, DIGITS, DIGITS.c.code == member.code, DIGITS.c.member == member.id) >= MAX_DIGITS_EACH:
            raise ClassError(f"you gave the class {MAX_DIGITS_EACH} drawings already: that is the most one student can")


_INFO = (CLASSES.c.code, CLASSES.c.title, CLASSES.c.created, CLASSES.c.expires, CLASSES.c.show_names,
         CLASSES.c.challenge, CLASSES.c.challenge_set)
_MEMBER = (MEMBERS.c.id, MEMBERS.c.code, MEMBERS.c.name, MEMBERS.c.joined, MEMBERS.c.workspace)
_LIVE_MEMBERS = select(*_MEMBER).join(CLASSES, CLASSES.c.code == MEMBERS.c.code)  # add: where class is live
_LATER = HANDOUTS.alias("later")
_NEWEST_OF_CLASS = (select(func.max(_LATER.c.id)).where(_LATER.c.code == MEMBERS.c.code)
                    .correlate(MEMBERS).scalar_subquery())
_NEWEST_HANDOUT = (select(*_MEMBER, HANDOUTS.c.id, HANDOUTS.c.kind, HANDOUTS.c.payload, HANDOUTS.c.created)
                   .join(CLASSES, CLASSES.c.code == MEMBERS.c.code)
                   .outerjoin(HANDOUTS, HANDOUTS.c.id == _NEWEST_OF_CLASS))


def _member_in(db, code: str, workspace: str) -> Member | None:
    """The membership of `workspace` in the live class `code` (both checked), read on `db`."""
    row = db.execute(_LIVE_MEMBERS.where(MEMBERS.c.code == code, MEMBERS.c.workspace == workspace,
                                         CLASSES.c.expires > time.time())).first()
    return Member(*row) if row else None


def _live_class(code: object) -> tuple:
    """The WHERE clauses of the class `code` while it lasts."""
    return CLASSES.c.code == _code(code), CLASSES.c.expires > time.time()


def _count(db, table, *where) -> int:
    return db.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


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
        db.execute(MEMBERS.insert().values(code=code, workspace=workspace, name=name, folded=name.casefold(),
                                           joined=now))
    else:
        db.execute(MEMBERS.update().where(MEMBERS.c.id == known[0]).values(name=name, folded=name.casefold()))


def _delete_classes(db, codes: list[str]) -> None:
    if not codes:
        return
    for table in (*_CLASS_TABLES, CLASSES):
        db.execute(table.delete().where(table.c.code.in_(codes)))
