"""The Playground's Model column: the model as a row of layer chips, like TF Playground's row of layers.

Input → one chip per layer ("Linear 100", "ReLU", "Conv 8·3x3") → Output, with a "+" between chips that
inserts a layer at that place (the "+" between two Linear layers is marked: they collapse into one linear
map). One click on a chip opens its editor: type, parameters, a one-click swap between the common
activations, move and remove. "Add layer" puts a new layer where it belongs (an activation before the
output layer, a recurrent layer where the features become flat); the presets load whole stacks. A
popover's widgets are drawn only while it is open (`lazy_blocks`): a page run while a class trains
draws a row of buttons, not every layer's editor (closed, a layer reads its values from session
state: `current_spec`).

The layers live in session state (`pg_layers`, each with an id its widgets are keyed by); callbacks
name layers by id and skip repeated callbacks of what cannot be repeated safely (see
`session.repeated`). Returns the layer specs as a config holds them. Knows the layer registry, not
whether the stack fits the data: that is `plan_panel`'s.
"""
from __future__ import annotations

import streamlit as st

from ..datasets import DATASETS
from ..layers import LAYERS, RECURRENT_LAYERS
from ..presets import presets_for
from . import session
from .layer_form import current_spec, layer_editor, set_params
from .lazy_blocks import lazy_popover
from .link import link_config, shown
from .widget_state import set_layers, use_preset

OUTPUT, END = "output", "end"  # where "Add layer" puts a layer (besides after layer k, a 1-based int)
PLACE_NAMES = {OUTPUT: "before the output layer", END: "at the end"}
GO_LAST = ("softmax", "log_softmax")  # turn the output into probabilities: their place is after it
SHORT_NAMES = {"conv2d": "Conv", "maxpool2d": "MaxPool", "avgpool2d": "AvgPool", "residual": "ResBlock",
               "batchnorm1d": "BatchNorm", "leaky_relu": "LeakyReLU"}  # a chip's name, where shorter than the title
# A chip's key parameter, by layer type, from the layer's spec (types not named here show none)
KEY_PARAMS = {
    "linear": lambda s: str(s.get("out") or "auto"),
    "conv2d": lambda s: f"{s['out']}·{s['kernel']}x{s['kernel']}",
    "maxpool2d": lambda s: f"{s['kernel']}x{s['kernel']}",
    "avgpool2d": lambda s: f"{s['kernel']}x{s['kernel']}",
    "residual": lambda s: str(s.get("out") or "same") + ("/2" if s.get("stride") == 2 else ""),
    "dropout": lambda s: f"{s['p']:g}",
    "dropout2d": lambda s: f"{s['p']:g}",
    "leaky_relu": lambda s: f"{s['negative_slope']:g}",
    "elu": lambda s: f"{s['alpha']:g}",
    **dict.fromkeys(RECURRENT_LAYERS, lambda s: f"{s['hidden']}" + (f"×{s['layers']}" if s["layers"] > 1 else "")
                    + ("·bi" if s["bidirectional"] else "")),
}
INSERTS = "pg_inserts"  # session state: inserts made so far (each renews the "+"s' choice widgets)
COLLAPSE_TIP = "Two Linear layers in a row collapse into one linear map: insert an activation (e.g. ReLU) here."


def natural_place(kind: str) -> str:
    """Where a new layer of this kind goes unless told otherwise: activations, dropout and norms before the
    output layer (after it they would change the output), anything else at the end."""
    return OUTPUT if (LAYERS[kind].elementwise or kind in RECURRENT_LAYERS) and kind not in GO_LAST else END


def insert_index(types: list[str], place: str | int, new: str = "") -> int:
    """The index a new layer of type `new` takes: before the last Linear (the output layer; none: at the end;
    an image layer such as Dropout2d goes before the Flatten instead), at the end, or after layer `place`."""
    if place == OUTPUT and new.endswith("2d") and "flatten" in types:
        return types.index("flatten")
    if place == OUTPUT and new in RECURRENT_LAYERS:  # where the features become flat: it outputs flat features
        return next((i for i, kind in enumerate(types) if kind in ("flatten", "linear")), len(types))
    if place == OUTPUT:
        return max((i for i, kind in enumerate(types) if kind == "linear"), default=len(types))
    return len(types) if place == END else min(place, len(types))


def stack_specs() -> list[dict]:
    return [{k: v for k, v in layer.items() if k != "id"} for layer in st.session_state["pg_layers"]]


def add_layer() -> None:
    if session.repeated("add layer"):
        return
    specs, kind = stack_specs(), st.session_state["pg_add_type"]
    at = insert_index([spec["type"] for spec in specs], st.session_state.get("pg_add_at", END), kind)
    set_layers([*specs[:at], {"type": kind}, *specs[at:]])


