"""A Plotly chart that updates in place: `chart(figure, key=...)`, a drop-in for
`st.plotly_chart(figure, key=..., width="stretch")` in views that redraw while a run trains.

`st.plotly_chart` remounts its chart when the figure changes, so a live chart blanks out between frames
and a user's zoom is lost. This Components v2 component keeps one Plotly div per key and redraws it with
`Plotly.react` (`layout.uirevision` = the key keeps the user's zoom); its JavaScript is assets/live_chart.js,
served as a file (a Components v1 asset folder) and imported by a tiny inline loader (`LOADER`), so a frame
does not carry the script. plotly.js itself is the installed plotly package's own file, served the same
way; the browser loads each once per page. The figure goes as its JSON (numpy arrays as base64 "bdata",
which plotly.js decodes), with a plain template that looks like Streamlit's chart theme (the "streamlit"
template's colours are placeholders only st.plotly_chart's frontend fills in).

The figure's serialisation is `playground.chart_payload`'s.

A frame carries only what changes: traces marked static (`meta` = `plots.STATIC_TRACE`, the data points)
go as their JSON once and then as a content key (a hash of that JSON) that the browser looks up in its own
cache (per window, a few entries, least recently used first out) before it rebuilds the whole figure. The
server remembers per session which key each chart was sent (`SENT`); a new session (a reload, a new tab)
starts with none, so its first frame is whole. When the browser lacks a key all the same (evicted, or the
message that carried the traces was dropped by a superseded rerun), it draws what it has (the points'
places left empty, never a blank chart) and reports the miss with the trigger `miss`; the callback forgets
what that chart was sent, so the rerun the trigger starts sends the traces again. Serialised static parts
are kept per content (`_STATIC`, a few entries), so a poll re-serialises only what changed. A finished
run's replayed frames go the same way: once per chart, then their `frames_key` only (`unsent_frames`); a
chart without them (a remounted div) reports a miss of that key, which forgets both.
Knows nothing about runs or what the figures show.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import plotly
import streamlit as st

from ..chart_payload import (  # noqa: F401  (the live views and tests use them through here)
    CONFIG,
    LOOK,
    Prepared,
    Same,
    payload,
    prepare,
    prepared,
    split,
)

ASSETS = Path(__file__).with_name("assets")  # served as a folder: the component's script only
JS_FILE = ASSETS / "live_chart.js"
PLOTLY_DIR = Path(plotly.__file__).parent / "package_data"  # holds plotly.min.js
COMPONENT = "pg_live_chart"
SENT = "_pg_live_chart_sent"  # session state: {chart key: the static part's key the browser was sent}
REPLAY = "/replay"  # SENT[chart key + REPLAY]: the frames_key of the replayed frames it was sent
# What each frame carries instead of the script: import it (once per page) and hand it the frame.
LOADER = """export default function (component) {
  const base = document.baseURI;
  import(new URL("__SCRIPT_URL__", base).href)
    .then((script) => script.default(component, new URL("__PLOTLY_URL__", base).href))
    .catch((error) => console.error("live chart: its script did not load", error));
}"""


def chart(figure, key: str, height: int | None = None, replay: dict | None = None, follow: str | None = None) -> None:
    """Draw `figure` under `key`, redrawing the chart already on the page in place (full width); with
    `replay`, a player under it; with `follow`, a marker at the epoch the chart `follow` replays."""
    sent = st.session_state.setdefault(SENT, {})
    replay = unsent_frames(replay, sent, key)
    data, static_key = payload(figure, key, height, replay, follow, known=sent.get(key))
    sent[key] = static_key
    _component()(key=key, data=data, width="stretch", height="content",
                 on_miss_change=functools.partial(forget, key))


def unsent_frames(replay: dict | None, sent: dict, key: str) -> dict | None:
    """`replay` without its packed frames when chart `key` was sent them already (their `frames_key`
    names them): a finished run's timeline (~1 MB) goes once, not with every rerun of its page."""
    frames_key = replay.get("frames_key") if replay else None
    if frames_key is None:
        return replay
    if sent.get(key + REPLAY) == frames_key:
        return {**replay, "frames": None}
    sent[key + REPLAY] = frames_key
    return replay


def forget(key: str) -> None:
    """The browser lacks what chart `key` was sent (the trigger `miss`: its static part, or the replayed
    frames): send both again."""
    sent = st.session_state.get(SENT, {})
    sent.pop(key, None)
    sent.pop(key + REPLAY, None)


@functools.cache
def _component():
    """Registers the component (once per process, on first use) and returns its mount function."""
    return st.components.v2.component(COMPONENT, js=loader(), isolate_styles=False)


def loader() -> str:
    """The inline script of every frame: imports live_chart.js (its URL names its content, so a changed
    script is fetched anew) and gives it plotly.js's URL; both served as Components v1 asset folders."""
    plotly_files = st.components.v1.declare_component("plotly_js", path=str(PLOTLY_DIR))
    script_files = st.components.v1.declare_component("live_chart_js", path=str(ASSETS))
    version = hashlib.sha256(JS_FILE.read_bytes()).hexdigest()[:12]
    return (LOADER.replace("__SCRIPT_URL__", f"component/{script_files.name}/{JS_FILE.name}?v={version}")
            .replace("__PLOTLY_URL__", f"component/{plotly_files.name}/plotly.min.js"))
