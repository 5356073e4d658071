"""The Data section's offer to download a dataset this machine does not have yet (CIFAR-10: 163 MB).

A page never downloads in its script run (it would hang there for minutes): the section says the data is
not here yet and offers a button; the download runs on a server thread (`dataset_download`, one for all
sessions) while a fragment shows how far it got every second, and reruns the page once it is done. Until
then the plan says why Train waits (`pg_data_prompt`).
"""
from __future__ import annotations

import streamlit as st

from .. import dataset_download
from ..datasets import DATASETS

POLL_SECONDS = 1.0
SIZES = {"cifar10": "163 MB"}  # what each download weighs, for the offer


def offer(name: str) -> None:
    """Say that `name` is not here yet; offer its download, or show the one under way."""
    title, size = DATASETS[name].title, SIZES.get(name, "")
    job = dataset_download.job(name)
    if job is None or job.error is not None:
        if job is not None:
            st.error(f"The download did not work: {job.error}", icon="🚫")
        st.info(f"{title} is not on this server yet. Download it once ({size}); it is kept for every later run.",
                icon=":material/download:")
        if st.button(f"Download {title} ({size})", key="pg_data_download", icon=":material/download:"):
            dataset_download.start(name)
            st.rerun()
    else:
        st.fragment(_progress, run_every=POLL_SECONDS)(name)
    st.session_state["pg_data_prompt"] = (f"{title} is not here yet: download it in the Data section "
                                          f"({size}); Train is ready once it is.")


def _progress(name: str) -> None:
    """How far the download got; once it is done, the whole page reruns (and reads the images)."""
    job = dataset_download.job(name)
    if job is None or job.done:
        st.rerun()
    st.info(f"{job.text} (you can keep working; Train is ready once it is here).", icon=":material/hourglass_top:")
