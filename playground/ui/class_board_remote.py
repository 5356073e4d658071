"""A run another server of the school trains, opened large on the class board: attached on the training cluster.

Where the run's published record names it (`board_publish.Remote`) and this server's training backend can
`attach` (Ray), the run is read through the server's `Attachments` (one per server, a few runs, kept while
the board reads them) and drawn as a local run is (`class_board_detail`: curves, boundary, changes); the
snapshot is taken with `touch=False`, and an attached run takes no commands, so looking never keeps it
alive or changes it. Without a ref, a backend that cannot attach, a config this server cannot read, or a
run that cannot be attached or read (gone from the cluster): the tile's numbers, with a plain note.
Knows nothing about Ray, the grid or the class store.
"""
from __future__ import annotations

from typing import Callable

import streamlit as st

from ..board import Tile
from ..board_attach import Attachments, Seen
from ..class_live import LiveRun
from ..config import TrainConfig
from ..progress import Snapshot
from . import class_board_detail, server

CANNOT_ATTACH = ("This run trains on another server of the school and cannot be read from here just now "
                 "(it may have ended there): its numbers are above, its curves on the student's page.")


@st.cache_resource
def attachments() -> Attachments:
    """This server's attached runs (every teacher's board shares them: they are read-only)."""
    return Attachments()


def detail(published, tile: Tile, on_back: Callable[[], None]) -> None:
    """`published` (a `board_publish.Published`) large: attached with its curves, else its numbers and a note."""
    run, note = remote_run(published, tile.member)
    class_board_detail.detail(run, tile, on_back, note)


def remote_run(published, member: int) -> tuple[LiveRun | None, str]:
    """(the run as the large view reads a local one, "") or (None, why only its numbers show)."""
    remote, attach = published.remote, getattr(server.training_pool(), "attach", None)
    if remote is None or attach is None:
        return None, class_board_detail.ELSEWHERE
    config = _config(remote.config)
    snap = None if config is None else attachments().snapshot(attach, remote.ref)
    if not isinstance(snap, Snapshot) or not snap.active and not snap.history.epochs:
        return None, CANNOT_ATTACH  # a run gone before it was read has nothing to draw
    return LiveRun(member, Seen(snap, config), remote.config, None, published.started), ""


def _config(data: dict) -> TrainConfig | None:
    try:
        return TrainConfig.from_dict(data)
    except (ValueError, TypeError, KeyError):  # ConfigError is a ValueError
        return None
