"""A finished run kept for comparison: its config, final picture and final numbers, frozen.

`pin` builds a `Pinned` from a run's last `Snapshot` so a page can show it beside the next run
("linear ≈ 50%, add ReLU ≈ 95%"). The record holds no model and no run handle, only the small frame
(a 100x100 uint8 grid) and a few numbers, so a server with many sessions can keep one each.
Knows nothing about torch, training, Streamlit or plotting.
"""
from __future__ import annotations

from dataclasses import dataclass

from .compare import describe_layers
from .config import TrainConfig
from .frames import Frame, ImageFrame
from .progress import Snapshot
from .tasks import CLASSIFICATION


@dataclass(frozen=True)
class Pinned:
    """A finished run as it ended: enough to redraw its boundary (or curve) and state its result."""

    config: TrainConfig
    status: str  # completed, stopped or diverged
    epoch: int  # epochs it trained
    frame: Frame | None  # its final boundary or fitted curve; None for images (no picture to pin)
    loss: float | None  # final test loss (train loss when the data has no test split)
    score: float | None  # final test accuracy or R² (train's when no test split)
    score_name: str  # "accuracy" or "R²"

    @property
    def model(self) -> str:
        """The layer stack in one line, e.g. "Linear 100 · ReLU · Linear"."""
        return describe_layers(self.config.layers)

    def is_of(self, snap: Snapshot, config: TrainConfig) -> bool:
        """Whether this record was made from that run (same setup, ended at the same epoch)."""
        return config == self.config and snap.epoch == self.epoch and snap.status == self.status


def pin(snap: Snapshot, config: TrainConfig, task: str) -> Pinned:
    """The record of an ended run from its final snapshot (`task`: its dataset's task)."""
    key, name = ("accuracy", "accuracy") if task == CLASSIFICATION else ("r2", "R²")
    final, history = snap.final or {}, snap.history
    loss = _first(final.get("test_loss"), final.get("train_loss"), _last(history.test_loss),
                  _last(history.train_loss))
    score = _first(final.get(f"test_{key}"), final.get(f"train_{key}"), _last(history.test_score),
                   _last(history.train_score))
    frame = None if isinstance(snap.frame, ImageFrame) else snap.frame
    return Pinned(config, snap.status, snap.epoch, frame, loss, score, name)


def _first(*values):
    return next((value for value in values if value is not None), None)


def _last(values):
    return values[-1] if values else None
