"""Uploaded checkpoints: read a `.pt` from a file uploader into a model, or say why not.

Knows the uploader's session-state keys it is given, not which page it is on.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from ..lazy import lazy_module

if TYPE_CHECKING:
    from ..checkpoint import LoadedModel

checkpoint = lazy_module("playground.checkpoint")  # imports torch: only when a file was uploaded


def uploaded_checkpoint(upload_key: str, error_key: str) -> LoadedModel | None:
    """The model in the file uploader `upload_key`, or None.

    A file that cannot be loaded leaves its reason in session state under `error_key`, for the
    page to show; the key is cleared on every new upload.
    """
    upload = st.session_state.get(upload_key)
    st.session_state[error_key] = None
    if upload is None:
        return None
    try:
        return checkpoint.load_checkpoint(upload.getvalue())
    except checkpoint.CheckpointError as error:
        st.session_state[error_key] = f"That model was not loaded: {error}"
        return None