def insert_at(slot: int, version: int) -> None:
    """A "+" between chips: the chosen layer type goes in at that place (0: first).

    Each insert renews every "+"'s choice widget (`INSERTS`: a new key), so a change the browser sends
    again for the old widget (under load its reply can cross the reset) is not taken as a second insert."""
    kind = st.session_state.get(f"pg_ins_{slot}_{version}")
    if kind is None or version != st.session_state.get(INSERTS, 0):
        return
    st.session_state[INSERTS] = version + 1  # the "+"s show no choice afterwards: new widgets
    specs = stack_specs()
    set_layers([*specs[:slot], {"type": kind}, *specs[slot:]])


def follow_type() -> None:
    """A new choice of layer type moves the insert position to that type's natural place."""
    st.session_state["pg_add_at"] = natural_place(st.session_state["pg_add_type"])


def layer_stack(is_image: bool) -> list[dict]:
    """The Model column's editor; returns the layer specs it shows (a teacher's link may fix them)."""
    st.subheader("Model")
    if not shown("model"):
        st.caption("🔒 The layers are set by the link; the table below shows them.")
        return [dict(spec) for spec in link_config().layers]
    specs = chip_row(st.session_state["pg_layers"])
    with st.container(horizontal=True, gap="small", key="pg_model_actions"):
        add_controls(len(specs))
        preset_buttons(is_image)
    return specs


def chip_row(layers: list[dict]) -> list[dict]:
    """Input → a chip per layer, a "+" before each and at the end → Output; returns the layers' specs."""
    shown_specs = [current_spec(layer) for layer in layers]
    types = [spec["type"] for spec in shown_specs]
    specs = []
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key="pg_chips"):
        st.markdown(":gray[**Input**]")
        for position, layer in enumerate(layers):
            insert_slot(position, collapses=0 < position and types[position - 1] == types[position] == "linear")
            specs.append(chip(position, layer, shown_specs[position], len(layers)))
        insert_slot(len(layers), collapses=False)
        st.markdown(":gray[**Output**]")
    return specs


def chip_label(spec: dict) -> str:
    """A chip's text: the layer's name and its key parameter, e.g. "Linear 100", "Conv 8·3x3", "ReLU"."""
    kind = spec["type"]
    name = SHORT_NAMES.get(kind, LAYERS[kind].title)
    return f"{name} {KEY_PARAMS[kind](spec)}" if kind in KEY_PARAMS else name


def insert_slot(slot: int, collapses: bool) -> None:
    """A "+" that inserts a layer at `slot`; marked where the layers either side collapse into one map."""
    tip = COLLAPSE_TIP if collapses else "insert a layer here"
    box = lazy_popover("", f"pg_insert_{slot}", icon=":material/warning:" if collapses else ":material/add:",
                       help=tip, type="primary" if collapses else "tertiary")
    if not box.open:
        return
    with box:
        if collapses:
            st.caption(COLLAPSE_TIP)
        version = st.session_state.get(INSERTS, 0)
        st.pills(f"Insert a layer at place {slot + 1}", list(LAYERS), format_func=lambda n: LAYERS[n].title,
                 key=f"pg_ins_{slot}_{version}", on_change=insert_at, args=(slot, version))


def chip(position: int, layer: dict, spec: dict, count: int) -> dict:
    """One layer's chip; a click opens its editor (type, parameters, swap, move, remove)."""
    tip = f"Layer {position + 1}: {LAYERS[spec['type']].description} Click to edit, move or remove."
    box = lazy_popover(chip_label(spec), f"pg_chip_{layer['id']}", help=tip)
    if not box.open:
        return set_params(spec)
    with box:
        return layer_editor(position, layer, count)


def add_controls(count: int) -> None:
    """The new layer's type, where it goes (its natural place unless chosen) and the Add button, folded away."""
    box = lazy_popover("Add layer", "pg_add_popover", icon=":material/add:")
    if not box.open:
        return
    with box:
        st.selectbox("New layer", list(LAYERS), format_func=lambda n: LAYERS[n].title, key="pg_add_type",
                     on_change=follow_type)
        places = [OUTPUT, END, *range(1, count + 1)]
        if st.session_state.get("pg_add_at") not in places:
            st.session_state["pg_add_at"] = natural_place(st.session_state.get("pg_add_type", next(iter(LAYERS))))
        st.selectbox("Insert", places, key="pg_add_at", format_func=lambda p: PLACE_NAMES.get(p, f"after layer {p}"),
                     help="where the new layer goes; an activation belongs between two Linear layers")
        st.button("Add layer", icon=":material/add:", on_click=add_layer, width="stretch", key="pg_add_layer")


def preset_buttons(is_image: bool) -> None:
    channels = DATASETS[st.session_state.get("pg_dataset") or next(iter(DATASETS))].input_shape[0]
    for preset in presets_for(is_image, channels).values():
        st.button(preset.title, on_click=use_preset, args=(preset,), key=f"pg_preset_{preset.title}",
                  help=preset.tip)

