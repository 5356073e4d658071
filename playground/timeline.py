"""A run's timeline: the boundary (or fitted curve) at a bounded set of epochs, kept for replay.

`keep_epochs(total)` decides which epochs keep a frame: every one of a short run, else epoch 0, the
last epoch and up to MAX_FRAMES in all, half spaced on a log scale (the boundary changes most early
on) and half evenly. A `TimelineRecorder` (owned by a runner, under its lock) collects the frames of
those epochs plus the one a run ends at, and hands out a frozen `Timeline` that is rebuilt only when
a frame was added, so a snapshot taken many times a second shares it instead of copying frames.
Each frame is a few uint8 grids (~20 kB for a 100x100 boundary): a timeline stays under ~2.5 MB.
Knows nothing about torch, training, storage, Streamlit or plotting.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from .frames import CONFIDENCE_LEVELS, BoundaryFrame, CurveFrame

MAX_FRAMES = 120  # most frames a timeline keeps, the end of a stopped run included
KEPT_KINDS = (BoundaryFrame, CurveFrame)  # image frames are not kept: an image run's timeline is its curves


def keep_epochs(total: int, most: int = MAX_FRAMES) -> tuple[int, ...]:
    """The epochs, 0..total, whose frame a run of `total` epochs keeps: sorted, 0 and `total` included,
    at most `most - 1` of them (room for the epoch a stopped run ends at)."""
    total, budget = max(int(total), 0), max(int(most) - 1, 2)
    if total + 1 <= budget:
        return tuple(range(total + 1))
    even = set(np.linspace(0, total, budget // 2).round().astype(int).tolist())
    kept = even
    for count in range(budget - len(even), total + 1):  # log-spaced points crowd together early: add until full
        log = set(np.geomspace(1, total, count).round().astype(int).tolist())
        if len(even | log) > budget:
            break
        kept = even | log
    return tuple(sorted(kept | {0, total}))


@dataclass(frozen=True)
class Timeline:
    """Frames at increasing epochs (BoundaryFrame or CurveFrame, one kind per run); empty when none."""

    frames: tuple = ()

    @property
    def epochs(self) -> tuple[int, ...]:
        return tuple(frame.epoch for frame in self.frames)

    @property
    def final(self):
        """The last frame kept, or None."""
        return self.frames[-1] if self.frames else None

    def at(self, epoch: int):
        """The frame of the latest kept epoch at or before `epoch` (the first frame before any); None if empty."""
        if not self.frames:
            return None
        index = bisect.bisect_right(self.epochs, epoch) - 1
        return self.frames[max(index, 0)]

    def since(self, count: int) -> tuple:
        """The frames after the first `count` (what a relay has not sent yet)."""
        return self.frames[count:]

    def extended(self, frames) -> Timeline:
        """This timeline with `frames` appended (frames at epochs already kept are dropped)."""
        last = self.frames[-1].epoch if self.frames else -1
        new = []
        for frame in frames:
            if frame.epoch > last:
                new.append(frame)
                last = frame.epoch
        return Timeline(self.frames + tuple(new)) if new else self

    def __len__(self) -> int:
        return len(self.frames)


def boundary_codes(frames) -> np.ndarray:
    """(N, G, G) uint8 of BoundaryFrames: class * CONFIDENCE_LEVELS + confidence per cell, the heatmap's z
    that `plots.boundary_figure` draws (a player sends these, ~10 kB a frame, and keeps the points)."""
    if not frames:
        return np.zeros((0, 0, 0), np.uint8)
    return np.stack([f.classes * CONFIDENCE_LEVELS + f.confidence for f in frames]).astype(np.uint8)


class TimelineRecorder:
    """Collects a run's kept frames. Not thread-safe: its owner guards it (the runner, under its lock)."""

    def __init__(self, total_epochs: int = 0, enabled: bool = True, most: int = MAX_FRAMES):
        self._wanted = frozenset(keep_epochs(total_epochs, most)) if enabled else frozenset()
        self._most = most
        self._timeline = Timeline()

    def wants(self, epoch: int) -> bool:
        """Whether `epoch` is on the schedule and has no frame yet (a frame costs a grid prediction)."""
        return epoch in self._wanted and self.frame_at(epoch) is None

    def frame_at(self, epoch: int):
        """The frame kept at exactly `epoch`, or None."""
        final = self._timeline.final
        return final if final is not None and final.epoch == epoch else None

    def add(self, frame, final: bool = False) -> None:
        """Keep `frame` if its epoch is on the schedule, or with `final` (the epoch a run ended at)."""
        if not isinstance(frame, KEPT_KINDS) or not self._wanted:
            return
        if (frame.epoch in self._wanted or final) and len(self._timeline) < self._most:
            self._timeline = self._timeline.extended((frame,))

    def timeline(self) -> Timeline:
        """The frames kept so far: the same object until a frame is added."""
        return self._timeline
