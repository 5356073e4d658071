"""The class board's grid as one block of HTML: a tile per student, sized for a 1280x720 projector.

`grid(tiles)` writes a CSS grid (about six tiles a row) where each tile shows the student's name, the
test score in large type, status and epoch, test loss and parameters, what they changed against the
hand-out, the score's sparkline (inline SVG) and, for 2-D data, the boundary thumbnail (the tile's PNG
data URI). Every text that comes from a student (names, and anything from a config: layer and table
names) goes through `html.escape`, names are isolated from the text around them (`<bdi>`), and
every line is cut to its box, so no input can add markup or break the layout.
Knows nothing about Streamlit or runs: it draws `board.Tile`s.
"""
from __future__ import annotations

import functools
from html import escape
from typing import Sequence

from .board import NOT_STARTED, Tile
from .progress import COMPLETED, DIVERGED, FAILED, PAUSED, QUEUED, RUNNING, STOPPED

SPARK_W, SPARK_H = 48, 24  # px of a tile's sparkline
STATUS_COLOURS = {RUNNING: "#1c6fd1", QUEUED: "#7b4fc9", PAUSED: "#c77700", COMPLETED: "#1f8a3b",
                  STOPPED: "#666666", DIVERGED: "#c62828", FAILED: "#c62828", NOT_STARTED: "#9a9a9a"}
CSS = """<style>
.clb-grid {display: grid; grid-template-columns: repeat(auto-fill, minmax(188px, 1fr)); gap: 8px;
  font-family: "Source Sans", "Source Sans Pro", sans-serif;}
.clb-tile {border: 1px solid #d8d8d8; border-radius: 8px; padding: 6px 8px; background: #fff; min-width: 0;
  display: grid; grid-template-columns: auto 1fr; column-gap: 8px; row-gap: 2px; overflow: hidden;}
.clb-tile.clb-idle {background: #f6f6f6; color: #777;}
.clb-open {cursor: pointer;}
.clb-open:hover, .clb-open:focus {border-color: #1c6fd1; outline: none; box-shadow: 0 0 0 2px #1c6fd133;}
.clb-pic {grid-row: span 3; width: 56px; height: 56px; border-radius: 4px; image-rendering: pixelated;
  background: #eee;}
.clb-name, .clb-line, .clb-changes, .clb-sizes {white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  min-width: 0;}
.clb-name {font-weight: 700; font-size: 1.05rem; unicode-bidi: isolate;}
.clb-score {font-size: 1.9rem; font-weight: 700; line-height: 1.9rem; font-variant-numeric: tabular-nums;
  display: flex; align-items: flex-end; justify-content: space-between; gap: 4px;}
.clb-score small {font-size: 0.8rem; font-weight: 400; color: #666;}
.clb-line {font-size: 0.85rem; color: #444; font-variant-numeric: tabular-nums;}
.clb-status {font-weight: 700;}
.clb-changes {grid-column: 1 / -1; font-size: 0.9rem; color: #222;}
.clb-sizes {grid-column: 1 / -1; font-size: 0.8rem; color: #555; font-variant-numeric: tabular-nums;}
.clb-spark {flex: 0 1 48px; height: 24px; width: 48px; min-width: 24px;}
.clb-empty {font-size: 1.2rem; color: #666; padding: 1rem 0;}
.clb-head, .clb-more {font-family: "Source Sans", "Source Sans Pro", sans-serif;}
.clb-head {display: flex; gap: 1.5rem; align-items: baseline; flex-wrap: wrap; font-family: "Source Sans", sans-serif;}
.clb-head .clb-name {font-size: 2rem; max-width: 40rem;}
.clb-head .clb-score {font-size: 2.6rem; line-height: 2.6rem;}
.clb-head .clb-line {font-size: 1.1rem;}
.clb-list {margin: 0.3rem 0 0 1.2rem; padding: 0; font-size: 1.05rem;}
</style>"""


def grid(tiles: Sequence[Tile]) -> str:
    """The whole board: the style, then one tile per entry of `tiles`, in their order."""
    if not tiles:
        return CSS + '<div class="clb-empty">No students yet: they join with the code above.</div>'
    return CSS + '<div class="clb-grid">' + "".join(tile_html(t) for t in tiles) + "</div>"


