"""What a live chart sends for one frame: a figure serialised once, its static traces apart.

A figure is a `go.Figure`, a plain spec (`plots.*_spec`: {"data", "layout"}, no graph_objects) or one
already `prepare`d: serialised once, for any number of charts and frames. `prepared(key, build)` keeps a
few (`_PREPARED`, least recently used out) under a key the caller picks, its parts compared by value or,
wrapped in `Same`, by identity (a snapshot's frozen frame), so the viewers of one computation and a page
re-polling an unchanged snapshot reuse the serialised bytes. Traces marked static (`meta` =
`plots.STATIC_TRACE`, the data points) are serialised once per content (`_STATIC`, a few entries) and
named by a key of their content, whatever the order of their dicts' keys; `payload` puts them in a frame
only when the browser does not have them. The look is Streamlit's chart theme as plain values (`LOOK`).
Knows nothing about Streamlit, components or runs: `playground.ui.live_chart` draws.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from _plotly_utils.utils import plotlyjsShortTypes, to_typed_array_spec
from plotly.io.json import to_json_plotly

from .kept import Kept
from .plots import STATIC_TRACE

try:  # plotly's own fast engine when installed; else plotly's encoder
    import orjson
except ImportError:  # pragma: no cover - depends on the environment
    orjson = None

MOST_STATIC = 16  # serialised static parts kept on the server (the browser keeps 8)
MOST_PREPARED = 128  # prepared figures kept on the server: three charts each for a class of runs
SKIPPED_KEYS = ("geojson", "layer", "layers", "range")  # left as lists, as plotly does
CONFIG = {"displaylogo": False, "responsive": True}  # st.plotly_chart's look: no Plotly logo in the mode bar
# Streamlit's chart theme (light), as plain values: what st.plotly_chart's frontend puts under a figure
# (fonts, colours and positions checked against st.plotly_chart in Chromium: the same to the pixel).
_TITLE, _TEXT, _MUTED, _LINES = "#2f2d2b", "#262730", "#808495", "#e6eaf1"
_FONT = '"Source Sans", "Source Sans Pro", sans-serif'
_AXIS = dict(zerolinecolor=_LINES, gridcolor=_LINES, tickcolor=_LINES, tickfont=dict(color=_MUTED, size=12),
             automargin=True)
LOOK = {"layout": dict(
    font=dict(color=_MUTED, family=_FONT, size=12),
    title=dict(font=dict(family=_FONT, size=16, color=_TITLE, weight=700), x=0, xanchor="left", pad=dict(l=4)),
    margin=dict(pad=8, l=0, r=0),
    legend=dict(bordercolor="rgba(0,0,0,0)", borderwidth=0, font=dict(size=12, color=_TEXT)),
    paper_bgcolor="#ffffff", plot_bgcolor="#ffffff",
    xaxis=dict(_AXIS, showgrid=False, zeroline=False, title=dict(font=dict(color=_MUTED, size=14), standoff=20)),
    yaxis=dict(_AXIS, ticklabelposition="outside", title=dict(font=dict(color=_MUTED, size=14), standoff=24)),
    hoverlabel=dict(bgcolor="#ffffff", bordercolor=_LINES, font=dict(color=_TEXT, family=_FONT, size=12)),
    colorway=["#0068c9", "#83c9ff", "#ff2b2b", "#ffabab", "#29b09d", "#7defa1", "#ff8700", "#ffd16a",
              "#6d3fc0", "#d5dae5"])}


@dataclass(frozen=True)
class Static:
    """The traces of a figure that stay the same between frames: their JSON, its content key, and the
    indices they take in the figure's `data`."""
    key: str
    json: str
    at: tuple[int, ...]


_STATIC = Kept(MOST_STATIC)  # fingerprint -> Static
_STATIC_SEEN = Kept(MOST_STATIC)  # (places, the trace objects) -> Static


def split(traces: list[dict]) -> tuple[list[dict], Static | None]:
    """`traces` (a figure's `data`: a spec's, or as `to_plotly_json` gives it) as the traces that change and
    the static part (None when no trace is static). A static part already serialised is not serialised
    again: found by the very trace objects (a spec's shared points), else by a fingerprint of its content."""
    at = tuple(i for i, trace in enumerate(traces) if trace.get("meta") == STATIC_TRACE)
    if not at:
        return traces, None
    static = [traces[i] for i in at]
    seen = (at, *(Same(trace) for trace in static))
    part = _STATIC_SEEN.get_or_make(seen, lambda: _static_part(at, encoded(static)))
    return [trace for i, trace in enumerate(traces) if i not in at], part


def _static_part(at: tuple[int, ...], static: list[dict]) -> Static:
    """The static part of these (encoded) traces, serialised once per content."""
    # its key is its content's, whatever the order of its dicts' keys (a spec's or a Figure's)
    return _STATIC.get_or_make(_fingerprint([at, static]),
                               lambda: Static(_fingerprint(static).hex()[:20], to_json_plotly(static), at))


def _fingerprint(value) -> bytes:
    """A digest of `value` (dicts, lists, numpy arrays, scalars) that is cheaper than its JSON."""
    digest = hashlib.blake2b(digest_size=20)
    _feed(digest, value)
    return digest.digest()


