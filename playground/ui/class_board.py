"""Placeholder of the Class page's panel `class_board` (being built on its own branch)."""
from __future__ import annotations

import streamlit as st


def board(code: str, secret: str) -> None:
    st.caption("(class_board.board is being built)")
