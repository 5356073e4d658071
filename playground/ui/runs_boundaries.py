"""The Runs page's final boundaries of the chosen runs, side by side ("linear ≈ 50%, add ReLU ≈ 95%").

Each chosen run whose data has a picture (2-D classes: its boundary; 1-D regression: its fitted curve)
shows its last saved frame on its own data, with a player over its saved frames (`live_chart`), titled
with its name and test score, in a row of at most
MOST_SIDE_BY_SIDE columns. Runs saved without frames (older runs, race entrants) say so; image and
table runs without a picture are left out. Owns the keys `rn_boundary_<id>`. Reads frames from the run store; knows
nothing about training.
"""
from __future__ import annotations

import streamlit as st

from .. import compare, plots
from ..config import ConfigError, TrainConfig
from ..datasets import DATASETS
from ..replay import replay_spec
from ..runstore import RunStoreError
from ..text import markdown_literal, metric_value
from . import live_chart, server, workspace

MOST_SIDE_BY_SIDE = 4  # boundaries in the row: more would be too small to read
HEIGHT = 340  # px of each boundary


def boundaries(chosen: list) -> None:
    """The chosen runs' final pictures in columns (the first MOST_SIDE_BY_SIDE of those that have one)."""
    pictured = [record for record in chosen if record.has_timeline or _has_picture(record.config)]
    if not pictured:
        return
    st.subheader("Final boundaries")
    if len(pictured) > MOST_SIDE_BY_SIDE:
        st.caption(f"The first {MOST_SIDE_BY_SIDE} of the {len(pictured)} chosen runs with a picture.")
    shown = pictured[:MOST_SIDE_BY_SIDE]
    for column, record in zip(st.columns(max(len(shown), 2)), shown):  # one run takes half the width
        with column:
            _one(record)


def title(record) -> str:
    """The run's name and its test score, e.g. "Run 3 · test 0.9500"."""
    summary = compare.summary(record)
    return f"{summary['name']} · test {metric_value(summary['test score'])}"


def _has_picture(config: dict) -> bool:
    """Whether a saved config's data is a built-in 1-D or 2-D set (the ones with a boundary or curve)."""
    spec = DATASETS.get(config.get("dataset", {}).get("name"))
    return spec is not None and not spec.is_image and len(spec.feature_names) in (1, 2)


def _one(record) -> None:
    st.markdown(f"**{markdown_literal(title(record))}**")
    shown = _figure(record)
    if isinstance(shown, str):
        st.caption(shown)
        return
    figure, timeline = shown
    figure.update_layout(height=HEIGHT, showlegend=False)
    live_chart.chart(figure, key=f"rn_boundary_{record.id}", replay=replay_spec(figure, timeline, run=str(record.id)))


def _figure(record):
    """(The run's last frame on its data, its timeline), or a sentence saying why there is none."""
    if not record.has_timeline:
        return "No boundary was saved with this run (older runs and race entrants have none)."
    try:
        timeline = server.run_store().timeline(workspace.current(), record.id)
        dataset = server.cached_dataset(TrainConfig.from_dict(record.config).dataset)
    except RunStoreError as error:
        return markdown_literal(f"Its boundary cannot be read right now: {error}.")
    except (ConfigError, OSError, ValueError):  # e.g. an uploaded table removed to keep the disk quota
        return "Its data is no longer on the server: no picture."
    figure = plots.data_figure(dataset, timeline.final) if timeline is not None else None
    return (figure, timeline) if figure is not None else "Its saved boundary cannot be read."
