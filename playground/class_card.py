"""What the teacher's join card says: the link students join a class by, its QR code, times in words.

`join_link` makes the Class page's address with `?class=CODE` from the app's own address (as the
teacher's browser sees it); the link never carries the teacher's secret. `qr_svg` draws a link as an
SVG QR code (`segno`). `span_words` says how long a span of seconds is ("5 min", "6 days").
Knows nothing about Streamlit or the class store.
"""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

import segno

from .class_names import check_code

CLASS_PAGE = "Class"  # the Class page's path in the app's address (pages/5_Class.py)
CODE_PARAM = "class"  # ?class=CODE fills in the join form
FALLBACK_URL = "http://localhost:8501"  # Streamlit's default address, when the browser's is unknown


def app_address(url: str | None) -> str:
    """The app's own address from a page's address (query, fragment and the Class page's path dropped)."""
    parts = urlsplit(url or FALLBACK_URL)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        parts = urlsplit(FALLBACK_URL)
    path = parts.path.rstrip("/")
    if path.rsplit("/", 1)[-1] == CLASS_PAGE:
        path = path[: -len(CLASS_PAGE)].rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def join_link(url: str | None, code: str) -> str:
    """The address that opens the Class page with the join code `code` filled in."""
    return f"{app_address(url)}/{CLASS_PAGE}?{urlencode({CODE_PARAM: check_code(code)})}"


def qr_svg(link: str, scale: int = 4) -> str:
    """`link` as an SVG QR code (black on white, a quiet border), for st.image."""
    return segno.make(link, error="m").svg_inline(scale=scale, border=2, dark="#000", light="#fff")


SPANS = ((86400, "day"), (3600, "h"), (60, "min"), (1, ""))  # units, largest first (seconds are never said)


def span_words(seconds: float) -> str:
    """`seconds` in words, rounded down: its largest unit, and the next one while the count is under 10:
    "under a minute", "5 min", "3 h 20 min", "6 days 23 h", "12 days"."""
    for (size, unit), (smaller, next_unit) in zip(SPANS, SPANS[1:]):
        count = int(seconds // size)
        if count:
            rest = int(seconds % size // smaller) if count < 10 and next_unit else 0
            return _count(count, unit) + (f" {_count(rest, next_unit)}" if rest else "")
    return "under a minute"


def _count(count: int, unit: str) -> str:
    return f"{count} {unit}" + ("s" if unit == "day" and count != 1 else "")
