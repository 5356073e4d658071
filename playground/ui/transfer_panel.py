"""The Playground's transfer learning (sidebar): which saved model a run starts from, and how many of
its first layers stay frozen; and, under the layer table, what the start keeps and replaces.

A start is an id (`transfer`): the Draw page's MNIST model, torchvision's ResNet-18, an uploaded `.pt`
or this session's finished run, the last two stored on the server under their content's hash (never
a path). Returns the config keys it shows ("start_from", "freeze"). Knows the widget keys `pg_start`,
`pg_freeze`, `pg_start_upload`; the stored files are `transfer`'s, the upload rate `table_panel`'s.
"""
from __future__ import annotations

import streamlit as st

from .. import transfer
from ..lazy import lazy_module
from ..model import ModelPlan
from ..tabular import TableError
from ..text import markdown_literal
from . import session
from .lazy_blocks import lazy_expander
from .link import link_config, shown
from .table_panel import upload_allowed
from .widget_state import RUN

checkpoint = lazy_module("playground.checkpoint")  # imports torch: only when a run's weights are kept

FRESH = ""  # the choice "fresh weights": no start_from
BUILT_IN = {FRESH: "Fresh weights (no start)", transfer.DEFAULT_MNIST: "The Draw page's MNIST CNN",
            "torchvision:resnet18": "ResNet-18, ImageNet weights (colour images; downloads once)"}
NAMES = "pg_start_names"  # plain state: {id: label} of the starts this session stored
ERROR = "pg_start_error"


def transfer_section() -> dict:
    """The Start from control, its upload and the freeze count (drawn while the section is open; its title
    says the choice while folded); returns {"start_from", "freeze"} when set."""
    if not shown("model"):  # a teacher's link hides the model: the link's start and freeze hold
        config = link_config()
        return {**({"start_from": config.start_from} if config.start_from else {}),
                **({"freeze": config.freeze} if config.freeze else {})}
    names = {**BUILT_IN, **st.session_state.get(NAMES, {})}
    start, freeze = st.session_state.get("pg_start", FRESH), st.session_state.get("pg_freeze", 0)
    if start not in names:  # from a link or a loaded config: an id this session did not store
        names[start] = f"Saved model {start}"
    box = lazy_expander(_title(names[start], freeze), "pg_start_box", icon=":material/input:")
    if box.open:
        with box:
            start, freeze = _controls(names, start)
    return {**({"start_from": start} if start else {}), **({"freeze": int(freeze)} if freeze else {})}


def _controls(names: dict, start: str) -> tuple[str, int]:
    st.session_state.setdefault("pg_start", start)
    start = st.selectbox("Start from", list(names), format_func=names.get, key="pg_start", persist_state="page",
                         help="layers whose weights fit the new model keep them; the last Linear gets "
                              "fresh weights when the classes differ")
    st.file_uploader("Upload a model (.pt) to start from", type=["pt"], key="pg_start_upload", on_change=keep_upload)
    run = session.run_handle(RUN)
    if run is not None and getattr(run, "engine", None) is not None and not run.active:
        st.button("Start from the finished run", key="pg_start_run", on_click=keep_run, args=(run,))
    if st.session_state.get(ERROR):
        st.error(markdown_literal(st.session_state[ERROR]), icon="🚫")
    if transfer.STORE_ID.fullmatch(start) or start == transfer.DEFAULT_MNIST:  # read only when clicked
        st.download_button("Download the start (.pt)", lambda: transfer.start_bytes(start) or b"", "start.pt",
                           key="pg_start_download", help="an exported script reads it as --start start.pt")
    st.session_state.setdefault("pg_freeze", 0)
    freeze = st.number_input("Freeze the first N layers", 0, 64, step=1, key="pg_freeze", persist_state="page",
                             help="their weights do not learn (requires_grad=False): train only the rest")
    return start, freeze


def _title(start: str, freeze: int) -> str:
    """The section's label says the choice while it is folded: "Start from · The Draw page's MNIST CNN · 4 frozen"."""
    if not start or start == BUILT_IN[FRESH]:
        return "Start from a saved model · fresh weights" + (f" · {freeze} frozen" if freeze else "")
    return f"Start from · {start.split(' (')[0].split(',')[0]}" + (f" · {freeze} frozen" if freeze else "")


def keep_upload() -> None:
    """Store the uploaded .pt (counted against the page's upload rate, as tables are) and choose it."""
    upload = st.session_state.get("pg_start_upload")
    if upload is not None:
        _keep(lambda: _allowed(upload.getvalue()), "upload", upload.name, f'uploaded "{upload.name[:80]}"')


def _allowed(data: bytes) -> bytes:
    try:
        upload_allowed(len(data))
    except TableError as error:
        raise transfer.TransferError(error.message) from None
    return data


def keep_run(run) -> None:
    engine = run.engine
    _keep(lambda: checkpoint.checkpoint_bytes(run.config, engine.model, engine.dataset.class_names),
          "run", f"{run.config.dataset.name} run", "This session's finished run")


def _keep(data, kind: str, name: str, label: str) -> None:
    """Store the model (`data()` gives its bytes) and choose it; a file that is no model leaves its reason."""
    st.session_state[ERROR] = None
    try:
        start_id = transfer.save_start(data(), kind, name)
    except (transfer.TransferError, ValueError) as error:
        st.session_state[ERROR] = f"That model cannot be a start: {error}"
        return
    st.session_state[NAMES] = {**st.session_state.get(NAMES, {}), start_id: label}
    st.session_state["pg_start"] = start_id


def start_note(config, plan: ModelPlan) -> None:
    """Under the layer table: what the start keeps and replaces, or why it cannot be used."""
    if config is None or not config.start_from:
        return
    try:
        st.caption(markdown_literal(transfer.preview(config, plan).text(plan)))
    except transfer.TransferError as error:
        st.error(markdown_literal(f"Start from — {error}"), icon="🚫")
