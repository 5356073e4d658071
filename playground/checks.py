"""Value checks shared by the config and the layer registry: one wording for every bad number."""
from __future__ import annotations

import math
from typing import Any


def check_number(value: Any, kind: type, low: float, high: float):
    """`value` as `kind` (int or float) if it lies in [low, high]; else ValueError saying why."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value!r}")
    if not low <= value <= high:  # before any conversion: 10**400 or 1e300 must not overflow
        raise ValueError(f"must be between {low:g} and {high:g}, got {value!r}")
    if kind is int and isinstance(value, float) and not value.is_integer():
        raise ValueError(f"must be a whole number, got {value!r}")
    return kind(value)
