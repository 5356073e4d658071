"""A finished run pinned beside the live one: its final boundary (or fitted curve) and final numbers.

"Pin this run" (`pg_pin`, shown under a finished 2-D run) keeps a frozen `pinned.Pinned` record in the
session (`pg_pinned`); while one is kept, the live view's picture gets two columns, the pinned run on the
left (`pg_pinned_boundary`, with **Unpin**, `pg_unpin`) and the current one on the right. The record holds
no model and no run handle. Knows nothing about the controls or how runs train.
"""
from __future__ import annotations

from contextlib import contextmanager

import streamlit as st

from .. import plots
from ..config import TrainConfig
from ..pinned import Pinned, pin
from ..progress import COMPLETED, DIVERGED, STOPPED, Snapshot
from ..text import markdown_literal, metric_value
from . import server

PINNED = "pg_pinned"  # the pinned run's record (pinned.Pinned)
FIGURE = "pg_pinned_figure"  # (record, its figure), so the figure is built once per pinned run
PINNABLE = (COMPLETED, STOPPED, DIVERGED)  # how a run that can be pinned ended
SMALL_HEIGHT = 360  # the pinned picture: smaller than the live one, beside it


def pinned() -> Pinned | None:
    """The run kept for comparison, if any."""
    return st.session_state.get(PINNED)


def pin_button(snap: Snapshot, config: TrainConfig, task: str) -> None:
    """The "Pin this run" button under an ended run (not a failed one) not already pinned."""
    record = pinned()
    if snap.status not in PINNABLE or snap.frame is None or record is not None and record.is_of(snap, config):
        return
    st.button("Pin this run", key="pg_pin", icon=":material/push_pin:", on_click=_pin, args=(snap, config, task),
              help="keep this run's final picture and numbers beside your next run")


@contextmanager
def beside_pinned():
    """Where the current picture goes: the right column while a run is pinned (the pinned one on the left),
    else the live view itself."""
    record = pinned()
    if record is None:
        yield
        return
    left, right = st.columns(2, gap="small")
    with left:
        show(record)
    with right:
        yield


def show(record: Pinned) -> None:
    """The pinned run: what it was, its final picture, its final numbers and Unpin."""
    st.markdown(f"**Pinned:** {markdown_literal(record.model)}")
    figure = _figure(record)
    if figure is None:
        st.caption("Its data is no longer on the server (an uploaded table since removed): numbers only.")
    else:
        st.plotly_chart(figure, key="pg_pinned_boundary", width="stretch")
    st.caption(f"{record.status.capitalize()} after {record.epoch:,} epochs · test {record.score_name} "
               f"**{metric_value(record.score)}** · test loss **{metric_value(record.loss)}**")
    st.button("Unpin", key="pg_unpin", icon=":material/close:", on_click=_unpin)


def _figure(record: Pinned):
    """The pinned run's final picture on its own data (built once per pinned run: the live view redraws it on
    every poll); None when that data cannot be read any more."""
    built = st.session_state.get(FIGURE)
    if built is not None and built[0] is record:
        return built[1]
    try:
        dataset = server.cached_dataset(record.config.dataset)
    except (OSError, ValueError):  # e.g. an uploaded table removed to keep the disk quota
        return None
    figure = plots.data_figure(dataset, record.frame)
    if figure is not None:
        figure.update_layout(height=SMALL_HEIGHT, showlegend=False)
    st.session_state[FIGURE] = (record, figure)
    return figure


def _pin(snap: Snapshot, config: TrainConfig, task: str) -> None:
    st.session_state[PINNED] = pin(snap, config, task)


def _unpin() -> None:
    st.session_state.pop(PINNED, None)
    st.session_state.pop(FIGURE, None)
