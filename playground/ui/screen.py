"""The Playground's one-screen style: the page's only CSS, so that at 1280x720 the run buttons, the speed and
learning rate, the status line, the boundary and both curves fit without scrolling.

It trims Streamlit's padding and gaps, shrinks the page title and the live metrics, keeps every run
button's label whole, and makes the Model column's layer chips and their "+" compact. It knows the keys
of the containers it styles (`pg_run_row`, `pg_live`, `pg_chips`, `pg_model_actions`), nothing about what
is in them; the layout itself (what goes where) is the page's and the panels'.
"""
from __future__ import annotations

import streamlit as st

LR_WIDTH = 210  # px: the learning rate's slider, on the run buttons' row at 1280 px
CSS = """
<style>
[data-testid="stMainBlockContainer"] {padding-top: 4rem; padding-bottom: 2rem;
  padding-left: 1.5rem; padding-right: 1.5rem;}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {gap: 0.55rem;}
[data-testid="stMainBlockContainer"] h1 {font-size: 1.6rem; padding: 0; line-height: 1.2;}
[data-testid="stMainBlockContainer"] [data-testid="stHeading"]:has(h1) [data-testid="stMarkdownContainer"]
  {margin-bottom: 0;}
.st-key-pg_run_row button {white-space: nowrap; min-width: max-content; padding-left: 0.6rem; padding-right: 0.6rem;}
.st-key-pg_live [data-testid="stMetric"] {padding: 0;}
.st-key-pg_live [data-testid="stMetricValue"] {font-size: 1.35rem; line-height: 1.5rem;}
.st-key-pg_live [data-testid="stMetricLabel"] p {font-size: 0.85rem;}
.st-key-pg_lesson_box {padding: 0.3rem 0.8rem; gap: 0.1rem;}
.st-key-pg_lesson_box [data-testid="stVerticalBlock"] {gap: 0.1rem;}
.st-key-pg_lesson_box p {font-size: 0.92rem; line-height: 1.35;}
.st-key-pg_lesson_box button {min-height: 2rem; padding-top: 0.1rem; padding-bottom: 0.1rem;}
.st-key-pg_chips {gap: 0.2rem 0.25rem; align-items: center;}
.st-key-pg_chips [data-testid="stPopoverButton"] {min-height: 2.1rem; padding: 0.1rem 0.6rem; white-space: nowrap;}
.st-key-pg_chips [data-testid="stPopoverButton"] div[aria-hidden="true"] {display: none;}
.st-key-pg_chips [data-testid="stPopoverButton"][kind="tertiary"] {padding: 0.1rem 0.15rem; color: #6b6b6b;}
.st-key-pg_chips [data-testid="stPopoverButton"][kind="primary"] {padding: 0.1rem 0.35rem;}
.st-key-pg_chips [data-testid="stMarkdownContainer"] p {margin: 0; line-height: 2.1rem;}
.st-key-pg_model_actions {gap: 0.4rem;}
.st-key-pg_model_actions button {min-height: 2.1rem; padding: 0.1rem 0.6rem;}
</style>
"""


def style() -> None:
    """Put the page's CSS on the page (an invisible element)."""
    st.html(CSS)
