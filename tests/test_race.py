"""A race trains its entrants side by side on one thread and reports them all."""
import math
import time

from playground.config import TrainConfig
from playground.frames import GRID_SIZE
from playground.progress import ACTIVE, COMPLETED, DIVERGED, FAILED, STOPPED
from playground.race import RACE_FRAMES, Race


def entrant(lr: float, epochs: int = 15, optimizer: str = "adam") -> TrainConfig:
    return TrainConfig.from_dict({"dataset": {"name": "xor", "n_samples": 40, "seed": 1},
                                  "layers": [{"type": "linear", "out": 8}, {"type": "relu"}, {"type": "linear"}],
                                  "optimizer": {"name": optimizer, "lr": lr}, "epochs": epochs, "device": "cpu"})


def finish(race: Race, timeout: float = 20.0):
    race.start()
    deadline = time.monotonic() + timeout
    while race.active and time.monotonic() < deadline:
        race.snapshot()
        time.sleep(0.02)
    race.join(5)
    return race.snapshot()


def test_every_entrant_trains_every_epoch_and_ends_with_final_metrics():
    ended = []
    snap = finish(Race((("slow", entrant(0.001)), ("fast", entrant(0.05))), on_end=ended.append))
    assert snap.status == COMPLETED and snap.epoch == 15
    for racer in snap.entrants:
        assert racer.status == COMPLETED and racer.history.epochs == tuple(range(1, 16))
        assert racer.final["epochs"] == 15 and 0 <= racer.final["test_accuracy"] <= 1
    slow, fast = snap.entrants
    assert fast.final["train_loss"] < slow.final["train_loss"]
    assert len(ended) == 1 and ended[0].status == COMPLETED


def test_entrants_with_fewer_epochs_finish_first():
    snap = finish(Race((("short", entrant(0.01, epochs=3)), ("long", entrant(0.01, epochs=9)))))
    short, long = snap.entrants
    assert len(short.history.epochs) == 3 and len(long.history.epochs) == 9 and snap.epochs == 9


def test_a_diverging_entrant_drops_out_and_the_others_go_on():
    wild = TrainConfig.from_dict({"dataset": {"name": "linear_regression"}, "layers": [{"type": "linear"}],
                                  "loss": "mse", "optimizer": {"name": "sgd", "lr": 5.0}, "epochs": 40,
                                  "device": "cpu"})
    snap = finish(Race((("wild", wild), ("calm", entrant(0.01, epochs=40)))))
    wild, calm = snap.entrants
    assert wild.status == DIVERGED and len(wild.history.epochs) < 40
    assert calm.status == COMPLETED and len(calm.history.epochs) == 40
    assert all(math.isfinite(v) for v in wild.history.train_loss)


def test_stop_ends_the_race_and_keeps_what_was_trained():
    race = Race((("a", entrant(0.01, epochs=100_000)), ("b", entrant(0.02, epochs=100_000)))).start()
    deadline = time.monotonic() + 10
    while race.snapshot().epoch < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    race.stop()
    race.join(5)
    snap = race.snapshot()
    assert snap.status == STOPPED and all(r.status == STOPPED and r.final for r in snap.entrants)


def test_nobody_watching_stops_the_race():
    race = Race((("a", entrant(0.01, epochs=100_000)),), idle_end=0.2).start()
    race.join(10)
    snap = race.snapshot()
    assert snap.status == STOPPED and "nobody watched" in snap.message


def test_a_config_the_engine_refuses_fails_with_its_reason():
    huge_batch = TrainConfig.from_dict({"dataset": {"name": "spiral", "classes": 10, "n_per_class": 5000},
                                        "layers": [{"type": "linear", "out": 2000}, {"type": "relu"},
                                                   {"type": "linear", "out": 2000}, {"type": "linear"}],
                                        "batch_size": 0, "device": "cpu"})
    ended = []
    snap = finish(Race((("big", huge_batch),), on_end=ended.append))
    assert snap.status == FAILED and "Cannot race" in snap.message and "batch size" in snap.message
    assert ended == []  # nothing trained, nothing to save


def test_on_end_sees_the_final_race_before_its_status_changes_and_failures_are_reported():
    seen = []
    race = Race((("a", entrant(0.01, epochs=3)),),
                on_end=lambda snap: seen.append((snap.status, race.snapshot().status)))
    snap = finish(race)
    assert seen == [(COMPLETED, "running")] and snap.status == COMPLETED

    def broken(snap):
        raise OSError("read-only file system")

    snap = finish(Race((("a", entrant(0.01, epochs=3)),), on_end=broken))
    assert snap.status == COMPLETED and "could not be saved" in snap.message


def test_a_race_over_the_budget_fails_at_once_saying_why():
    big = TrainConfig.from_dict({"dataset": {"name": "spiral", "classes": 10, "n_per_class": 5000},
                                 "layers": [{"type": "linear", "out": 2000}, {"type": "relu"}, {"type": "linear"}],
                                 "epochs": 100_000})
    snap = finish(Race((("big", big), ("small", entrant(0.01))), budget_minutes=30))
    assert snap.status == FAILED and snap.epoch == 0
    assert snap.message.startswith("This race would take about ") and "at most 30 minutes" in snap.message
    assert finish(Race((("small", entrant(0.01)),), budget_minutes=30)).status == COMPLETED


def test_each_entrant_keeps_a_short_timeline_handed_out_once_the_race_is_over():
    race = Race((("short", entrant(0.01, epochs=3)), ("long", entrant(0.01, epochs=300))))
    race.start()
    while race.active:
        live = race.snapshot()
        if any(racer.status in ACTIVE for racer in live.entrants):  # live snapshots stay small
            assert not any(racer.timeline.frames for racer in live.entrants)
        time.sleep(0.01)
    race.join(5)
    short, long = race.snapshot().entrants
    assert short.timeline.epochs == (0, 1, 2, 3)
    assert long.timeline.epochs[0] == 0 and long.timeline.epochs[-1] == 300
    assert len(long.timeline.frames) <= RACE_FRAMES
    assert long.timeline.final.classes.shape == (GRID_SIZE, GRID_SIZE)


def test_a_stopped_entrant_keeps_the_frame_where_it_ended():
    race = Race((("a", entrant(0.01, epochs=100_000)),)).start()
    deadline = time.monotonic() + 10
    while race.snapshot().epoch < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    race.stop()
    race.join(10)
    (racer,) = race.snapshot().entrants
    assert racer.status == STOPPED and racer.timeline.epochs[-1] == racer.history.epochs[-1]
