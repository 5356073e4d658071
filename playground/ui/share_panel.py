"""Handing the Playground's setup on: a link to it (teacher mode can hide controls from students),
and the setup as a standalone PyTorch script with its data as CSV.

Only a setup that can train is shared or exported. The link format is `share`'s and the script
`export`'s; knows nothing about runs (`files_panel` downloads a trained model).
"""
from __future__ import annotations

import streamlit as st

from .. import export, share, tabular
from ..config import TrainConfig
from . import server
from .lazy_blocks import lazy_expander


def share_panel(config: TrainConfig | None) -> None:
    """The link to this setup; in teacher mode the link can hide chosen controls from students."""
    with st.expander("Share a link to this setup", icon=":material/link:", key="pg_share_panel"):
        if config is None:
            st.caption("Fix the settings problem first: only a setup that can train is shared.")
            return
        teacher = st.toggle("Teacher mode: hide controls from students who open the link", key="pg_teacher")
        hidden = st.multiselect("Hide", list(share.HIDEABLE), format_func=share.HIDEABLE.get, key="pg_share_hide",
                                disabled=not teacher) if teacher else []
        address = share.link(st.context.url or "http://localhost:8501/Playground", config, hidden,
                             st.session_state.get("pg_lesson", ""))
        st.code(address, language=None, wrap_lines=True)
        st.caption("The link holds the whole setup, seeds included: whoever opens it gets the same data, the "
                   "same starting weights and the same run." + (" Hidden controls keep the link's values." if
                                                                 hidden else ""))


def export_panel(config: TrainConfig | None) -> None:
    """The setup as a standalone PyTorch script, and the data as CSV."""
    box = lazy_expander("Export as a PyTorch script, and the data as CSV", "pg_export_panel", icon=":material/code:")
    if not box.open:  # the script is written only for a person who looks
        return
    with box:
        if config is None:
            st.caption("Fix the settings problem first: only a setup that can train is exported.")
            return
        if export.export_problem(config):
            st.info(f"Not exported: {export.export_problem(config)}.", icon=":material/lock:")
            return
        script = export.export_script(config)
        st.download_button("Download the script", script, export.script_name(config), "text/x-python",
                           key="pg_download_script", icon=":material/download:")
        st.code(script, language="python", line_numbers=True, height=360)
        data_download(config)


def data_download(config: TrainConfig) -> None:
    if config.dataset.table is not None:
        st.download_button("Download the table (data.csv, for the script's --csv)",
                           lambda: table_download(config.dataset.table.file), "data.csv", "text/csv",
                           key="pg_download_table")
        return
    dataset = server.cached_dataset(config.dataset)
    if dataset.is_image and len(dataset.y_train) + len(dataset.y_test) > tabular.MAX_IMAGE_ROWS:
        st.caption(f"Image data downloads as CSV up to {tabular.MAX_IMAGE_ROWS:,} images: set Train images "
                   "and Test images lower to download them.")
        return
    st.download_button("Download the data as CSV", lambda: tabular.dataset_csv(dataset),
                       f"{config.dataset.name}.csv", "text/csv", key="pg_download_data",
                       help="every point with its label and whether it is a training or a test point")


def table_download(file: str) -> bytes:
    """The table for download (formulas made harmless); a table gone since the page showed it gives a file
    saying so, since a click on a download cannot show a message on the page."""
    try:
        return tabular.table_bytes(file)
    except tabular.TableError as error:
        return f"The table could not be downloaded: {error.message}.\n".encode()
