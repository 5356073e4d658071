"""Placeholder of the Class page's panel `class_digits_panel` (being built on its own branch)."""
from __future__ import annotations

import streamlit as st


def teacher(code: str, secret: str) -> None:
    st.caption("(class_digits_panel.teacher is being built)")


def student(member) -> None:
    st.caption("(class_digits_panel.student is being built)")