def tile_html(t: Tile) -> str:
    """One tile: picture, name, score and its sparkline, status and epoch; what changed; loss and parameters.
    Every student-supplied text escaped."""
    idle = " clb-idle" if t.status == NOT_STARTED else ""
    colour = STATUS_COLOURS.get(t.status, "#666666")
    progress = f" {t.epoch}/{t.epochs}" if t.status != NOT_STARTED else ""
    changes = "has not trained yet" if t.status == NOT_STARTED else t.change_text
    # a click (or Enter) on a started run's tile shows it large (ui/tile_grid)
    opens = "" if idle else f' clb-open" data-member="{int(t.member)}" role="button" tabindex="0'
    return (f'<div class="clb-tile{idle}{opens}" title="{escape(t.name)}: {escape(changes)}">'
            f'{picture(t)}'
            f'<div class="clb-name"><bdi>{escape(t.name)}</bdi></div>'
            f'<div class="clb-score"><span>{score_text(t)}</span>{spark_svg(t.sparkline, t.score_name)}</div>'
            f'<div class="clb-line"><span class="clb-status" style="color:{colour}">{escape(t.status)}</span>'
            f'{progress}</div>'
            f'<div class="clb-changes">{escape(changes)}</div>'
            f'<div class="clb-sizes">{escape(sizes(t))}</div></div>')


def score_text(t: Tile) -> str:
    """The big number: accuracy as a percentage, R² with two decimals, a dash before the first evaluation."""
    if t.score is None:
        return "–"
    if t.score_name == "accuracy":
        return f"{100 * t.score:.1f}<small>%</small>"
    return f"{t.score:.2f}<small> R²</small>"


def sizes(t: Tile) -> str:
    """The small numbers: test loss and parameters."""
    if t.status == NOT_STARTED:
        return ""
    loss = "loss –" if t.loss is None else f"loss {t.loss:.3g}"
    return loss + ("" if t.parameters is None else f" · {t.parameters:,} params")


def details(t: Tile) -> str:
    """The opened run's small line: loss, parameters, what changed."""
    if t.status == NOT_STARTED:
        return "has not trained yet"
    return f"{sizes(t)} · {t.change_text}"


def picture(t: Tile) -> str:
    """The boundary thumbnail (a data URI the board made), or an empty square."""
    if t.thumbnail is None or not t.thumbnail.startswith("data:image/png;base64,"):
        return '<div class="clb-pic"></div>'
    return f'<img class="clb-pic" alt="" src="{escape(t.thumbnail)}">'


@functools.lru_cache(maxsize=512)
def spark_svg(values: tuple[float, ...], score_name: str = "accuracy") -> str:
    """The score curve as a line in an SVG (accuracy 0 to 1 bottom to top; R² clipped to 0..1); kept per curve."""
    if len(values) < 2:
        return f'<svg class="clb-spark" viewBox="0 0 {SPARK_W} {SPARK_H}"></svg>'
    step = SPARK_W / (len(values) - 1)
    points = " ".join(f"{i * step:.1f},{SPARK_H - 1 - (SPARK_H - 2) * min(max(v, 0.0), 1.0):.1f}"
                      for i, v in enumerate(values))
    return (f'<svg class="clb-spark" viewBox="0 0 {SPARK_W} {SPARK_H}" preserveAspectRatio="none">'
            f'<polyline fill="none" stroke="#1c6fd1" stroke-width="1.5" vector-effect="non-scaling-stroke" '
            f'points="{points}"/></svg>')


def heading(t: Tile) -> str:
    """The opened run's name, score, status and sizes in large type."""
    return (f'{CSS}<div class="clb-head"><div class="clb-name"><bdi>{escape(t.name)}</bdi></div>'
            f'<div class="clb-score">{score_text(t)}</div><div class="clb-line">'
            f'<span class="clb-status" style="color:{STATUS_COLOURS.get(t.status, "#666666")}">{escape(t.status)}'
            f'</span> · epoch {t.epoch:,}/{t.epochs:,} · {escape(details(t))}</div></div>')


def change_list(t: Tile) -> str:
    """Every change against the hand-out, one a line (or why there is none)."""
    if not t.changes:
        return f'{CSS}<div class="clb-more clb-line">Setup: {escape(t.change_text)}</div>'
    items = "".join(f"<li>{escape(change)}</li>" for change in t.changes)
    return (f'{CSS}<div class="clb-more"><div class="clb-line">Changed against the hand-out:</div>'
            f'<ul class="clb-list">{items}</ul></div>')
