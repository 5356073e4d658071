"""The Playground's Model column: the layer rows (type, parameters, move up/down, remove, a one-click
swap between the common activations), adding a layer where it belongs, and the preset buttons.

The rows live in session state (`pg_layers`, each with an id its widgets are keyed by); callbacks
name layers by id and skip repeated callbacks of what cannot be repeated safely (see
`session.repeated`). Returns the layer specs as a config holds them. Knows the layer registry, not
whether the stack fits the data: that is `plan_panel`'s.
"""
from __future__ import annotations

import streamlit as st

from ..layers import LAYERS
from ..presets import presets_for
from . import session
from .link import link_config, shown
from .widget_state import set_layers, use_preset

PARAM_LABELS = {("linear", "out"): "Output size", ("conv2d", "out"): "Out channels",
                ("residual", "out"): "Out channels"}
SWAPS = ("relu", "tanh", "sigmoid", "gelu")  # an activation row of one of these swaps to another in one click
OUTPUT, END = "output", "end"  # where "Add layer" puts a layer (besides after layer k, a 1-based int)
PLACE_NAMES = {OUTPUT: "before the output layer", END: "at the end"}
GO_LAST = ("softmax", "log_softmax")  # turn the output into probabilities: their place is after it


def move_layer(layer_id: int, offset: int) -> None:
    layers = st.session_state["pg_layers"]
    position = next((i for i, layer in enumerate(layers) if layer["id"] == layer_id), None)
    if position is None or not 0 <= position + offset < len(layers) or session.repeated(f"move {layer_id}"):
        return
    layers[position], layers[position + offset] = layers[position + offset], layers[position]


def remove_layer(layer_id: int) -> None:
    st.session_state["pg_layers"] = [layer for layer in st.session_state["pg_layers"] if layer["id"] != layer_id]


def natural_place(kind: str) -> str:
    """Where a new layer of this kind goes unless told otherwise: activations, dropout and norms before the
    output layer (after it they would change the output), anything else at the end."""
    return OUTPUT if LAYERS[kind].elementwise and kind not in GO_LAST else END


def insert_index(types: list[str], place: str | int, new: str = "") -> int:
    """The index a new layer of type `new` takes: before the last Linear (the output layer; none: at the end;
    an image layer such as Dropout2d goes before the Flatten instead), at the end, or after layer `place`."""
    if place == OUTPUT and new.endswith("2d") and "flatten" in types:
        return types.index("flatten")
    if place == OUTPUT:
        return max((i for i, kind in enumerate(types) if kind == "linear"), default=len(types))
    return len(types) if place == END else min(place, len(types))


def add_layer() -> None:
    if session.repeated("add layer"):
        return
    specs = [{k: v for k, v in layer.items() if k != "id"} for layer in st.session_state["pg_layers"]]
    kind = st.session_state["pg_add_type"]
    at = insert_index([spec["type"] for spec in specs], st.session_state.get("pg_add_at", END), kind)
    set_layers([*specs[:at], {"type": kind}, *specs[at:]])


def follow_type() -> None:
    """A new choice of layer type moves the insert position to that type's natural place."""
    st.session_state["pg_add_at"] = natural_place(st.session_state["pg_add_type"])


def swap_activation(layer_id: int) -> None:
    """One click on an activation row's swap control makes the row that activation."""
    chosen = st.session_state.get(f"pg_l{layer_id}_swap")
    if chosen is not None:  # clicking the shown one again deselects it: nothing to swap
        st.session_state[f"pg_l{layer_id}_type"] = chosen


def layer_stack(is_image: bool) -> list[dict]:
    """The Model column's editor; returns the layer specs it shows (a teacher's link may fix them)."""
    st.subheader("Model")
    if not shown("model"):
        st.caption("🔒 The layers are set by the link; the table below shows them.")
        return [dict(spec) for spec in link_config().layers]
    layers = st.session_state["pg_layers"]
    specs = [layer_row(i, layer, len(layers)) for i, layer in enumerate(layers)]
    add_controls(len(layers))
    preset_buttons(is_image)
    return specs


def add_controls(count: int) -> None:
    """The new layer's type, where it goes (its natural place unless chosen) and the Add button."""
    add_type, add_at, add_button = st.columns([3, 3, 2], vertical_alignment="bottom")
    add_type.selectbox("New layer", list(LAYERS), format_func=lambda n: LAYERS[n].title, key="pg_add_type",
                       on_change=follow_type)
    places = [OUTPUT, END, *range(1, count + 1)]
    if st.session_state.get("pg_add_at") not in places:
        st.session_state["pg_add_at"] = natural_place(st.session_state.get("pg_add_type", next(iter(LAYERS))))
    add_at.selectbox("Insert", places, key="pg_add_at", format_func=lambda p: PLACE_NAMES.get(p, f"after layer {p}"),
                     help="where the new layer goes; an activation belongs between two Linear layers")
    add_button.button("Add layer", icon=":material/add:", on_click=add_layer, width="stretch", key="pg_add_layer")


def preset_buttons(is_image: bool) -> None:
    presets = list(presets_for(is_image).values())
    per_row = 2 if is_image else 3  # image preset names are longer
    for start in range(0, len(presets), per_row):
        for col, preset in zip(st.columns(per_row), presets[start:start + per_row]):
            col.button(preset.title, on_click=use_preset, args=(preset,), width="stretch",
                       key=f"pg_preset_{preset.title}", help=preset.tip)


def layer_row(position: int, layer: dict, count: int) -> dict:
    """Widgets for one layer: type, first parameter and buttons; further parameters on a line below."""
    cols = st.columns([3, 3, 1, 1, 1], vertical_alignment="bottom")
    type_key = f"pg_l{layer['id']}_type"
    st.session_state.setdefault(type_key, layer["type"])
    kind = cols[0].selectbox(f"Layer {position + 1}", list(LAYERS), format_func=lambda n: LAYERS[n].title,
                             key=type_key)
    layer["type"], spec = kind, {"type": kind}
    params = [p for p in LAYERS[kind].params if p.name != "in"]
    if kind in SWAPS:  # these have no parameters: the swap control goes on the line below, where it fits
        swap_control(st, layer["id"], kind)
    below = st.columns(len(params) - 1) if len(params) > 1 else []
    for column, param in zip([cols[1], *below], params):
        layer[param.name] = spec[param.name] = param_input(column, layer, kind, param)
    key = f"pg_l{layer['id']}"
    cols[2].button("", icon=":material/arrow_upward:", key=f"{key}_up", on_click=move_layer,
                   args=(layer["id"], -1), disabled=position == 0, help="move up")
    cols[3].button("", icon=":material/arrow_downward:", key=f"{key}_down", on_click=move_layer,
                   args=(layer["id"], 1), disabled=position == count - 1, help="move down")
    cols[4].button("", icon=":material/close:", key=f"{key}_remove", on_click=remove_layer, args=(layer["id"],),
                   help="remove")
    return {k: v for k, v in spec.items() if v is not None}


def swap_control(column, layer_id: int, kind: str) -> None:
    st.session_state[f"pg_l{layer_id}_swap"] = kind
    column.segmented_control("Swap to", SWAPS, format_func=lambda n: LAYERS[n].title, key=f"pg_l{layer_id}_swap",
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
