"""One layer's editor, as a chip of the Model row opens it: its type (and a one-click swap between the common
activations), its parameters, move and remove; and the layer as its widgets hold it now (`current_spec`).

Widgets are keyed by the layer's id (`pg_l{id}_...`); the callbacks name layers by id and skip repeated
callbacks of what cannot be repeated safely (`session.repeated`). Knows the layer registry, not the row.
"""
from __future__ import annotations

import streamlit as st

from ..layers import LAYERS
from . import session

PARAM_LABELS = {("linear", "out"): "Output size", ("conv2d", "out"): "Out channels",
                ("residual", "out"): "Out channels"}
SWAPS = ("relu", "tanh", "sigmoid", "gelu")  # an activation of one of these swaps to another in one click


def move_layer(layer_id: int, offset: int) -> None:
    layers = st.session_state["pg_layers"]
    position = next((i for i, layer in enumerate(layers) if layer["id"] == layer_id), None)
    if position is None or not 0 <= position + offset < len(layers) or session.repeated(f"move {layer_id}"):
        return
    layers[position], layers[position + offset] = layers[position + offset], layers[position]


def remove_layer(layer_id: int) -> None:
    st.session_state["pg_layers"] = [layer for layer in st.session_state["pg_layers"] if layer["id"] != layer_id]


def swap_activation(layer_id: int) -> None:
    """One click on an activation's swap control makes the layer that activation."""
    chosen = st.session_state.get(f"pg_l{layer_id}_swap")
    if chosen is not None:  # clicking the shown one again deselects it: nothing to swap
        st.session_state[f"pg_l{layer_id}_type"] = chosen


def current_spec(layer: dict) -> dict:
    """The layer as its widgets hold it now (their session state, set to the layer's values on first show)."""
    type_key = f"pg_l{layer['id']}_type"
    kind = st.session_state.setdefault(type_key, layer["type"])
    spec = {"type": kind}
    for param in editable_params(kind):
        key = f"pg_l{layer['id']}_{kind}_{param.name}"
        spec[param.name] = st.session_state.setdefault(key, layer.get(param.name, param.default))
    return spec


def editable_params(kind: str) -> list:
    return [p for p in LAYERS[kind].params if p.name != "in"]


def layer_editor(position: int, layer: dict, count: int) -> dict:
    """Widgets for one layer: its type (and the swap between activations), its parameters, move and remove."""
    kind = st.selectbox(f"Layer {position + 1}", list(LAYERS), format_func=lambda n: LAYERS[n].title,
                        key=f"pg_l{layer['id']}_type")
    layer["type"], spec = kind, {"type": kind}
    if kind in SWAPS:
        swap_control(layer["id"], kind)
    params = editable_params(kind)
    for column, param in zip(st.columns(len(params)) if params else [], params):
        layer[param.name] = spec[param.name] = param_input(column, layer, kind, param)
    move_buttons(position, layer["id"], count)
    return set_params(spec)


def set_params(spec: dict) -> dict:
    """A layer spec without the parameters left unset ("auto"), as a config holds it."""
    return {k: v for k, v in spec.items() if v is not None}


def move_buttons(position: int, layer_id: int, count: int) -> None:
    key = f"pg_l{layer_id}"
    with st.container(horizontal=True, gap="small"):
        st.button("Earlier", icon=":material/arrow_back:", key=f"{key}_up", on_click=move_layer,
                  args=(layer_id, -1), disabled=position == 0, help="move one place towards the input")
        st.button("Later", icon=":material/arrow_forward:", key=f"{key}_down", on_click=move_layer,
                  args=(layer_id, 1), disabled=position == count - 1, help="move one place towards the output")
        st.button("Remove", icon=":material/close:", key=f"{key}_remove", on_click=remove_layer, args=(layer_id,))


def swap_control(layer_id: int, kind: str) -> None:
    st.session_state[f"pg_l{layer_id}_swap"] = kind
    st.segmented_control("Swap to", SWAPS, format_func=lambda n: LAYERS[n].title, key=f"pg_l{layer_id}_swap",
                         on_change=swap_activation, args=(layer_id,), label_visibility="collapsed",
                         help="swap this activation for another in one click")


def param_input(column, layer: dict, kind: str, param):
    """One number input for a layer parameter; optional ones (default None) may be left empty ("auto")."""
    key = f"pg_l{layer['id']}_{kind}_{param.name}"
    label = PARAM_LABELS.get((kind, param.name), param.name.replace("_", " ").capitalize())
    st.session_state.setdefault(key, layer.get(param.name, param.default))
    whole = param.kind is int
    low, high = (int(param.low), int(param.high)) if whole else (param.low, param.high)
    return column.number_input(label, low, high, step=1 if whole else 0.01, key=key, help=param.help,
                               **({"value": None, "placeholder": "auto"} if param.default is None else {}))
