"""The Playground's own data: upload a CSV file, then pick its label column, feature columns and task.

An upload is stored on the server under its content id (`tabular.save_upload`), which the config
names; the name this session uploaded it under stays with this session. Uploads per minute are
limited per session. Knows nothing about training: a bad table leaves its reason in
`pg_csv_error` (the upload) or `pg_data_error` (reading it back) for the page to show.
"""
from __future__ import annotations

import math
import time

import streamlit as st

from .. import tabular
from ..tasks import TASKS
from ..text import markdown_literal


def table_section() -> dict:
    """Upload a CSV, then pick its label and feature columns and the task (detected, can be changed)."""
    st.file_uploader("CSV file", type=["csv", "txt", "tsv"], key="pg_csv_upload", on_change=store_upload,
                     help=f"a table with a header row, up to {tabular.MAX_BYTES // 2**20} MB")
    if st.session_state.get("pg_csv_error"):
        st.error(markdown_literal(st.session_state["pg_csv_error"]), icon="🚫")
    file = st.session_state.get("pg_csv_file")
    table = read_stored_table(file) if file else None
    if table is None:  # no file yet, or one that cannot be read any more (read_stored_table said why)
        if not st.session_state.get("pg_data_error"):
            st.session_state["pg_data_prompt"] = "Upload a CSV file to train on it: the label and feature " \
                                                 "columns are picked next."
        return {}
    st.caption(f"**{markdown_literal(table.name)}**: {table.rows:,} rows, {len(table.columns)} columns.")
    st.session_state.setdefault("pg_csv_label", table.columns[-1])
    if st.session_state["pg_csv_label"] not in table.columns:
        st.session_state["pg_csv_label"] = table.columns[-1]
    label = st.selectbox("Label column (what to predict)", table.columns, key="pg_csv_label", on_change=label_changed)
    options = [c for c in table.columns if c != label]
    st.session_state["pg_csv_features"] = [c for c in st.session_state.get("pg_csv_features", options) if c in options]
    features = st.multiselect("Feature columns (the inputs)", options, key="pg_csv_features")
    guess = tabular.guess_task(table, label)
    st.session_state.setdefault("pg_csv_task", guess)
    task = st.radio("Task", TASKS, key="pg_csv_task", horizontal=True,
                    format_func=lambda t: f"{t} (detected)" if t == guess else t)
    return {"file": file, "label": label, "features": list(features), "task": task}


def store_upload() -> None:
    """Keep an uploaded CSV on the server under its content id; the config names the table by that id.

    The name this session uploaded it under stays with this session (a classmate's upload of the same
    bytes under another name changes nothing for either); uploads per minute are limited per session."""
    upload = st.session_state.get("pg_csv_upload")
    st.session_state["pg_csv_error"] = None
    if upload is None:
        return
    data = upload.getvalue()
    try:
        upload_allowed(len(data))
        file = tabular.save_upload(data, upload.name)
    except tabular.TableError as error:
        previous = read_stored_table(st.session_state.get("pg_csv_file"))
        still = f" The page still uses {previous.name}." if previous is not None else ""
        st.session_state["pg_csv_error"] = f"{upload.name} was not loaded: {error.message.rstrip('.')}.{still}"
        return
    st.session_state.setdefault("pg_csv_names", {})[file] = upload.name
    st.session_state["pg_csv_file"] = file
    table = read_stored_table(file)
    if table is None:
        return
    st.session_state["pg_csv_label"] = table.columns[-1]
    label_changed()


def upload_allowed(size: int) -> None:
    """Count an upload of `size` bytes against this session's rate; TableError saying when to try again."""
    limit, log, now = tabular.upload_rate(), st.session_state.setdefault("pg_upload_log", []), time.time()
    wait = limit.wait(log, size, now)
    if wait > 0:
        raise tabular.TableError(f"this page uploaded {len(log)} files ({sum(b for _, b in log) / 2**20:.1f} MB) "
                                 f"in the last minute, the most allowed is {limit.count} files or "
                                 f"{limit.size / 2**20:.0f} MB; try again in {math.ceil(wait)} seconds")
    limit.record(log, size, now)


def label_changed() -> None:
    """A new label column: the other numeric columns become the features, and the task is detected again."""
    table = read_stored_table(st.session_state.get("pg_csv_file"))
    if table is None:
        return
    label = st.session_state["pg_csv_label"]
    st.session_state["pg_csv_features"] = list(tabular.default_features(table, label))
    st.session_state["pg_csv_task"] = tabular.guess_task(table, label)


def read_stored_table(file: str | None):
    """The stored table `file`, shown under the name this session uploaded it as (if it did); None when
    there is none or it cannot be read (the reason goes to the page)."""
    try:
        name = st.session_state.get("pg_csv_names", {}).get(file)
        return tabular.load_upload(file, name=name) if file else None
    except tabular.TableError as error:
        st.session_state["pg_data_error"] = f"The table could not be read: {error.message}"
        return None
