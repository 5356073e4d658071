"""The timeline: which epochs keep a frame (bounded, log-spaced early, the ends kept) and the recorder."""
import numpy as np
import pytest

from playground.frames import CONFIDENCE_LEVELS, BoundaryFrame, CurveFrame, ImageFrame
from playground.timeline import MAX_FRAMES, Timeline, TimelineRecorder, boundary_codes, keep_epochs


def boundary(epoch: int, value: int = 0) -> BoundaryFrame:
    axis = np.linspace(-1, 1, 4, dtype=np.float32)
    return BoundaryFrame(epoch, axis, axis, np.full((4, 4), value, np.uint8), np.zeros((4, 4), np.uint8))


@pytest.mark.parametrize("total", [0, 1, 7, 118, 119, 120, 121, 300, 1000, 20_000, 1_000_000])
def test_the_kept_epochs_are_bounded_sorted_and_include_both_ends(total):
    kept = keep_epochs(total)
    assert kept[0] == 0 and kept[-1] == total
    assert list(kept) == sorted(set(kept))
    assert len(kept) <= MAX_FRAMES - 1  # room for the epoch a stopped run ends at
    assert all(0 <= epoch <= total for epoch in kept)


def test_a_short_run_keeps_every_epoch():
    assert keep_epochs(50) == tuple(range(51))
    assert keep_epochs(MAX_FRAMES - 2) == tuple(range(MAX_FRAMES - 1))


def test_a_long_run_keeps_many_early_epochs_and_regular_later_ones():
    kept = keep_epochs(1000)
    assert len(kept) >= MAX_FRAMES - 10  # the budget is used, not wasted on duplicates
    assert set(range(11)) <= set(kept)  # the first epochs, where the boundary changes most
    late = [epoch for epoch in kept if epoch >= 500]
    assert np.diff(late).max() <= 1000 / 50  # regular later on: no long stretch without a frame
    assert sum(epoch <= 100 for epoch in kept) > sum(900 <= epoch <= 1000 for epoch in kept)


def test_the_recorder_keeps_only_scheduled_epochs_and_the_final_one():
    recorder = TimelineRecorder(1000)
    kept = keep_epochs(1000)
    unscheduled = next(epoch for epoch in range(1000) if epoch not in kept)
    assert recorder.wants(0) and not recorder.wants(unscheduled)
    recorder.add(boundary(0))
    assert not recorder.wants(0)  # already has it
    recorder.add(boundary(unscheduled))
    assert recorder.timeline().epochs == (0,)
    recorder.add(boundary(unscheduled), final=True)  # a run stopped there ends its timeline there
    assert recorder.timeline().epochs == (0, unscheduled)


def test_the_recorder_shares_one_timeline_until_a_frame_is_added():
    recorder = TimelineRecorder(10)
    recorder.add(boundary(0))
    first = recorder.timeline()
    assert recorder.timeline() is first  # snapshots share it: nothing is copied per poll
    recorder.add(boundary(1))
    assert recorder.timeline() is not first and len(first) == 1 and len(recorder.timeline()) == 2


def test_image_frames_and_disabled_recorders_keep_nothing():
    image = ImageFrame(1, np.zeros(3, np.int16), np.zeros(3, np.float32), None)
    recorder = TimelineRecorder(10)
    recorder.add(image, final=True)
    assert len(recorder.timeline()) == 0
    disabled = TimelineRecorder(10, enabled=False)
    assert not disabled.wants(0)
    disabled.add(boundary(0), final=True)
    assert len(disabled.timeline()) == 0


def test_the_recorder_never_holds_more_than_its_bound():
    recorder = TimelineRecorder(10_000, most=5)
    for epoch in range(10_001):
        recorder.add(boundary(epoch), final=True)
    assert len(recorder.timeline()) == 5


def test_a_timeline_finds_the_frame_shown_at_an_epoch_and_extends_only_forward():
    timeline = Timeline((boundary(0), boundary(5), boundary(10)))
    assert timeline.at(7).epoch == 5 and timeline.at(10).epoch == 10 and timeline.at(99).epoch == 10
    assert timeline.at(-1).epoch == 0 and Timeline().at(3) is None
    assert timeline.final.epoch == 10 and timeline.since(2) == (timeline.frames[2],)
    grown = timeline.extended((boundary(10), boundary(12), boundary(11)))
    assert grown.epochs == (0, 5, 10, 12)
    assert timeline.extended(()) is timeline


def test_curve_frames_are_kept_too():
    recorder = TimelineRecorder(3)
    recorder.add(CurveFrame(0, np.zeros(4, np.float32), np.ones(4, np.float32)))
    assert recorder.timeline().epochs == (0,)


def test_boundary_codes_are_the_heatmap_values_a_player_draws():
    codes = boundary_codes((boundary(0, 1), boundary(5, 2)))
    assert codes.shape == (2, 4, 4) and codes.dtype == np.uint8
    assert codes[0, 0, 0] == CONFIDENCE_LEVELS and codes[1, 0, 0] == 2 * CONFIDENCE_LEVELS
    assert boundary_codes(()).shape == (0, 0, 0)
