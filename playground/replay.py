"""What an in-browser player needs to replay a run's timeline on its `plots.data_figure`.

`replay_spec(figure, timeline)` (a Figure or its plain spec, `plots.*_spec`) names the trace the frames
replace (the boundary's heatmap, or the fitted curve's model line), the attribute (`z` or `y`), the kept
epochs, every frame's values as one packed array (uint8 class-and-confidence codes, ~10 kB per 100x100
boundary; float32 curve values) and the title to write under each epoch. `live=True` marks a run still
training: the browser then also keeps the frames it draws, since the whole timeline is sent only once the run has ended.
The packed form is {"dtype", "shape", "bdata": base64}, as plotly.js's own typed-array spec, with
"frames_key" naming its content: a chart sends a finished run's frames once and then only that key
(`playground.ui.live_chart`). A timeline's frames are packed once (`_PACKED`, a few timelines kept): every
rerun of a finished run's page, and every viewer of one computation, reuse them, while the timeline lives.
Knows the figures' trace names and titles, nothing about Streamlit, runs or the browser's code.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import threading
import weakref
from collections import OrderedDict

import numpy as np

from .frames import BoundaryFrame, CurveFrame
from .timeline import Timeline, boundary_codes

DTYPES = {np.dtype(np.uint8): "u1", np.dtype(np.float32): "f4"}
EPOCH_MARK = " — epoch "  # plots' titles: "Decision boundary — epoch 120"
MOST_PACKED = 64  # timelines whose packed frames are kept (while the timeline lives): a class's finished runs
_PACKED: OrderedDict[int, tuple] = OrderedDict()  # id(timeline) -> (weak ref, attribute, part), latest used last
_PACKED_LOCK = threading.Lock()  # sessions run in threads


def packed(array: np.ndarray) -> dict:
    """`array` as a typed-array spec the browser decodes without parsing numbers."""
    array = np.ascontiguousarray(array)
    return {"dtype": DTYPES[array.dtype], "shape": list(array.shape),
            "bdata": base64.b64encode(array.tobytes()).decode("ascii")}


def frame_values(frames) -> tuple[str, np.ndarray] | None:
    """("z", (N, G, G) uint8 codes) for boundary frames, ("y", (N, G) float32) for curve frames, else None."""
    if frames and all(isinstance(f, BoundaryFrame) for f in frames):
        return "z", boundary_codes(frames)
    if frames and all(isinstance(f, CurveFrame) for f in frames):
        return "y", np.stack([np.asarray(f.ys, np.float32) for f in frames])
    return None


def replayed_trace(figure) -> tuple[int, str] | None:
    """(index, attribute) of the trace a frame redraws in `figure`: its heatmap, or its "model" line."""
    for index, trace in enumerate(_traces(figure)):
        if trace.get("type") == "heatmap":
            return index, "z"
        if trace.get("type") == "scatter" and trace.get("name") == "model":
            return index, "y"
    return None


def _traces(figure) -> list[dict]:
    """The traces of a Figure or of a plain spec ({"data", "layout"}), each as its type and name."""
    if isinstance(figure, dict):
        return figure.get("data", [])
    return [{"type": trace.type, "name": getattr(trace, "name", None)} for trace in figure.data]


def _title(figure) -> str:
    """The title's text of a Figure or of a plain spec."""
    if isinstance(figure, dict):
        title = figure.get("layout", {}).get("title") or {}
        return str((title.get("text") if isinstance(title, dict) else title) or "")
    return str(figure.layout.title.text or "")


def replay_spec(figure, timeline: Timeline | None, run: str = "", live: bool = False) -> dict | None:
    """The player's data for `figure` (a Figure or a plain spec, which must already show a frame), or None
    when it has nothing to play.

    `run` names the run (the browser starts its frames afresh when it changes)."""
    target = None if figure is None else replayed_trace(figure)
    if target is None:
        return None
    index, attribute = target
    part = packed_frames(timeline if not live else None, attribute)
    title = _title(figure).split(EPOCH_MARK)[0]
    return {"trace": index, "attr": attribute, "title": title, "live": live, "run": run, **part}


def packed_frames(timeline: Timeline | None, attribute: str) -> dict:
    """{"epochs", "frames", "frames_key"} of `timeline`'s frames for the trace attribute `attribute` (no
    frames when there are none or they are not of its kind), packed once per timeline (it is frozen).
    An entry lives only as long as its timeline (a weak reference): the cache never keeps a run's frames."""
    if timeline is None or not timeline.frames:
        return {"epochs": [], "frames": None, "frames_key": None}
    with _PACKED_LOCK:
        kept = _PACKED.get(id(timeline))
        if kept is not None and kept[0]() is timeline and kept[1] == attribute:
            _PACKED.move_to_end(id(timeline))
            return kept[2]
    frames = timeline.frames
    values = frame_values(frames)
    if values is None or values[0] != attribute:
        part = {"epochs": [], "frames": None, "frames_key": None}
    else:
        array = packed(values[1])
        key = hashlib.blake2b(array["bdata"].encode("ascii"), digest_size=10).hexdigest()
        part = {"epochs": [f.epoch for f in frames], "frames": array, "frames_key": key}
    with _PACKED_LOCK:
        _PACKED[id(timeline)] = (weakref.ref(timeline, functools.partial(_forget, id(timeline))), attribute, part)
        while len(_PACKED) > MOST_PACKED:
            _PACKED.popitem(last=False)
    return part


def _forget(key: int, gone) -> None:
    """A timeline was freed: drop its packed frames (unless its id is already another's)."""
    with _PACKED_LOCK:
        kept = _PACKED.get(key)
        if kept is not None and kept[0] is gone:
            del _PACKED[key]
