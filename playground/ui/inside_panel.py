"""Inside the Playground's small fully connected network: the network diagram (edges = weights) and,
for 2-D data, what each hidden neuron outputs over the input plane.

Rebuilds the model from the run's latest weights, once per weights (`inside_figures`), and serialises the
diagrams (`network`'s) once: they are drawn as live charts (`live_chart`), redrawn in place. A full page
run while the run trains (a widget changed elsewhere) shows the figures this page showed last; the
panel's own poll brings the newest. Knows nothing about image models (`inspect_panel` inspects those) or
about the controls.
"""
from __future__ import annotations

import streamlit as st

from .. import frames
from ..chart_payload import Same
from ..config import TrainConfig
from ..kept import Kept
from ..lazy import lazy_module
from ..model import plan_for
from ..text import plotly_literals
from . import live_chart, poll_timer, server, session
from .live_view import INSPECT_SECONDS, active
from .widget_state import RUN

# Both import torch: only when there is a run's model to look inside.
checkpoint, network = lazy_module("playground.checkpoint"), lazy_module("playground.network")
MOST_INSIDE = 8  # figures kept, by the weights they show (they hold those weights): shared computations, once each
_INSIDE = Kept(MOST_INSIDE)  # (Same(weights), config JSON) -> prepared figures or None
SHOWN = "pg_inside_shown"  # session state: (the run handle, the figures this page showed last)


def live() -> None:
    """A switch to see inside the network, and the view, refreshed while the run is active."""
    if st.toggle("See inside the network", value=True, key="pg_inside"):
        session.live(render_inside, active=active(), every=INSPECT_SECONDS)


def render_inside() -> bool:
    """The network diagram (edges = weights) and, for 2-D data, each hidden neuron's output map."""
    run = session.run_handle(RUN)
    if run is None:
        st.caption("The network diagram appears when training starts.")
        return False
    snap = run.snapshot()
    figures = shown_figures(run, snap)
    if figures is None:
        st.caption("The diagram shows fully connected networks: Linear layers and activations, up to 50,000 weights.")
        return snap.active
    diagram, neurons = figures
    live_chart.chart(diagram, key="pg_network")
    st.caption("Blue edges: positive weights, orange: negative; thicker means larger.")
    if neurons is not None:
        live_chart.chart(neurons, key="pg_neurons")
        st.caption("What each hidden neuron outputs over the input plane (blue: positive, orange: negative).")
    return snap.active


def shown_figures(run, snap):
    """The figures for `snap`'s weights; in a full page run while the run trains, the ones this page
    showed last (the panel's poll, every INSPECT_SECONDS, brings the newest: a widget changed elsewhere
    need not rebuild them)."""
    last = st.session_state.get(SHOWN)
    if snap.active and last is not None and last[0] is run and not poll_timer.fragment_only_run():
        return last[1]
    figures = inside_figures(run.config, snap.weights)
    st.session_state[SHOWN] = (run, figures)
    return figures


def inside_figures(config: TrainConfig, weights: dict | None):
    """(the network diagram, the neuron maps or None) of the run's model with `weights`, or None when
    there is no small fully connected model to show. Made once per weights (a snapshot's copy, shared by
    every viewer of one computation and by a page re-polling an unchanged snapshot) and serialised once
    (`live_chart.prepare`): a few are kept."""
    return _INSIDE.get_or_make((Same(weights), config.to_json(indent=None)), lambda: _make_figures(config, weights))


def _make_figures(config: TrainConfig, weights: dict | None):
    model = inside_model(config, weights)
    if model is None or not network.is_mlp(model):
        return None
    dataset = server.cached_dataset(config.dataset)
    outputs = dataset.class_names if len(dataset.class_names) == plan_for(config).output_shape[0] else ("y",)
    diagram = network.network_figure(network.diagram(model), plotly_literals(dataset.feature_names),
                                     plotly_literals(outputs))
    maps = network.neuron_maps(model, frames.axis_ranges(dataset)) if dataset.n_features == 2 else None
    neurons = network.neuron_figure(maps) if maps is not None and maps.layers else None
    return live_chart.prepare(diagram), None if neurons is None else live_chart.prepare(neurons)


def inside_model(config: TrainConfig, weights: dict | None):
    """The run's model with its latest `weights`, or None (no weights yet, or they do not fit)."""
    if weights is None:
        return None
    try:
        return checkpoint.model_for_state(config, weights)
    except checkpoint.CheckpointError:
        return None
