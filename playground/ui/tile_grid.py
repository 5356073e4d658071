"""The board's grid in the browser: one block of HTML whose tiles open a run when clicked.

`tile_grid(html, key, on_open)` mounts a small Components v2 module (no iframe) that puts `html` (built
and escaped by `board_html`) on the page, only when it changed, and reports a click, or Enter/Space, on
a tile carrying `data-member` as the trigger value "open" (that member id); `on_open(member)` is then
called before the rerun. The HTML is the server's own; the module never reads anything else from the
page. Knows nothing about tiles or runs.
"""
from __future__ import annotations

import functools
from typing import Callable

import streamlit as st

# The grid lives in a wrapper element of the component's (shadow) root; a click on a tile sends its member id.
_GRID_JS = """
export default function ({ data, parentElement, setTriggerValue }) {
  let root = parentElement.querySelector(".clb-root");
  if (!root) {
    root = document.createElement("div");
    root.className = "clb-root";
    parentElement.appendChild(root);
    const open = (event) => {
      const tile = event.target.closest("[data-member]");
      if (tile) setTriggerValue("open", Number(tile.dataset.member));
    };
    root.addEventListener("click", open);
    root.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); open(event); }
    });
  }
  if (root.dataset.shown !== data.version) {
    root.innerHTML = data.html;
    root.dataset.shown = data.version;
  }
}
"""


@functools.cache
def _component():
    """The grid module, declared once per process on first use."""
    return st.components.v2.component("neural_playground_tile_grid", js=_GRID_JS)


def tile_grid(html: str, key: str, on_open: Callable[[int], None]) -> None:
    """Show `html`; a click on one of its `data-member` tiles calls `on_open(member id)`."""
    def opened() -> None:
        member = getattr(st.session_state.get(key), "open", None)
        if isinstance(member, (int, float)) and not isinstance(member, bool):
            on_open(int(member))

    version = str(hash(html))
    _component()(data={"html": html, "version": version}, key=key, on_open_change=opened)
