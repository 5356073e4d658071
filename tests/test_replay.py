"""The player's data: which trace a frame redraws, the packed frames and the title under each epoch."""
import base64

import numpy as np

from playground import plots, replay
from playground.datasets import make_dataset
from playground.frames import CONFIDENCE_LEVELS, BoundaryFrame, CurveFrame
from playground.replay import packed, replay_spec
from playground.timeline import Timeline

G = 100


def boundary(epoch: int, value: int) -> BoundaryFrame:
    axis = np.linspace(-1, 1, G, dtype=np.float32)
    return BoundaryFrame(epoch, axis, axis, np.full((G, G), value % 3, np.uint8),
                         np.full((G, G), value % CONFIDENCE_LEVELS, np.uint8))


def curve(epoch: int, value: float) -> CurveFrame:
    xs = np.linspace(-1, 1, 2 * G, dtype=np.float32)
    return CurveFrame(epoch, xs, np.full(2 * G, value, np.float32))


def unpacked(spec: dict) -> np.ndarray:
    dtype = {"u1": np.uint8, "f4": np.float32}[spec["dtype"]]
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype).reshape(spec["shape"])


def spiral():
    return make_dataset("spiral", {"classes": 3, "n_per_class": 20}, seed=1)


def test_a_boundary_replays_its_heatmap_with_every_kept_frame():
    dataset, frames = spiral(), (boundary(0, 1), boundary(5, 2), boundary(40, 4))
    spec = replay_spec(plots.data_figure(dataset, frames[-1]), Timeline(frames), run="r1")
    assert (spec["trace"], spec["attr"], spec["epochs"], spec["run"]) == (0, "z", [0, 5, 40], "r1")
    assert spec["title"] == "Decision boundary" and not spec["live"]
    values = unpacked(spec["frames"])
    assert values.shape == (3, G, G) and values.dtype == np.uint8
    assert values[1, 0, 0] == 2 * CONFIDENCE_LEVELS + 2  # class * levels + confidence, as the heatmap's z


def test_a_fitted_curve_replays_its_model_line():
    dataset = make_dataset("sine", {"n_samples": 60}, seed=1)
    frames = (curve(0, 0.5), curve(9, -1.0))
    figure = plots.data_figure(dataset, frames[-1])
    spec = replay_spec(figure, Timeline(frames))
    assert figure.data[spec["trace"]].name == "model" and spec["attr"] == "y"
    assert spec["title"] == "Fitted curve"
    np.testing.assert_array_equal(unpacked(spec["frames"])[:, 0], np.float32([0.5, -1.0]))


def test_a_live_run_sends_no_frames_and_a_picture_without_a_frame_has_nothing_to_play():
    dataset, frames = spiral(), (boundary(0, 1), boundary(5, 2))
    live = replay_spec(plots.data_figure(dataset, frames[-1]), Timeline(frames), live=True)
    assert live["live"] and live["frames"] is None and live["epochs"] == []
    assert replay_spec(plots.data_figure(dataset), Timeline(frames)) is None
    assert replay_spec(None, Timeline(frames)) is None


def test_frames_of_another_kind_are_not_sent():
    dataset = spiral()
    spec = replay_spec(plots.data_figure(dataset, boundary(3, 1)), Timeline((curve(0, 1.0), curve(3, 2.0))))
    assert spec["frames"] is None and spec["epochs"] == []
    assert replay_spec(plots.data_figure(dataset, boundary(3, 1)), None)["frames"] is None


def test_packed_arrays_round_trip():
    array = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    spec = packed(array)
    assert spec["shape"] == [2, 3, 4] and spec["dtype"] == "f4"
    np.testing.assert_array_equal(unpacked(spec), array)


def test_a_timelines_frames_are_packed_once_and_named_by_their_content(monkeypatch):
    dataset, frames = spiral(), (boundary(0, 1), boundary(5, 2))
    figure, timeline = plots.data_figure(dataset, frames[-1]), Timeline(frames)
    first = replay_spec(figure, timeline, run="a")
    calls = []
    monkeypatch.setattr(replay, "frame_values", lambda *a: calls.append(a))
    again = replay_spec(figure, timeline, run="b")  # the same timeline: packed already
    assert calls == [] and again["frames"] is first["frames"] and again["run"] == "b"
    monkeypatch.undo()
    copy = replay_spec(figure, Timeline(frames), run="c")  # equal content, another timeline
    assert copy["frames_key"] == first["frames_key"] and copy["frames"] is not first["frames"]
    other = replay_spec(figure, Timeline((boundary(0, 1), boundary(5, 3))))
    assert other["frames_key"] != first["frames_key"]
    assert replay_spec(figure, timeline, live=True)["frames_key"] is None  # live: nothing to name


def test_the_cache_keeps_no_timeline_alive():
    import gc
    dataset, frames = spiral(), (boundary(0, 1), boundary(5, 2))
    timeline = Timeline(frames)
    replay_spec(plots.data_figure(dataset, frames[-1]), timeline)
    key = id(timeline)
    assert key in replay._PACKED
    del timeline
    gc.collect()
    assert key not in replay._PACKED
