"""A pinned run: a frozen record of a finished run's setup, final picture and final numbers, no model."""
import dataclasses

import numpy as np

from playground.config import TrainConfig
from playground.frames import BoundaryFrame, ImageFrame
from playground.pinned import Pinned, pin
from playground.progress import COMPLETED, History, Snapshot
from playground.tasks import CLASSIFICATION, REGRESSION

LINEAR = TrainConfig(layers=({"type": "linear"},))


def boundary(epoch: int = 50) -> BoundaryFrame:
    grid = np.zeros((100, 100), np.uint8)
    return BoundaryFrame(epoch, np.linspace(-1, 1, 100, dtype=np.float32), np.linspace(-1, 1, 100, dtype=np.float32),
                         grid, grid)


def ended(final: dict | None = None, history: History = History(), frame=None) -> Snapshot:
    return Snapshot(COMPLETED, 50, 50, 0.03, 100.0, history=history, frame=frame or boundary(), final=final,
                    weights={"0.weight": np.ones((2, 2))})


def test_pin_keeps_the_setup_final_frame_and_test_numbers_but_no_weights():
    snap = ended({"train_loss": 0.9, "test_loss": 0.8, "train_accuracy": 0.51, "test_accuracy": 0.49})
    record = pin(snap, LINEAR, CLASSIFICATION)
    assert (record.config, record.status, record.epoch, record.frame) == (LINEAR, COMPLETED, 50, snap.frame)
    assert (record.loss, record.score, record.score_name) == (0.8, 0.49, "accuracy")
    assert "weights" not in {f.name for f in dataclasses.fields(Pinned)}
    assert dataclasses.is_dataclass(record) and record.model == "Linear"


def test_a_regression_pins_its_r2():
    record = pin(ended({"train_loss": 0.2, "test_loss": 0.3, "train_r2": 0.9, "test_r2": 0.8}), LINEAR, REGRESSION)
    assert (record.score, record.score_name) == (0.8, "R²")


def test_without_final_metrics_the_latest_of_the_curves_are_pinned():
    history = History(epochs=(1, 2), train_loss=(1.0, 0.7), eval_epochs=(2,), train_score=(0.6,), test_loss=(0.75,),
                      test_score=(0.55,))
    record = pin(ended(None, history), LINEAR, CLASSIFICATION)
    assert (record.loss, record.score) == (0.75, 0.55)


def test_an_image_run_pins_no_picture():
    frame = ImageFrame(1, np.zeros(3, np.int16), np.zeros(3, np.float32), None)
    assert pin(ended({}, frame=frame), LINEAR, CLASSIFICATION).frame is None


def test_a_record_knows_the_run_it_was_made_from():
    snap = ended({})
    record = pin(snap, LINEAR, CLASSIFICATION)
    assert record.is_of(snap, LINEAR)
    assert not record.is_of(snap, TrainConfig())
    assert not record.is_of(dataclasses.replace(snap, epoch=49), LINEAR)