def _feed(digest, value) -> None:
    if isinstance(value, np.ndarray):
        digest.update(f"<{value.dtype.str}{value.shape}>".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, dict):
        digest.update(b"{")
        for name in sorted(value):
            digest.update(f"{name}:".encode())
            _feed(digest, value[name])
        digest.update(b"}")
    elif isinstance(value, str):  # e.g. an array's "bdata"
        digest.update(f"str{len(value)}=".encode())
        digest.update(value.encode())
    elif isinstance(value, (list, tuple)):
        digest.update(b"[")
        for item in value:
            _feed(digest, item)
        digest.update(b"]")
    else:
        digest.update(f"{type(value).__name__}={value!r};".encode())


@dataclass(frozen=True)
class Prepared:
    """A figure serialised once: the changing traces' JSON, its layout (without a chart's own parts), its
    static part, and the figure as plain dicts (the spec it was made from), which a replay spec reads."""
    data: str
    layout: dict
    static: Static | None
    figure: dict


class Same:
    """A part of a `prepared` key compared by identity (a frozen frame, a dataset); held, so its id is
    not reused while the key is kept."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other) -> bool:
        return isinstance(other, Same) and other.value is self.value


_PREPARED = Kept(MOST_PREPARED)  # key -> prepared figure (or None)


def prepared(key: tuple, build: Callable[[], Any]) -> Prepared | None:
    """The figure `build()` makes (a spec, a Figure or None), prepared, kept under `key` (a few kept)."""
    def make() -> Prepared | None:
        figure = build()
        return None if figure is None else prepare(figure)
    return _PREPARED.get_or_make(key, make)


def prepare(figure) -> Prepared:
    """`figure` (a Figure, a plain spec, or prepared already) serialised for any number of frames."""
    if isinstance(figure, Prepared):
        return figure
    spec = figure.to_plotly_json() if hasattr(figure, "to_plotly_json") else figure
    changing, static = split(spec.get("data", []))
    return Prepared(dumps(encoded(changing)), encoded(spec.get("layout", {})), static, spec)


def encoded(value, name: str = ""):
    """`value` (a plain spec) with its numpy arrays as plotly's typed-array specs ("bdata"), as
    `go.Figure.to_plotly_json` gives them (and without the properties set to None, which a Figure drops),
    without graph_objects' cost."""
    if isinstance(value, np.ndarray):
        return value.tolist() if name in SKIPPED_KEYS else typed_array(value)
    if isinstance(value, dict):
        return {key: encoded(item, key) for key, item in value.items() if item is not None}  # None: unset
    if isinstance(value, (list, tuple)):
        return [encoded(item, name) for item in value]
    return value


def typed_array(array: np.ndarray):
    """`array` as plotly's typed-array spec, as plotly's own `to_typed_array_spec` writes it (which also
    narrows 64-bit integers, and is left to do so), at a fraction of its cost."""
    short = plotlyjsShortTypes.get(str(array.dtype))
    if short is None or array.size == 0 or array.dtype.itemsize == 8 and array.dtype.kind in "iu":
        return to_typed_array_spec(array)
    spec = {"dtype": short, "bdata": base64.b64encode(np.ascontiguousarray(array)).decode("ascii")}
    if array.ndim > 1:
        spec["shape"] = str(array.shape)[1:-1]
    return spec


def dumps(value) -> str:
    """JSON text of `value` (numpy scalars allowed), as plotly writes it."""
    if orjson is not None:
        try:
            return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()
        except TypeError:  # a type only plotly's encoder knows (dates, pandas values)
            pass
    return to_json_plotly(value)


def payload(figure, key: str, height: int | None = None, replay: dict | None = None,
            follow: str | None = None, known: str | None = None) -> tuple[bytes, str | None]:
    """What the browser gets for one frame, and the key of its static part (None when it has none).

    The figure's JSON with Streamlit's look, the key as its `uirevision` (a user's zoom survives redraws)
    and Plotly's config; `height` overrides the figure's. `replay` (`playground.replay.replay_spec`) adds
    a Play button and a scrubber under the chart; `follow` names the replayed chart whose epoch this one
    marks with a vertical line. Static traces go under "static" (their key, their indices, and the traces
    themselves unless `known` is their key: what the browser was sent already); "data" holds the rest.
    `figure` may be `prepare`d already: then only this chart's own parts are serialised now."""
    ready = prepare(figure)
    layout = {**ready.layout, "template": LOOK, "uirevision": key}
    layout["height"] = height or layout.get("height") or 450  # plotly.js's default height
    static = ready.static
    extra = {"key": key, **({"replay": replay} if replay else {}), **({"follow": follow} if follow else {})}
    if static is not None:
        extra["static"] = {"key": static.key, "at": list(static.at)}
    text = f'{{"data":{ready.data},{dumps({"layout": layout, "config": CONFIG, **extra})[1:]}'
    if static is not None and static.key != known:  # the traces' JSON as it was serialised once
        text = f'{text[:-1]},"static_traces":{static.json}}}'
    return text.encode(), None if static is None else static.key
