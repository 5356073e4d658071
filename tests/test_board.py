"""The class board's core: tiles from members' runs, what they changed, sorting, pictures, markup, and
that the board's reads never count as the student watching a run."""
from __future__ import annotations

import io
import itertools
import time

import numpy as np
import pytest
from PIL import Image

from playground import board, board_html
from playground.board_changes import AS_HANDED_OUT, OWN_SETUP, config_changes, summary
from playground.class_live import LiveRun
from playground.classroom import Handout, Member
from playground.config import TrainConfig
from playground.frames import BoundaryFrame
from playground.model import plan_for
from playground.progress import COMPLETED, RUNNING, STOPPED, History, Snapshot

HOSTILE = "<img src=x onerror=alert(1)>"
_STARTS = itertools.count(1)


class FakeHandle:
    """A run handle that counts the snapshots that touched it (told the watchdog someone watches)."""

    def __init__(self, snap: Snapshot, config: TrainConfig | None = None):
        self.snap, self.touches, self.reads = snap, 0, 0
        if config is not None:
            self.config = config

    def snapshot(self, touch: bool = True) -> Snapshot:
        self.reads += 1
        self.touches += int(touch)
        return self.snap

    @property
    def active(self) -> bool:
        return self.snap.active


def history(scores, losses=None) -> History:
    epochs = tuple(range(1, len(scores) + 1))
    losses = losses if losses is not None else [1.0 - s for s in scores]
    return History(epochs=epochs, train_loss=tuple(losses), eval_epochs=epochs, train_score=tuple(scores),
                   test_loss=tuple(losses), test_score=tuple(scores))


def snap(status=RUNNING, epoch=5, epochs=100, scores=(0.5, 0.6), frame=None, final=None) -> Snapshot:
    return Snapshot(status, epoch, epochs, 0.001, 10.0, history=history(list(scores)), frame=frame, final=final)


def live(member_id: int, snapshot: Snapshot, config: TrainConfig | None = None, handout: int | None = None,
         on_handle: bool = False) -> LiveRun:
    config = config or TrainConfig()
    return LiveRun(member_id, FakeHandle(snapshot, config if on_handle else None), config.to_dict(), handout,
                   float(next(_STARTS)))


def member(member_id: int, name: str) -> Member:
    return Member(member_id, "ABCDEF", name, 0.0, f"ws{member_id}")


def no_handout(_id):
    return None


def frame(epoch=5, grid=100, classes=3) -> BoundaryFrame:
    rng = np.random.default_rng(epoch)
    return BoundaryFrame(epoch, np.linspace(-1, 1, grid, dtype=np.float32), np.linspace(-1, 1, grid, dtype=np.float32),
                         rng.integers(0, classes, (grid, grid), dtype=np.uint8),
                         rng.integers(0, 8, (grid, grid), dtype=np.uint8))


# --- tiles --------------------------------------------------------------------------------------


def test_a_tile_reads_status_epoch_score_loss_and_parameters_from_the_run():
    config = TrainConfig()
    runs = {1: live(1, snap(RUNNING, 7, 300, scores=(0.4, 0.55, 0.625)), config)}
    (tile,) = board.tiles(runs, [member(1, "Ada")], no_handout)
    assert (tile.name, tile.status, tile.epoch, tile.epochs) == ("Ada", RUNNING, 7, 300)
    assert tile.score == 0.625 and tile.loss == pytest.approx(0.375) and tile.score_name == "accuracy"
    assert tile.parameters == plan_for(config).parameters == 2 * 100 + 100 + 100 * 3 + 3
    assert tile.active and tile.changes is None and tile.change_text == OWN_SETUP


def test_an_ended_run_shows_its_final_metrics_and_regression_shows_r2():
    final = {"epochs": 9, "test_loss": 0.2, "test_accuracy": 0.91, "train_loss": 0.1, "train_accuracy": 0.95}
    (done,) = board.tiles({1: live(1, snap(COMPLETED, 9, 9, final=final))}, [member(1, "Ada")], no_handout)
    assert (done.score, done.loss, done.active) == (0.91, 0.2, False)
    regression = TrainConfig.from_dict({"dataset": {"name": "sine"}, "layers": [{"type": "linear", "out": 8},
                                                                                 {"type": "tanh"}, {"type": "linear"}]})
    (fit,) = board.tiles({2: live(2, snap(scores=(0.1, 0.7)), regression)}, [member(2, "Bo")], no_handout)
    assert (fit.score_name, fit.score) == ("R²", 0.7)
    assert "R²" in board_html.tile_html(fit) and "0.70" in board_html.tile_html(fit)


