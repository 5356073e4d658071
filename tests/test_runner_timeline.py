"""A TrainingRunner keeps its timeline: a frame at every scheduled epoch and where it ended, shared by snapshots."""
import pickle
import time

import numpy as np

from playground.frames import BoundaryFrame, CurveFrame
from playground.progress import COMPLETED, STOPPED
from playground.timeline import keep_epochs

SPIRAL = {"dataset": {"name": "spiral", "classes": 3, "n_per_class": 20, "noise": 0.2, "seed": 1},
          "layers": [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}],
          "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 300, "seed": 1, "device": "cpu"}
SINE = {"dataset": {"name": "sine", "n_samples": 40}, "layers": [{"type": "linear", "out": 8}, {"type": "tanh"},
        {"type": "linear"}], "loss": "mse", "epochs": 30, "seed": 1, "device": "cpu"}
DIGITS = {"dataset": {"name": "digits", "train_images": 64, "test_images": 32},
          "layers": [{"type": "flatten"}, {"type": "linear"}], "batch_size": 32, "epochs": 3, "seed": 1,
          "device": "cpu"}


def test_a_watched_run_keeps_a_boundary_at_every_scheduled_epoch(launch):
    runner = launch(SPIRAL, pace="watch")
    runner.join(timeout=120)
    snap = runner.snapshot()
    assert snap.status == COMPLETED
    assert snap.timeline.epochs == keep_epochs(300)  # 0 (untrained) to 300, log-spaced then regular
    assert all(isinstance(frame, BoundaryFrame) and frame.classes.dtype == np.uint8 for frame in snap.timeline.frames)
    assert snap.timeline.final.epoch == snap.epoch == snap.frame.epoch == 300
    assert not np.array_equal(snap.timeline.frames[0].classes, snap.timeline.final.classes)  # it learned
    assert pickle.loads(pickle.dumps(snap)).timeline.epochs == snap.timeline.epochs


def test_a_fast_run_keeps_its_first_and_last_boundary_and_scheduled_ones_between(launch):
    runner = launch({**SPIRAL, "epochs": 1000})  # the fast pace: frames take at most a share of its time
    runner.join(timeout=120)
    epochs = runner.snapshot().timeline.epochs
    assert epochs[0] == 0 and epochs[-1] == 1000 and len(epochs) >= 3
    assert set(epochs) <= set(keep_epochs(1000))


def test_snapshots_share_the_timeline_until_a_frame_is_added(launch):
    runner = launch(SPIRAL)
    runner.join(timeout=120)
    assert runner.snapshot().timeline is runner.snapshot().timeline


def test_a_stopped_run_ends_its_timeline_where_it_stopped(launch):
    runner = launch({**SPIRAL, "epochs": 100_000}, pace="watch")
    deadline = time.monotonic() + 60
    while runner.snapshot().epoch < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    runner.stop()
    runner.join(timeout=30)
    snap = runner.snapshot()
    assert snap.status == STOPPED
    assert snap.timeline.final.epoch == snap.epoch
    assert set(snap.timeline.epochs[:-1]) <= set(keep_epochs(100_000))


def test_a_regression_run_keeps_its_fitted_curves(launch):
    runner = launch(SINE, pace="watch")
    runner.join(timeout=60)
    timeline = runner.snapshot().timeline
    assert timeline.epochs == tuple(range(31)) and all(isinstance(f, CurveFrame) for f in timeline.frames)


def test_an_image_run_keeps_no_frames_only_its_curves(launch):
    runner = launch(DIGITS)
    runner.join(timeout=120)
    snap = runner.snapshot()
    assert snap.status == COMPLETED and len(snap.history.epochs) == 3
    assert len(snap.timeline) == 0
