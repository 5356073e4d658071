"""A pooled run's timeline: the worker relays only the frames not sent yet, the server puts it back together."""
import pickle

import numpy as np

from playground.config import TrainConfig
from playground.frames import BoundaryFrame
from playground.pool import TrainingPool, _PoolJob
from playground.progress import COMPLETED, RaceSnapshot, Snapshot
from playground.runner import TrainingRunner
from playground.timeline import Timeline, keep_epochs
from playground.worker import relayed as _relayed

SPIRAL = TrainConfig.from_dict({
    "dataset": {"name": "spiral", "classes": 3, "n_per_class": 20, "noise": 0.2, "seed": 1},
    "layers": [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}],
    "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 200, "seed": 1})


def frame(epoch: int) -> BoundaryFrame:
    axis = np.linspace(-1, 1, 100, dtype=np.float32)
    grid = np.full((100, 100), epoch % 3, np.uint8)
    return BoundaryFrame(epoch, axis, axis, grid, grid)


def test_a_relayed_snapshot_carries_only_the_new_frames():
    snap = Snapshot("running", 40, 100, 0.01, 0.0, timeline=Timeline(tuple(frame(e) for e in range(40))))
    stripped, new = _relayed(snap, sent_frames=39)
    assert len(stripped.timeline) == 0 and [f.epoch for f in new] == [39]
    assert len(pickle.dumps((stripped, new))) < len(pickle.dumps(snap)) / 20
    race = RaceSnapshot("running", 1, 2, ())
    assert _relayed(race, 0) == (race, ())


def test_the_server_side_puts_the_relayed_frames_back_together():
    job = _PoolJob.__new__(_PoolJob)
    job._timeline = Timeline()
    base = Snapshot("running", 0, 100, 0.01, 0.0)
    first = job._with_timeline(base, (frame(0), frame(1)))
    again = job._with_timeline(base, ())
    later = job._with_timeline(base, (frame(2),))
    assert first.timeline.epochs == (0, 1) and again.timeline is first.timeline
    assert later.timeline.epochs == (0, 1, 2)


def test_a_pooled_run_ends_with_the_same_timeline_as_in_process():
    pool = TrainingPool(1)
    try:
        saved = []
        run = pool.run(SPIRAL, on_end=saved.append, pace="watch").start()
        run.join(120)
        snap = run.snapshot()
    finally:
        pool.close()
    local = TrainingRunner(SPIRAL, pace="watch").start()
    local.join(120)
    assert snap.status == COMPLETED and snap.timeline.epochs == keep_epochs(200)
    assert saved[0].timeline.epochs == snap.timeline.epochs  # what on_end saves has it all
    for ours, theirs in zip(snap.timeline.frames, local.snapshot().timeline.frames):
        assert np.array_equal(ours.classes, theirs.classes)