def test_a_diverged_runs_nan_loss_reads_as_none():
    (tile,) = board.tiles({1: live(1, snap(scores=(0.3, float("nan")), status=STOPPED))}, [member(1, "A")], no_handout)
    assert tile.score is None and tile.loss is None and "nan" not in board_html.tile_html(tile).lower()


def test_members_without_a_run_get_not_started_tiles_and_runs_of_strangers_are_left_out():
    runs = {1: live(1, snap()), 99: live(99, snap())}
    tiles = board.tiles(runs, [member(1, "Ada"), member(2, "Bo")], no_handout)
    assert [(t.name, t.status) for t in tiles] == [("Ada", RUNNING), ("Bo", board.NOT_STARTED)]
    assert not tiles[1].active and "has not trained yet" in board_html.tile_html(tiles[1])


# --- what changed -------------------------------------------------------------------------------


def test_changes_against_a_handed_out_setup_read_like_a_sentence():
    base = TrainConfig()
    changed = base.replace(layers=({"type": "linear", "out": 100}, {"type": "tanh"}, {"type": "linear"}),
                           optimizer=base.optimizer.__class__(name="adam", lr=0.03))
    handouts = {5: Handout(5, "setup", base.to_dict(), 0.0)}
    runs = {1: live(1, snap(), changed, handout=5), 2: live(2, snap(), base, handout=5)}
    first, second = board.tiles(runs, [member(1, "Ada"), member(2, "Bo")], handouts.get)
    assert first.changes == ("ReLU → Tanh", "lr 0.001 → 0.03") and first.change_text == "ReLU → Tanh, lr 0.001 → 0.03"
    assert second.changes == () and second.change_text == AS_HANDED_OUT


def test_a_hand_out_written_without_defaults_still_compares_as_handed_out():
    run = live(1, snap(), TrainConfig(), handout=3)
    handouts = {3: Handout(3, "setup", {"dataset": {"name": "spiral"}}, 0.0)}
    (tile,) = board.tiles({1: run}, [member(1, "A")], handouts.get)
    assert tile.change_text == AS_HANDED_OUT


def test_a_lesson_hand_out_compares_with_the_lessons_setup():
    from playground.lessons import LESSONS

    lesson = next(iter(LESSONS.values()))
    run = live(1, snap(), lesson.config.replace(epochs=lesson.config.epochs + 1), handout=4)
    (tile,) = board.tiles({1: run}, [member(1, "A")], {4: Handout(4, "lesson", lesson.slug, 0.0)}.get)
    assert tile.changes == (f"epochs {lesson.config.epochs} → {lesson.config.epochs + 1}",)


