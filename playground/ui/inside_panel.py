"""Inside the Playground's small fully connected network: the network diagram (edges = weights) and,
for 2-D data, what each hidden neuron outputs over the input plane.

Rebuilds the model from the run's latest weights; the diagrams are `network`'s. Knows nothing about
image models (`inspect_panel` inspects those) or about the controls.
"""
from __future__ import annotations

import streamlit as st

from .. import frames
from ..config import TrainConfig
from ..lazy import lazy_module
from ..model import plan_for
from ..text import plotly_literals
from . import server, session
from .live_view import INSPECT_SECONDS, active
from .widget_state import RUN

# Both import torch: only when there is a run's model to look inside.
checkpoint, network = lazy_module("playground.checkpoint"), lazy_module("playground.network")


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
    model = inside_model(run.config, snap.weights)
    if model is None or not network.is_mlp(model):
        st.caption("The diagram shows small fully connected networks (up to 50,000 weights).")
        return snap.active
    dataset = server.cached_dataset(run.config.dataset)
    outputs = dataset.class_names if len(dataset.class_names) == plan_for(run.config).output_shape[0] else ("y",)
    st.plotly_chart(network.network_figure(network.diagram(model), plotly_literals(dataset.feature_names),
                                           plotly_literals(outputs)),
                    key="pg_network", width="stretch", config={"displayModeBar": False})
    st.caption("Blue edges: positive weights, orange: negative; thicker means larger.")
    maps = network.neuron_maps(model, frames.axis_ranges(dataset)) if dataset.n_features == 2 else None
    if maps is not None and maps.layers:
        st.plotly_chart(network.neuron_figure(maps), key="pg_neurons", width="stretch",
                        config={"displayModeBar": False})
        st.caption("What each hidden neuron outputs over the input plane (blue: positive, orange: negative).")
    return snap.active


def inside_model(config: TrainConfig, weights: dict | None):
    """The run's model with its latest `weights`, or None (no weights yet, or they do not fit)."""
    if weights is None:
        return None
    try:
        return checkpoint.model_for_state(config, weights)
    except checkpoint.CheckpointError:
        return None
