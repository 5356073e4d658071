"""The teacher's class board: every student's current run as a tile in one live grid, for the projector.

`board(code, secret)` polls (`session.live`) about once a second while any run of the class is active,
every IDLE_SECONDS otherwise (so a run a student starts shows up), and draws the grid as ONE block of
HTML (`board_html`: every student's text escaped) from `board.tiles`, which reads the runs without
touching them (the board watching never keeps a student's abandoned run alive). Above it: the sort
order (`cl_board_sort`) and a picker (`cl_board_pick`) that opens one run large (`class_board_detail`)
instead of the grid, until "Back to the class". Behind a load balancer (a shared store), a student's run on
another replica comes from the tiles that replica publishes (`board_publish`, `class_session.published`);
opened large, such a run is attached on the training cluster where its record names it
(`class_board_remote`), else it shows its tile's numbers. Knows nothing about training or figures.
"""
from __future__ import annotations

import logging

import streamlit as st

from .. import board_html
from ..board import NOT_STARTED, sort_tiles, tiles
from ..board_publish import merge
from ..runstore import RunStoreError
from ..text import markdown_literal
from . import class_board_detail, class_board_remote, class_session, session
from .tile_grid import tile_grid

log = logging.getLogger(__name__)
SORT_LABELS = {"accuracy": "Accuracy", "loss": "Loss", "parameters": "Parameters", "name": "Name"}
ACTIVE_SECONDS = 1.0  # refresh while a run of the class is active
IDLE_SECONDS = 5.0  # refresh while none is: a run a student starts appears within this time
OPEN_KEY = "cl_board_open"  # session state: the member id whose run is shown large (None: the grid)
PICK_KEY = "cl_board_pick"
SORTED_KEY = "cl_board_sorted"  # session state: the sort order last chosen
GRID_KEY = "cl_board_grid"  # the grid itself: a click on a tile opens that run


def board(code: str, secret: str) -> None:
    """The live grid of the class `code` (the page shows it to its teacher only)."""
    local = class_session.live().runs(code).values()
    active = (any(run.handle.active for run in local)
              or any(p.tile.active for p in class_session.published(code).values()))
    session.live(lambda: render(code, active), active=True, every=ACTIVE_SECONDS if active else IDLE_SECONDS)


def render(code: str, was_active: bool) -> bool:
    """One refresh: the opened run large, else the grid. False when whether a run is active changed
    since the page's run (then the page reruns and polls at the other pace)."""
    runs = class_session.live().runs(code)
    board_tiles, elsewhere = read_tiles(code, runs)
    opened = st.session_state.get(OPEN_KEY)
    shown = next((t for t in board_tiles if t.member == opened and t.status != NOT_STARTED), None)
    if shown is not None and opened in elsewhere:
        class_board_remote.detail(elsewhere[opened], shown, on_back=close)
    elif shown is not None:
        class_board_detail.detail(runs.get(opened), shown, on_back=close)
    else:
        grid(board_tiles)
    return any(t.active for t in board_tiles) == was_active


def read_tiles(code: str, runs: dict) -> tuple[list, dict]:
    """The class's tiles, in the members' order: this server's runs, and a newer run a student trains on
    another server (`class_session.published`); with what was published of the members whose tile came from
    elsewhere (member id -> `board_publish.Published`). None, with a warning, when the class store cannot be read."""
    store = class_session.store()
    try:
        members = store.members(code)
    except RunStoreError as error:
        log.warning("the class store cannot be read: %s", error)
        st.warning(markdown_literal(f"The class list cannot be read just now: {error}"))
        return [], {}
    local = tiles(runs, members, lambda handout_id: _handout(store, code, handout_id))
    published = class_session.published(code, {m.id: m.name for m in members})
    if not published:
        return local, {}
    merged = merge(local, {member: run.started for member, run in runs.items()}, published)
    return merged, {new.member: published[new.member] for new, old in zip(merged, local) if new is not old}


def grid(board_tiles: list) -> None:
    """The sort order and the picker above the grid of tiles."""
    left, right = st.columns([3, 2], vertical_alignment="center")
    by = left.segmented_control("Sort by", list(SORT_LABELS), format_func=SORT_LABELS.get,
                                default=st.session_state.get(SORTED_KEY, "accuracy"), key="cl_board_sort") or "accuracy"
    st.session_state[SORTED_KEY] = by  # kept while a run is open (the control is not drawn then)
    names = {t.member: t.name for t in board_tiles if t.status != NOT_STARTED}
    right.selectbox("Show one run large", list(names), index=None, format_func=lambda m: names.get(m, str(m)),
                    key=PICK_KEY, placeholder="Show one student's run large…", on_change=_open)
    tile_grid(board_html.grid(sort_tiles(board_tiles, by)), GRID_KEY, show_large)
    training = sum(t.active for t in board_tiles)
    st.caption(f"{training} of {len(board_tiles)} students training · click a tile to see that run large · "
               "refreshes every second while a run is active")


def show_large(member: int) -> None:
    """Open member `member`'s run instead of the grid (a click on its tile)."""
    st.session_state[OPEN_KEY] = member


def _open() -> None:
    st.session_state[OPEN_KEY] = st.session_state.get(PICK_KEY)
    st.session_state[PICK_KEY] = None


def close() -> None:
    """Back to the grid."""
    st.session_state[OPEN_KEY] = None


def _handout(store, code: str, handout_id: int):
    try:
        return store.handout_by_id(code, handout_id)
    except RunStoreError as error:
        log.warning("the class store cannot be read: %s", error)
        return None