def test_layer_edits_show_added_and_removed_layers_and_many_changes_end_with_more():
    base = TrainConfig().to_dict()
    deeper = TrainConfig().replace(layers=({"type": "linear", "out": 100}, {"type": "relu"},
                                           {"type": "linear", "out": 100}, {"type": "relu"}, {"type": "linear"}),
                                   epochs=50, batch_size=32, seed=7).to_dict()
    changes = config_changes(base, deeper)
    assert changes[:2] == ("+ Linear 100", "+ ReLU")
    assert config_changes(deeper, base)[:2] == ("− Linear 100", "− ReLU")
    assert summary(changes) == ", ".join(changes[:3]) + f" +{len(changes) - 3} more" and len(changes) == 5
    narrower = TrainConfig().replace(layers=({"type": "linear", "out": 16}, {"type": "relu"},
                                             {"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}))
    assert config_changes(base, narrower.to_dict()) == ("Linear 100 → Linear 16", "+ ReLU", "+ Linear 16")
    assert summary(()) == AS_HANDED_OUT and summary(None) == OWN_SETUP


# --- sorting ------------------------------------------------------------------------------------


def sample_tiles() -> list[board.Tile]:
    return [board.Tile(1, "cleo", RUNNING, score=0.8, loss=0.3, parameters=500),
            board.Tile(2, "Ada", RUNNING, score=0.9, loss=0.3, parameters=900),
            board.Tile(3, "bo", board.NOT_STARTED),
            board.Tile(4, "Dan", RUNNING, score=0.8, loss=0.1, parameters=500)]


@pytest.mark.parametrize("by, order", [("accuracy", [2, 1, 4, 3]), ("loss", [4, 1, 2, 3]),
                                       ("parameters", [1, 4, 2, 3]), ("name", [2, 3, 1, 4])])
def test_sort_orders_put_missing_numbers_last_and_keep_ties_in_order(by, order):
    assert [t.member for t in board.sort_tiles(sample_tiles(), by)] == order


# --- pictures -----------------------------------------------------------------------------------


def test_the_sparkline_is_the_test_score_thinned_to_thirty_points_keeping_the_ends():
    scores = [i / 499 for i in range(500)]
    (tile,) = board.tiles({1: live(1, snap(scores=scores))}, [member(1, "A")], no_handout)
    assert len(tile.sparkline) == board.SPARK_POINTS and tile.sparkline[0] == 0.0 and tile.sparkline[-1] == 1.0
    assert board.sparkline(history([0.1, 0.2])) == (0.1, 0.2)
    assert board_html.spark_svg(tile.sparkline).count(",") == board.SPARK_POINTS


def test_a_thumbnail_is_a_small_png_of_the_boundary_only_for_2d_data_and_kept_per_epoch():
    shown = frame()
    (tile,) = board.tiles({1: live(1, snap(frame=shown))}, [member(1, "A")], no_handout)
    picture = Image.open(io.BytesIO(__import__("base64").b64decode(tile.thumbnail.split(",", 1)[1])))
    assert picture.size == (board.THUMB_SIDE, board.THUMB_SIDE) and picture.mode == "RGB"
    corner = (shown.classes[-1, 0], shown.confidence[-1, 0])  # the highest x2 row, lowest x1: top left
    from playground.plots import region_rgb
    assert picture.getpixel((0, 0)) == region_rgb(3)[corner[0] * 8 + corner[1]]
    image_run = live(2, snap(frame=None), TrainConfig.from_dict({"dataset": {"name": "digits"}}))
    assert board.tiles({2: image_run}, [member(2, "B")], no_handout)[0].thumbnail is None
    run = live(3, snap(frame=shown))
    first = board.tiles({3: run}, [member(3, "C")], no_handout)[0].thumbnail
    assert board.tiles({3: run}, [member(3, "C")], no_handout)[0].thumbnail is first  # kept, not redrawn


# --- markup -------------------------------------------------------------------------------------


def test_a_hostile_name_and_table_names_show_as_text_never_markup():
    tile = board.Tile(1, HOSTILE, RUNNING, score=0.5, changes=('label <script>x</script> → "y"',))
    page = board_html.grid([tile])
    assert HOSTILE not in page and "<script>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;script&gt;" in page
    not_a_picture = board.Tile(2, "x", RUNNING, thumbnail='javascript:alert(1)"')
    assert board_html.picture(not_a_picture) == '<div class="clb-pic"></div>'


def test_an_empty_class_says_how_students_join():
    assert "join with the code" in board_html.grid([])


# --- the board does not keep runs alive ---------------------------------------------------------


def test_the_boards_reads_never_touch_the_run():
    run = live(1, snap())
    for _ in range(3):
        board.tiles({1: run}, [member(1, "A")], no_handout)
    assert run.handle.reads == 3 and run.handle.touches == 0


def test_a_pooled_runs_board_read_neither_keeps_its_place_nor_tells_the_worker():
    from playground.pool import PooledRunner

    class Slot:
        sent: list = []

        def send(self, message):
            self.sent.append(message)

    class Pool:
        stack = False

    job = PooledRunner(Pool(), TrainConfig(), None, None, {})
    job._snapshot, job._slot, job.polled = snap(), Slot(), 0.0
    run = LiveRun(1, job, TrainConfig().to_dict(), None, 1.0)
    board.tiles({1: run}, [member(1, "A")], no_handout)
    assert job.polled == 0.0 and job._slot.sent == []
    job.snapshot()  # the student's own page: both
    assert job.polled > 0 and job._slot.sent == [("call", 0, "seen", ())]


def test_an_abandoned_run_ends_while_only_the_board_reads_it():
    from playground.runner import TrainingRunner

    config = TrainConfig.from_dict({"dataset": {"name": "spiral", "n_per_class": 50}, "epochs": 100_000,
                                    "device": "cpu"})
    runner = TrainingRunner(config, idle_pause=0.2, idle_end=0.4).start()
    run = LiveRun(1, runner, config.to_dict(), None, time.time())
    try:
        deadline = time.monotonic() + 60
        while runner.active and time.monotonic() < deadline:
            board.tiles({1: run}, [member(1, "A")], no_handout)
            time.sleep(0.05)
        ended = runner.snapshot(touch=False)
        assert not runner.active and ended.epoch < config.epochs and "nobody watched" in ended.message
    finally:
        runner.stop()
        runner.join(10)
