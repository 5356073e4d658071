"""Uploaded checkpoints: read a `.pt` from a file uploader into a model, or say why not.

Knows the uploader's session-state keys it is given, not which page it is on.
"""
from __future__ import annotations

import streamlit as st

from ..checkpoint import CheckpointError, LoadedModel, load_checkpoint


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
        return load_checkpoint(upload.getvalue())
    except CheckpointError as error:
        st.session_state[error_key] = f"That model was not loaded: {error}"
        return None
