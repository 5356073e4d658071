"""One student's run large on the class board: name and score in large type, its boundary (2-D data) beside
its loss and score curves, and everything it changed against the hand-out, with "Back to the class".

Reads the run without touching it (`snapshot(touch=False)`), like the grid. The figures are the
Playground's own (`live_view`'s curves, `data_view`'s boundary, drawn in place by `live_chart`), under
`cl_board_*` keys. Knows nothing about the grid or the class store.
"""
from __future__ import annotations

from typing import Callable

import streamlit as st

from .. import board_html
from ..board import Tile, run_config
from ..frames import BoundaryFrame, CurveFrame
from ..losses import LOSSES
from . import live_chart, live_view, server
from .data_view import data_chart

ELSEWHERE = "This run trains on another server of the school: its curves are on the student's page."


def detail(run, tile: Tile, on_back: Callable[[], None], note: str = ELSEWHERE) -> None:
    """The run of `tile`'s student (`run`: its `class_live.LiveRun`; None: its numbers only, with `note`) large."""
    st.button("Back to the class", key="cl_board_back", icon=":material/arrow_back:", on_click=on_back)
    st.html(board_html.heading(tile))
    if run is None:
        st.info(note)
        st.html(board_html.change_list(tile))
        return
    config, snap = run_config(run), run.handle.snapshot(touch=False)
    if config is None:
        st.info("This run's setup cannot be read on this server.")
        return
    picture = boundary(config, snap.frame)
    places = st.columns([11, 10], gap="small") if picture is not None else (None, st.container())
    if picture is not None:
        with places[0]:
            live_chart.chart(picture, key="cl_board_boundary")
    with places[1]:
        curves = st.columns(2, gap="small") if picture is None else (st.container(), st.container())
        with curves[0]:
            live_chart.chart(live_view.loss_chart(snap.history, config.epochs, LOSSES[config.loss].title),
                             key="cl_board_loss")
        with curves[1]:
            live_chart.chart(live_view.score_chart(snap.history, config.epochs, config.dataset.task),
                             key="cl_board_score")
    st.html(board_html.change_list(tile))


def boundary(config, frame):
    """The run's boundary (or fitted curve) as the Playground draws it; None for other data or when its data
    cannot be had here (an uploaded table that is gone)."""
    if not isinstance(frame, (BoundaryFrame, CurveFrame)):
        return None
    try:
        return data_chart(server.cached_dataset(config.dataset), frame)
    except (ValueError, OSError) as error:
        st.caption(f"The boundary cannot be drawn: {error}")
        return None
