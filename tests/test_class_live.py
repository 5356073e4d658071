"""class_live: each member's latest run per class, ended runs kept light, bounded."""
from __future__ import annotations

import numpy as np

from playground import class_live
from playground.class_live import ClassLive, EndedRun
from playground.config import TrainConfig
from playground.frames import BoundaryFrame
from playground.progress import COMPLETED, RUNNING, History, Snapshot
from playground.timeline import Timeline


class Handle:
    """A run's handle: active until `end()`, with a timeline of frames and weights while it has them."""

    def __init__(self, frames: int = 3):
        cells = np.linspace(-1, 1, 50, dtype=np.float32)
        self.frame = BoundaryFrame(frames, cells, cells, np.zeros((50, 50), np.uint8), np.zeros((50, 50), np.uint8))
        timeline = Timeline().extended(tuple(BoundaryFrame(e, cells, cells, self.frame.classes, self.frame.confidence)
                                             for e in range(1, frames + 1)))
        self.config, self.active, self.touches = TrainConfig(), True, 0
        self.snap = Snapshot(RUNNING, frames, 10, 0.01, 5.0, history=History(epochs=(1, 2, 3)), frame=self.frame,
                             weights={"w": np.ones(3)}, timeline=timeline)

    def end(self) -> None:
        self.active, self.snap = False, Snapshot(COMPLETED, 10, 10, 0.01, 5.0, history=self.snap.history,
                                                 frame=self.frame, final={"test_accuracy": 0.9},
                                                 weights=self.snap.weights, timeline=self.snap.timeline)

    def snapshot(self, touch: bool = True) -> Snapshot:
        self.touches += int(touch)
        return self.snap


def test_a_members_new_run_replaces_their_previous_one_and_classes_are_apart():
    live, first, second, other = ClassLive(), Handle(), Handle(), Handle()
    live.report("ABCDEF", 1, first, {"epochs": 1})
    live.report("ABCDEF", 1, second, {"epochs": 2}, handout=7)
    live.report("GHJKLM", 1, other, {})
    runs = live.runs("ABCDEF")
    assert list(runs) == [1] and runs[1].handle is second and runs[1].handout == 7
    assert live.runs("GHJKLM")[1].handle is other and live.runs("NOPE23") == {}


def test_an_ended_run_is_kept_light_with_its_final_snapshot_and_config():
    live, handle = ClassLive(), Handle()
    live.report("ABCDEF", 4, handle, {})
    assert len(handle.snap.timeline) == 3
    assert live.runs("ABCDEF")[4].handle is handle  # still training: the handle itself
    handle.end()
    kept = live.runs("ABCDEF")[4].handle
    assert isinstance(kept, EndedRun) and not kept.active and kept.config == handle.config
    snap = kept.snapshot(touch=False)
    assert snap.status == COMPLETED and snap.final == {"test_accuracy": 0.9} and snap.frame is handle.frame
    assert snap.history == handle.snap.history and snap.weights is None and len(snap.timeline) == 0
    assert handle.touches == 0  # settling never touches the run (its idle watchdog is the student's)


def test_a_report_settles_every_class_now_and_then(monkeypatch):
    live, ended, fresh = ClassLive(), Handle(), Handle()
    live.report("ABCDEF", 1, ended, {})
    ended.end()
    monkeypatch.setattr(class_live.time, "monotonic", lambda: 10**6)  # SETTLE_SECONDS have passed
    live.report("GHJKLM", 2, fresh, {})
    assert isinstance(live._classes["ABCDEF"][1].handle, EndedRun)
    assert live._classes["GHJKLM"][2].handle is fresh


def test_the_registry_is_bounded(monkeypatch):
    monkeypatch.setattr(class_live, "MAX_MEMBERS_KEPT", 3)
    monkeypatch.setattr(class_live, "MAX_CLASSES_KEPT", 2)
    live = ClassLive()
    for member in range(5):
        live.report("ABCDEF", member, Handle(), {})
    assert list(live.runs("ABCDEF")) == [2, 3, 4]
    live.report("GHJKLM", 1, Handle(), {})
    live.report("NPQRST", 1, Handle(), {})
    assert live.runs("ABCDEF") == {} and list(live.runs("NPQRST")) == [1]
    live.forget("NPQRST", 1)
    live.forget("GHJKLM")
    assert live.runs("NPQRST") == {} and live.runs("GHJKLM") == {}
