"""Value checks shared by the config, the layer registry, links and checkpoints: one wording for
every bad number, and short quotes of whatever a hostile file put where a value belongs.

Knows nothing about which keys exist; callers name the key.
"""
from __future__ import annotations

import math
import reprlib
from typing import Any

_QUOTE = reprlib.Repr()
_QUOTE.maxstring, _QUOTE.maxother, _QUOTE.maxlist, _QUOTE.maxdict, _QUOTE.maxlevel = 60, 60, 4, 4, 2
MAX_INT_DIGITS = 30  # digits of an integer read from text; longer ones are refused by their length


class LongNumber(float):
    """An integer written with too many digits to be read (Python's int-string limit): infinity that
    says how long it was, so the check of its key refuses it by name ("a 5,000-digit number")."""

    def __new__(cls, text: str):
        number = super().__new__(cls, "-inf" if text.lstrip().startswith("-") else "inf")
        number.digits = sum(ch.isdigit() for ch in text)
        return number

    def __repr__(self) -> str:
        return f"a {self.digits:,}-digit number"


def read_int(text: str) -> int | LongNumber:
    """An integer from text (JSON's parse_int, a link's value); a LongNumber when it is too long."""
    too_long = len(text) > MAX_INT_DIGITS and text.strip().lstrip("+-").isdigit()
    return LongNumber(text) if too_long else int(text)


def quote(value: Any) -> str:
    """A short repr of `value` for a message: long strings and deep or long lists are cut."""
    return _QUOTE.repr(value)


def clip(text: str, limit: int = 60) -> str:
    """`text` cut to `limit` characters (with "..."), for a key name in a message."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_number(value: Any, kind: type, low: float, high: float):
    """`value` as `kind` (int or float) if it lies in [low, high]; else ValueError saying why."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number, got {quote(value)}")
    if isinstance(value, float) and not math.isfinite(value) and not isinstance(value, LongNumber):
        raise ValueError(f"must be a finite number, got {value!r}")
    if not low <= value <= high:  # before any conversion: 10**400 or 1e300 must not overflow
        raise ValueError(f"must be between {low:g} and {high:g}, got {quote(value)}")
    if kind is int and isinstance(value, float) and not value.is_integer():
        raise ValueError(f"must be a whole number, got {value!r}")
    return kind(value)
