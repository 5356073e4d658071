"""Placeholder of the Class page's panel `class_join` (being built on its own branch)."""
from __future__ import annotations

import streamlit as st


def join_or_start() -> None:
    st.caption("(class_join.join_or_start is being built)")


def teacher_header(code: str, secret: str) -> None:
    st.caption("(class_join.teacher_header is being built)")


def members(code: str, secret: str) -> None:
    st.caption("(class_join.members is being built)")


def student_header(member) -> None:
    st.caption("(class_join.student_header is being built)")
