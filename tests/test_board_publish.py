"""board_publish: tiles as records, read back strictly, merged with the local runs, published when changed; on a
training cluster with the run's ref and config, a hostile ref dropped (the tile kept)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from playground import board_publish
from playground.board import NOT_STARTED, Tile, thumbnail, tile
from playground.board_publish import LOST, Publisher, Remote, from_record, merge, read_record, record
from playground.class_live import ClassLive, EndedRun
from playground.config import TrainConfig
from playground.frames import BoundaryFrame
from playground.progress import COMPLETED, PAUSED, RUNNING, History, Snapshot

HOSTILE = "<img src=x onerror=alert(1)>"


class Handle:
    def __init__(self, status=RUNNING, scores=(0.5, 0.7)):
        epochs = tuple(range(1, len(scores) + 1))
        cells = np.linspace(-1, 1, 40, dtype=np.float32)
        zeros = np.zeros((40, 40), np.uint8)
        self.frame = BoundaryFrame(len(scores), cells, cells, zeros, zeros)
        history = History(epochs=epochs, train_loss=tuple(1 - s for s in scores), eval_epochs=epochs,
                          train_score=scores, test_loss=tuple(1 - s for s in scores), test_score=scores)
        self.config, self.touches = TrainConfig(), 0
        self.snap = Snapshot(status, len(scores), 50, 0.01, 5.0, history=history, frame=self.frame)

    @property
    def active(self):
        return self.snap.active

    def snapshot(self, touch=True):
        self.touches += int(touch)
        return self.snap


def a_tile(**changes) -> Tile:
    base = Tile(3, "Ada", RUNNING, 4, 50, 0.75, "accuracy", 0.31, 1234, ("ReLU → Tanh",), (0.5, 0.75),
                thumbnail(Handle().frame, 2))
    return Tile(**{**base.__dict__, **changes})


def test_a_tile_goes_through_a_record_and_back_under_the_readers_name():
    original = a_tile()
    text = record(original)
    assert "Ada" not in text and len(text) < board_publish.MAX_RECORD
    back = from_record(text, "Ada (room 2)", updated=100.0, now=101.0)
    assert back == Tile(**{**original.__dict__, "name": "Ada (room 2)"})
    assert from_record(record(a_tile(changes=None, thumbnail=None, score=None)), "x", 0, 0).changes is None


@pytest.mark.parametrize("damage", [
    lambda d: d.pop("status"), lambda d: d.update(extra=1), lambda d: d.update(score="NaN"),
    lambda d: d.update(epoch=-1), lambda d: d.update(thumbnail="javascript:alert(1)"),
    lambda d: d.update(thumbnail='data:image/png;base64,AAAA" onerror="x'), lambda d: d.update(changes=[1, 2]),
    lambda d: d.update(sparkline=[1e400]), lambda d: d.update(status="x" * 500), lambda d: d.update(member="3"),
])
def test_a_malformed_record_is_dropped_not_drawn(damage):
    data = json.loads(record(a_tile()))
    damage(data)
    assert from_record(json.dumps(data), "Ada", 0, 0) is None


REF = "run-0123456789abcdef0123456789abcdef"


def test_a_records_ref_and_config_come_back_beside_the_tile_never_in_it():
    config = TrainConfig().to_dict()
    text = record(a_tile(), Remote(REF, config))
    board_tile, remote = read_record(text, "Ada", 0, 0)
    assert remote == Remote(REF, config) and board_tile == a_tile()
    assert from_record(text, "Ada", 0, 0) == a_tile() and REF not in repr(board_tile)
    assert read_record(record(a_tile()), "Ada", 0, 0) == (a_tile(), None)  # a local pool's run: no ref
    assert read_record(record(a_tile(), Remote("run-1:slot/2#3", {})), "Ada", 0, 0)[1].ref == "run-1:slot/2#3"


@pytest.mark.parametrize("ref", [
    "", "x" * 201, "run 1", "run-1\n", "<script>", 'a"b', "a'b", "a;b", "a$b", "a\\b", "ü", "a%20b", 42, None,
    ["run-1"], {"ref": "run-1"},
])
def test_a_hostile_ref_is_dropped_and_the_tile_kept(ref):
    data = {**json.loads(record(a_tile())), "ref": ref, "config": TrainConfig().to_dict()}
    board_tile, remote = read_record(json.dumps(data), "Ada", 0, 0)
    assert board_tile == a_tile() and remote is None
    if isinstance(ref, str):
        assert "ref" not in record(a_tile(), Remote(ref, {}))  # the writer does not write one either


@pytest.mark.parametrize("config", [None, [], "x", 3])
def test_a_ref_without_a_config_object_is_dropped(config):
    data = {**json.loads(record(a_tile())), "ref": REF, "config": config}
    assert read_record(json.dumps(data), "Ada", 0, 0) == (a_tile(), None)


def test_a_ref_too_long_to_publish_with_its_tile_is_left_out():
    big = {"note": "x" * board_publish.MAX_RECORD}
    assert record(a_tile(), Remote(REF, big)) == record(a_tile())
    assert record(a_tile(), Remote(REF, {"lr": float("nan")})) == record(a_tile())


@pytest.mark.parametrize("text", [None, 42, "", "not json", "[1, 2]", "{" * 10, "x" * (board_publish.MAX_RECORD + 1)])
def test_what_is_not_a_record_at_all_is_dropped(text):
    assert from_record(text, "Ada", 0, 0) is None


def test_an_active_run_not_refreshed_for_long_shows_as_lost_an_ended_one_does_not():
    stale = board_publish.STALE_SECONDS + 1
    assert from_record(record(a_tile()), "Ada", 0, stale).status == LOST
    assert from_record(record(a_tile(status=PAUSED)), "Ada", 0, stale).status == LOST
    assert from_record(record(a_tile(status=COMPLETED)), "Ada", 0, stale).status == COMPLETED


def test_merge_puts_a_newer_run_from_elsewhere_in_the_members_place_under_their_name():
    here = [Tile(1, "Ada", RUNNING, 3, 50), Tile(2, "Bo", NOT_STARTED), Tile(3, HOSTILE, RUNNING, 9, 50)]
    published = {1: (5.0, a_tile(member=1, epoch=40)), 2: (7.0, a_tile(member=2, status=COMPLETED)),
                 3: (1.0, a_tile(member=3, epoch=1))}
    merged = merge(here, {1: 9.0, 3: 2.0}, published)
    assert [t.name for t in merged] == ["Ada", "Bo", HOSTILE]
    assert merged[0] is here[0]  # the local run is newer than the published one
    assert merged[1].status == COMPLETED and merged[1].name == "Bo"  # only published: shown
    assert merged[2] is here[2]


def test_the_publisher_writes_changed_tiles_only_and_never_touches_a_run(monkeypatch):
    live, written = ClassLive(), []
    running, done = Handle(), Handle(COMPLETED, (0.4, 0.9))
    live.report("ABCDEF", 1, running, TrainConfig().to_dict())
    live.report("ABCDEF", 2, done, TrainConfig().to_dict())
    publisher = Publisher(live, lambda code, rows: written.append((code, rows)), lambda code, handout: None)
    assert publisher.publish_once() == 2
    code, rows = written[0]
    assert code == "ABCDEF" and [member for member, _, _ in rows] == [1, 2]
    assert from_record(rows[0][2], "Ada", 0, 0) == tile(type("M", (), {"id": 1, "name": "Ada"})(),
                                                        live.runs("ABCDEF")[1], lambda _: None)
    assert publisher.publish_once() == 0  # nothing changed
    running.snap = Snapshot(RUNNING, 3, 50, 0.01, 5.0, history=running.snap.history, frame=running.frame)
    assert publisher.publish_once() == 1 and written[-1][1][0][0] == 1
    clock = [board_publish.time.monotonic() + board_publish.REFRESH_SECONDS + 1]
    monkeypatch.setattr(board_publish.time, "monotonic", lambda: clock[0])
    assert publisher.publish_once() == 1  # the active run again, lest it be taken for lost; not the ended one
    assert running.touches == 0 and done.touches == 0


def test_the_publisher_writes_a_cluster_runs_ref_and_config_and_keeps_them_once_it_ended():
    live, written = ClassLive(), []
    on_cluster, local = Handle(), Handle()
    on_cluster.ref = REF
    live.report("ABCDEF", 1, on_cluster, TrainConfig().to_dict())
    live.report("ABCDEF", 2, local, TrainConfig().to_dict())
    publisher = Publisher(live, lambda code, rows: written.append(rows), lambda code, handout: None)
    publisher.publish_once()
    remotes = [read_record(text, "", 0, 0)[1] for _, _, text in written[0]]
    assert remotes == [Remote(REF, TrainConfig().to_dict()), None]
    on_cluster.snap = Snapshot(COMPLETED, 2, 50, 0.01, 5.0, history=on_cluster.snap.history)
    publisher.publish_once()  # the ended run's final tile: a board that attached it keeps its curves
    assert isinstance(live.runs("ABCDEF")[1].handle, EndedRun)
    assert read_record(written[-1][0][2], "", 0, 0)[1] == Remote(REF, TrainConfig().to_dict())
    assert on_cluster.touches == 0


def test_the_publishers_thread_survives_a_failing_store(monkeypatch):
    monkeypatch.setattr(board_publish, "PUBLISH_SECONDS", 0.01)
    live, calls = ClassLive(), []
    live.report("ABCDEF", 1, Handle(), TrainConfig().to_dict())

    def failing(code, rows):
        calls.append(code)
        raise OSError("the database is restarting")

    publisher = Publisher(live, failing, lambda code, handout: None).start()
    try:
        for _ in range(3000):
            if len(calls) >= 2:
                break
            board_publish.time.sleep(0.01)
    finally:
        publisher.stop()
    assert len(calls) >= 2
