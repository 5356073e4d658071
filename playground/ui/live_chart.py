"""A Plotly chart that updates in place: `chart(figure, key=...)`, a drop-in for
`st.plotly_chart(figure, key=..., width="stretch")` in views that redraw while a run trains.

`st.plotly_chart` remounts its chart when the figure changes, so a live chart blanks out between frames
and a user's zoom is lost. This Components v2 component keeps one Plotly div per key and redraws it with
`Plotly.react` (`layout.uirevision` = the key keeps the user's zoom); its JavaScript is live_chart.js.
plotly.js itself is the installed plotly package's own file, served by Streamlit as a Components v1
asset folder and loaded by the browser once per page. The figure goes as its JSON (numpy arrays as
base64 "bdata", which plotly.js decodes), with a plain template that looks like Streamlit's chart theme
(the "streamlit" template's colours are placeholders only st.plotly_chart's frontend fills in).
Knows nothing about runs or what the figures show.
"""
from __future__ import annotations

import functools
from pathlib import Path

import plotly
import streamlit as st
from plotly.io.json import to_json_plotly

JS_FILE = Path(__file__).with_name("live_chart.js")
PLOTLY_DIR = Path(plotly.__file__).parent / "package_data"  # holds plotly.min.js
COMPONENT = "pg_live_chart"
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


def payload(figure, key: str, height: int | None = None, replay: dict | None = None,
            follow: str | None = None) -> bytes:
    """What the browser gets for one frame: the figure's JSON with Streamlit's look, the key as its
    `uirevision` (a user's zoom survives redraws) and Plotly's config; `height` overrides the figure's.
    `replay` (`playground.replay.replay_spec`) adds a Play button and a scrubber under the chart;
    `follow` names the replayed chart whose epoch this one marks with a vertical line."""
    spec = figure.to_plotly_json()
    layout = {**spec.get("layout", {}), "template": LOOK, "uirevision": key}
    layout["height"] = height or layout.get("height") or 450  # plotly.js's default height
    extra = {"key": key, **({"replay": replay} if replay else {}), **({"follow": follow} if follow else {})}
    return to_json_plotly({"data": spec.get("data", []), "layout": layout, "config": CONFIG, **extra}).encode()


def chart(figure, key: str, height: int | None = None, replay: dict | None = None, follow: str | None = None) -> None:
    """Draw `figure` under `key`, redrawing the chart already on the page in place (full width); with
    `replay`, a player under it; with `follow`, a marker at the epoch the chart `follow` replays."""
    data = payload(figure, key, height, replay, follow)
    _component()(key=key, data=data, width="stretch", height="content")


@functools.cache
def _component():
    """Registers the component (once per process, on first use) and returns its mount function."""
    plotly_files = st.components.v1.declare_component("plotly_js", path=str(PLOTLY_DIR))
    js = JS_FILE.read_text().replace("__PLOTLY_URL__", f"component/{plotly_files.name}/plotly.min.js")
    return st.components.v2.component(COMPONENT, js=js, isolate_styles=False)
