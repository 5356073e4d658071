"""Prediction frames: a 2-D classifier's grid of classes and confidence, a 1-D regressor's curve."""
import numpy as np
import pytest

from playground.datasets import Dataset, make_dataset
from playground.frames import (
    CONFIDENCE_LEVELS,
    GRID_SIZE,
    BoundaryFrame,
    CurveFrame,
    axis_ranges,
    boundary_frame,
    curve_frame,
    frame_for,
)
from playground.tasks import CLASSIFICATION, REGRESSION


@pytest.fixture
def spiral():
    return make_dataset("spiral", {"classes": 3, "n_per_class": 20}, seed=1)


@pytest.fixture
def line():
    return make_dataset("linear_regression")


def by_upper_half(x: np.ndarray) -> np.ndarray:
    """Class 1 (surely) where x2 > 0, class 0 (surely) elsewhere, for 3 classes."""
    p = np.zeros((len(x), 3), dtype=np.float32)
    p[np.arange(len(x)), (x[:, 1] > 0).astype(int)] = 1.0
    return p


def uniform(x: np.ndarray) -> np.ndarray:
    return np.full((len(x), 3), 1 / 3, dtype=np.float32)


def test_boundary_frame_has_g_by_g_uint8_grids(spiral):
    frame = boundary_frame(spiral, by_upper_half, epoch=7, size=30)
    assert isinstance(frame, BoundaryFrame) and frame.epoch == 7
    assert frame.classes.shape == (30, 30) and frame.classes.dtype == np.uint8
    assert frame.confidence.shape == (30, 30) and frame.confidence.dtype == np.uint8
    assert frame.xs.shape == (30,) and frame.ys.shape == (30,)
    assert frame.xs.dtype == np.float32


def test_boundary_classes_and_confidence_stay_in_range(spiral):
    rng = np.random.default_rng(0)

    def noisy(x):
        p = rng.random((len(x), 3)).astype(np.float32)
        return p / p.sum(axis=1, keepdims=True)

    frame = boundary_frame(spiral, noisy, epoch=0, size=40)
    assert frame.classes.max() < 3
    assert frame.confidence.min() >= 0 and frame.confidence.max() < CONFIDENCE_LEVELS
    assert len(np.unique(frame.confidence)) > 1


def test_boundary_rows_follow_x2(spiral):
    frame = boundary_frame(spiral, by_upper_half, epoch=0, size=25)
    assert np.all(frame.classes[frame.ys > 0, :] == 1)
    assert np.all(frame.classes[frame.ys <= 0, :] == 0)


def test_certain_predictions_get_the_top_confidence_and_coin_tosses_the_lowest(spiral):
    sure = boundary_frame(spiral, by_upper_half, epoch=0, size=10)
    unsure = boundary_frame(spiral, uniform, epoch=0, size=10)
    assert np.all(sure.confidence == CONFIDENCE_LEVELS - 1)
    assert np.all(unsure.confidence == 0)


def test_grid_covers_all_the_data(spiral):
    frame = boundary_frame(spiral, uniform, epoch=0, size=20)
    x = spiral.x_all
    assert frame.xs[0] < x[:, 0].min() and frame.xs[-1] > x[:, 0].max()
    assert frame.ys[0] < x[:, 1].min() and frame.ys[-1] > x[:, 1].max()
    (x0, x1), (y0, y1) = axis_ranges(spiral)
    assert frame.xs[0] == pytest.approx(x0) and frame.xs[-1] == pytest.approx(x1)
    assert frame.ys[0] == pytest.approx(y0) and frame.ys[-1] == pytest.approx(y1)


def test_axis_ranges_pad_the_data_span_by_the_margin(line):
    ((low, high),) = axis_ranges(line, margin=0.1)
    assert low == pytest.approx(1.0 - 0.3) and high == pytest.approx(4.0 + 0.3)


def test_axis_ranges_of_a_constant_feature_are_not_empty():
    flat = Dataset("sine", REGRESSION, np.ones((3, 1), np.float32), np.zeros((3, 1), np.float32),
                   np.zeros((0, 1), np.float32), np.zeros((0, 1), np.float32), ("x",), (), False)
    ((low, high),) = axis_ranges(flat)
    assert low < 1.0 < high


def test_curve_frame_evaluates_the_model_along_x(line):
    frame = curve_frame(line, lambda x: 2 * x, epoch=3, size=50)
    assert isinstance(frame, CurveFrame) and frame.epoch == 3
    assert frame.xs.shape == (50,) and frame.ys.shape == (50,)
    assert frame.xs.dtype == np.float32 and frame.ys.dtype == np.float32
    np.testing.assert_allclose(frame.ys, 2 * frame.xs)
    assert frame.xs[0] < 1.0 and frame.xs[-1] > 4.0


def test_frame_for_picks_a_boundary_for_2d_classes(spiral):
    frame = frame_for(spiral, uniform, epoch=1)
    assert isinstance(frame, BoundaryFrame)
    assert frame.classes.shape == (GRID_SIZE, GRID_SIZE)


def test_frame_for_picks_a_curve_for_1d_regression(line):
    frame = frame_for(line, lambda x: x, epoch=1)
    assert isinstance(frame, CurveFrame) and frame.xs.shape == (2 * GRID_SIZE,)


def _never(x):
    raise AssertionError("predict must not be called for data without a frame")


@pytest.mark.parametrize("task, features", [(CLASSIFICATION, 3), (CLASSIFICATION, 1), (REGRESSION, 2)])
def test_frame_for_returns_none_for_unsupported_data(task, features):
    x = np.zeros((4, features), np.float32)
    y = np.zeros(4, np.int64) if task == CLASSIFICATION else np.zeros((4, 1), np.float32)
    data = Dataset("custom", task, x, y, x[:0], y[:0], tuple(f"x{i}" for i in range(features)),
                   ("a", "b") if task == CLASSIFICATION else (), False)
    assert frame_for(data, _never, epoch=0) is None


def test_boundary_frame_from_a_real_engine():
    from playground.config import TrainConfig
    from playground.engine import Engine

    engine = Engine(TrainConfig.from_dict({"dataset": {"name": "moons", "n_samples": 40}, "epochs": 3,
                                           "layers": [{"type": "linear", "out": 8}, {"type": "relu"},
                                                      {"type": "linear"}], "device": "cpu"}))
    list(engine.run())
    frame = frame_for(engine.dataset, engine.predict, engine.epoch, size=16)
    assert frame.epoch == 3 and frame.classes.shape == (16, 16) and frame.classes.max() < 2
