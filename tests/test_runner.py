"""TrainingRunner: a worker thread obeying pause/step/stop/lr, a watchdog, and frozen picklable snapshots."""
import dataclasses
import logging
import pickle
import threading
import time

import pytest
import torch

from playground import progress
from playground import runner as runner_module
from playground.config import TrainConfig
from playground.engine import Engine, EpochEnd
from playground.frames import BoundaryFrame, CurveFrame
from playground.progress import History, Snapshot
from playground.runner import TrainingRunner

TINY = {"dataset": {"name": "spiral", "classes": 3, "n_per_class": 20, "noise": 0.2, "seed": 1},
        "layers": [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}],
        "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 20, "seed": 1, "device": "cpu"}
LONG = {**TINY, "epochs": 100_000}  # never finishes within a test: it gets paused or stopped
DIVERGING = {"dataset": {"name": "linear_regression"}, "layers": [{"type": "linear"}], "loss": "mse",
             "optimizer": {"name": "sgd", "lr": 10.0}, "epochs": 200, "device": "cpu"}


def wait_until(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def finished(runner: TrainingRunner, timeout: float = 15.0) -> Snapshot:
    assert wait_until(lambda: not runner.snapshot().active, timeout), "the run did not end"
    runner.join(timeout=5)
    return runner.snapshot()


def test_runner_completes_a_tiny_config(launch):
    snap = finished(launch(TINY))
    assert snap.status == "completed" and not snap.active
    assert snap.epoch == snap.epochs == 20
    assert snap.message == "Completed 20 epochs."
    expected = {"epochs", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "epochs_per_second"}
    assert expected <= set(snap.final)
    assert snap.final["epochs"] == 20
    history = snap.history
    assert history.epochs == tuple(range(1, 21)) and len(history.train_loss) == 20
    assert history.eval_epochs == tuple(range(1, 21))  # a short run is evaluated every epoch
    assert len(history.train_score) == len(history.test_loss) == len(history.test_score) == 20
    assert isinstance(snap.frame, BoundaryFrame) and snap.frame.epoch == 20


def test_regression_run_shows_a_curve_frame(launch):
    data = {**DIVERGING, "optimizer": {"name": "sgd", "lr": 0.01}, "epochs": 10}
    snap = finished(launch(data))
    assert snap.status == "completed"
    assert isinstance(snap.frame, CurveFrame)
    assert len(snap.history.train_score) == len(snap.history.eval_epochs) == 10
    assert snap.history.test_loss == () and snap.history.test_score == ()


def test_long_run_records_scores_only_on_evaluated_epochs(launch):
    runner = launch(LONG)
    assert wait_until(lambda: runner.snapshot().epoch >= 5)
    runner.pause()
    assert wait_until(lambda: runner.snapshot().status == "paused")
    history = runner.snapshot().history
    assert history.epochs == tuple(range(1, len(history.epochs) + 1))
    assert len(history.train_loss) == len(history.epochs)
    assert history.eval_epochs[0] == 1 and set(history.eval_epochs) <= set(history.epochs)
    assert len(history.eval_epochs) < len(history.epochs)
    assert len(history.train_score) == len(history.test_loss) == len(history.test_score) == len(history.eval_epochs)


def test_pause_stops_progress_and_resume_continues(launch):
    runner = launch(LONG)
    assert wait_until(lambda: runner.snapshot().epoch > 0)
    runner.pause()
    assert wait_until(lambda: runner.snapshot().status == "paused")
    paused_at = runner.snapshot().epoch
    time.sleep(0.3)
    snap = runner.snapshot()
    assert snap.epoch == paused_at and snap.active
    runner.resume()
    assert wait_until(lambda: runner.snapshot().epoch > paused_at)
    assert runner.snapshot().status == "running"


def test_start_paused_then_step_advances_exactly_one_epoch(launch):
    runner = launch(LONG, paused=True)
    assert wait_until(lambda: runner.snapshot().status == "paused")
    assert runner.snapshot().epoch == 0
    runner.step()
    assert wait_until(lambda: runner.snapshot().epoch == 1)
    time.sleep(0.3)
    snap = runner.snapshot()
    assert snap.epoch == 1 and snap.status == "paused"
    assert snap.history.epochs == (1,)
    assert snap.frame is not None and snap.frame.epoch == 1
    runner.step(3)
    assert wait_until(lambda: runner.snapshot().epoch == 4)
    time.sleep(0.2)
    assert runner.snapshot().epoch == 4


def test_step_while_running_pauses_after_the_step(launch):
    runner = launch(LONG)
    assert wait_until(lambda: runner.snapshot().epoch > 0)
    runner.step()
    assert wait_until(lambda: runner.snapshot().status == "paused")
    stepped_to = runner.snapshot().epoch
    time.sleep(0.3)
    assert runner.snapshot().epoch == stepped_to


def test_stop_ends_with_status_stopped(launch):
    runner = launch(LONG)
    assert wait_until(lambda: runner.snapshot().epoch > 2)
    runner.stop()
    runner.join(timeout=10)
    snap = runner.snapshot()
    assert snap.status == "stopped" and not snap.active
    assert snap.message == "Stopped."
    assert snap.final is not None and snap.final["epochs"] == snap.epoch > 2


def test_after_stop_the_final_frame_shows_the_final_epoch(launch):
    runner = launch(LONG, frame_interval=3600)  # no frame after the first: a stop always falls between frames
    assert wait_until(lambda: runner.snapshot().epoch > 2)
    runner.stop()
    snap = finished(runner)
    assert snap.status == "stopped" and snap.frame.epoch == snap.epoch > 2


def test_stop_while_paused_ends_the_run(launch):
    runner = launch(LONG, paused=True)
    assert wait_until(lambda: runner.snapshot().status == "paused")
    runner.stop()
    runner.join(timeout=10)
    snap = runner.snapshot()
    assert snap.status == "stopped" and snap.epoch == 0


def test_set_learning_rate_takes_effect_in_the_engine(launch, monkeypatch):
    used: list[float] = []

    class Recording(Engine):
        def run(self):
            for event in super().run():
                if isinstance(event, EpochEnd):
                    used.append(event.lr)
                yield event

    monkeypatch.setattr(runner_module, "Engine", Recording)
    runner = launch(LONG, paused=True)
    assert wait_until(lambda: runner.snapshot().status == "paused")
    runner.step()
    assert wait_until(lambda: runner.snapshot().epoch == 1)
    runner.set_learning_rate(0.05)
    assert runner.requested_lr == 0.05 and runner.snapshot().lr == 0.01  # applies from the next epoch
    runner.step()
    assert wait_until(lambda: runner.snapshot().epoch == 2)
    assert used == [0.01, 0.05] and runner.snapshot().lr == 0.05


class FrozenClock:
    """A pace clock that never moves: a watched run, once ahead of its pace, waits until told otherwise.
    Counts its reads, so a test sees the run waiting (it rereads the clock each time it wakes up)."""

    def __init__(self):
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return 0.0


def waiting_for_its_pace(launch, clock: FrozenClock) -> TrainingRunner:
    """A watched run that trained its first epoch and now waits for the pace (forever, by this clock)."""
    runner = launch(TINY, pace="watch", pace_clock=clock)
    assert wait_until(lambda: clock.reads > 10), "the run never waited for its pace"
    assert runner.snapshot().epoch == 1 and runner.pace == "watch"
    return runner


def test_a_watched_run_waits_for_its_pace_between_epochs(launch):
    clock = FrozenClock()
    runner = waiting_for_its_pace(launch, clock)
    reads = clock.reads
    assert wait_until(lambda: clock.reads > reads + 5)  # still waiting, still on its first epoch
    snap = runner.snapshot()
    assert (snap.epoch, snap.status) == (1, "running")


def test_the_default_pace_is_fast_and_never_waits(launch):
    clock = FrozenClock()
    runner = launch(TINY, pace_clock=clock)
    snap = finished(runner)
    assert (snap.status, snap.epoch, runner.pace) == ("completed", 20, "fast")
    assert clock.reads == 0  # the CLI's and benchmarks' path: not even a look at the clock


def test_switching_to_fast_mid_run_ends_the_wait(launch):
    runner = waiting_for_its_pace(launch, FrozenClock())
    runner.set_pace("fast")
    snap = finished(runner)
    assert (snap.status, snap.epoch, runner.pace) == ("completed", 20, "fast")


def test_pause_and_stop_take_effect_while_a_run_waits_for_its_pace(launch):
    runner = waiting_for_its_pace(launch, FrozenClock())
    runner.pause()
    assert wait_until(lambda: runner.snapshot().status == "paused")
    runner.set_pace("fast")  # a paused run stays paused whatever its pace
    time.sleep(0.1)
    assert runner.snapshot().status == "paused" and runner.snapshot().epoch == 1
    runner.set_pace("watch")
    runner.resume()
    assert wait_until(lambda: runner.snapshot().status == "running")
    runner.stop()
    snap = finished(runner)
    assert snap.status == "stopped" and snap.epoch == 1


def test_an_unknown_pace_is_refused_and_the_run_keeps_its_pace(launch):
    runner = launch(LONG, paused=True, pace="watch")
    with pytest.raises(ValueError, match="unknown pace"):
        runner.set_pace("slow")
    assert runner.pace == "watch"


def test_diverging_run_ends_diverged_with_advice_on_the_learning_rate(launch):
    snap = finished(launch(DIVERGING))
    assert snap.status == "diverged"
    assert "learning rate" in snap.message
    assert snap.epoch == snap.history.epochs[-1] - 1  # the weights the last finite loss was measured on
    assert snap.history.epochs[-1] < 200
    assert snap.final is not None and snap.final["epochs"] == snap.epoch


def test_run_that_fails_in_the_worker_ends_failed_without_raising(launch, monkeypatch, caplog):
    escaped = []
    monkeypatch.setattr(threading, "excepthook", lambda args: escaped.append(args))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with caplog.at_level(logging.ERROR, logger="playground.runner"):
        snap = finished(launch({**TINY, "device": "cuda"}))
    assert snap.status == "failed"
    assert snap.message.startswith("Training failed: ValueError:")
    assert "cuda is not available" in snap.message
    assert snap.final is None and snap.epoch == 0
    assert escaped == []
    assert any("training failed" in record.getMessage() for record in caplog.records)


def test_watchdog_pauses_a_run_nobody_watches(launch):
    started = time.monotonic()
    runner = launch(LONG, idle_pause=0.2)
    assert wait_until(lambda: runner.paused)  # polls without snapshot(): nobody is watching
    assert time.monotonic() - started >= 0.2
    snap = runner.snapshot()
    assert snap.status == "paused"
    assert "nobody was watching" in snap.message
    time.sleep(0.2)
    assert runner.snapshot().epoch == snap.epoch


def test_watchdog_ends_a_run_abandoned_for_idle_end(launch):
    runner = launch(LONG, idle_pause=0.1, idle_end=0.3)
    runner.join(timeout=10)
    snap = runner.snapshot()
    assert snap.status == "stopped"
    assert "nobody watched this run" in snap.message


def test_snapshots_are_frozen_tuples(launch):
    snap = finished(launch(TINY))
    assert isinstance(snap.history, History)
    for field in dataclasses.fields(History):
        assert isinstance(getattr(snap.history, field.name), tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.status = "running"
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.history.epochs = ()


def test_snapshots_do_not_change_after_they_are_taken(launch):
    runner = launch(LONG)
    assert wait_until(lambda: runner.snapshot().epoch >= 3)
    early = runner.snapshot()
    length = len(early.history.epochs)
    assert wait_until(lambda: runner.snapshot().epoch > early.epoch + 3)
    assert len(early.history.epochs) == length


def test_snapshots_are_picklable(launch):
    runner = launch(LONG)
    assert wait_until(lambda: runner.snapshot().epoch >= 2)
    live = pickle.loads(pickle.dumps(runner.snapshot()))
    assert live.status in ("running", "paused") and live.epoch >= 2
    runner.stop()
    runner.join(timeout=10)
    snap = runner.snapshot()
    copy = pickle.loads(pickle.dumps(snap))
    assert copy.history == snap.history
    assert (copy.status, copy.epoch, copy.epochs, copy.lr, copy.final, copy.message) == (
        snap.status, snap.epoch, snap.epochs, snap.lr, snap.final, snap.message)
    assert (copy.frame.classes == snap.frame.classes).all()


def test_active_property_agrees_with_snapshots(launch):
    runner = launch(LONG)
    assert wait_until(lambda: runner.snapshot().epoch > 0)
    assert runner.active and runner.snapshot().active
    runner.pause()
    assert wait_until(lambda: runner.snapshot().status == "paused")
    assert runner.active
    runner.stop()
    runner.join(timeout=10)
    assert not runner.active and not runner.snapshot().active


# --- image runs: pause and stop between batches, Step mid-epoch, images/s, image frames ----------

import numpy as np  # noqa: E402

from playground.frames import ImageFrame  # noqa: E402

TINY_CNN = [{"type": "conv2d", "out": 4, "kernel": 3, "padding": 1}, {"type": "relu"}, {"type": "flatten"},
            {"type": "linear"}]
# One image per batch: an epoch of the 1,438 training digits is ~1,400 batches (about half a second).
SLOW_IMAGES = {"dataset": {"name": "digits", "test_images": 100}, "layers": TINY_CNN, "batch_size": 1,
               "optimizer": {"name": "adam", "lr": 0.001}, "epochs": 3, "seed": 1, "device": "cpu"}
IMAGES = {**SLOW_IMAGES, "dataset": {"name": "digits", "train_images": 400, "test_images": 100}, "batch_size": 8}
CLASSIC_CNN = [{"type": "conv2d", "out": 32, "kernel": 3, "padding": 1}, {"type": "relu"},
               {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear"}]


@pytest.fixture
def prepare():
    """Runners built but not started (so a test can wrap their methods); stopped and joined afterwards."""
    made: list[TrainingRunner] = []

    def make(data: dict, **options) -> TrainingRunner:
        runner = TrainingRunner(TrainConfig.from_dict(data), **options)
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.stop()
        if runner._thread.ident is not None:  # started
            runner.join(timeout=15)
    leaked = [thread for thread in threading.enumerate() if thread.name == "training"]
    assert not leaked, "a training thread outlived its test"


def batches_seen(runner: TrainingRunner) -> int:
    return len(runner.snapshot().history.batch_epochs)


def test_pause_takes_effect_mid_epoch_and_resume_continues(launch):
    runner = launch(SLOW_IMAGES)
    assert wait_until(lambda: batches_seen(runner) >= 1)
    runner.pause()
    assert runner.paused
    assert wait_until(lambda: runner.snapshot().status == "paused", timeout=2.0)  # within a batch, not an epoch
    paused = runner.snapshot()
    assert paused.epoch == 0 and paused.history.epochs == ()
    assert 0 < paused.history.batch_epochs[-1] < 1
    assert len(paused.history.batch_loss) == len(paused.history.batch_epochs)
    time.sleep(0.3)
    still = runner.snapshot()
    assert still.status == "paused" and still.epoch == 0
    assert still.history.batch_epochs == paused.history.batch_epochs
    runner.resume()
    assert wait_until(lambda: batches_seen(runner) > len(paused.history.batch_epochs))
    assert runner.snapshot().status == "running"
    batch_epochs = runner.snapshot().history.batch_epochs
    assert all(b > a for a, b in zip(batch_epochs, batch_epochs[1:]))


def test_pause_from_a_progress_report_stops_before_the_next_batch(prepare):
    runner = prepare(SLOW_IMAGES)
    reported: list[int] = []
    original = runner._record_batch_progress

    def progress_then_pause(event):
        original(event)
        if not reported:
            reported.append(event.samples)
            runner.pause()

    runner._record_batch_progress = progress_then_pause
    runner.start()
    assert wait_until(lambda: runner.snapshot().status == "paused")
    time.sleep(0.2)
    assert runner.engine.samples == reported[0]  # not one more batch was trained
    assert runner.snapshot().epoch == 0


def test_pause_between_two_batches_trains_no_further_batch(prepare, monkeypatch):
    """A pause asked for while a batch without a progress report trains takes effect before the next batch."""
    runners: list[TrainingRunner] = []

    class PausingDuringTheThirdBatch(Engine):
        def run(self):
            for number, event in enumerate(super().run(), 1):
                if number == 3:  # the third batch has trained: Pause is pressed before the runner sees it
                    assert type(event).__name__ == "BatchEnd"
                    runners[0].pause()
                yield event

    monkeypatch.setattr(runner_module, "Engine", PausingDuringTheThirdBatch)
    runner = prepare(IMAGES)  # 8 images per batch, a progress report every second batch
    runners.append(runner)
    runner.start()
    assert wait_until(lambda: runner.snapshot().status == "paused")
    time.sleep(0.2)
    assert runner.engine.samples == 3 * 8
    assert runner.snapshot().history.batch_epochs == (2 / 50,)  # the one report before the pause
    runner.resume()
    assert wait_until(lambda: runner.snapshot().epoch >= 1)


def test_stop_while_paused_mid_epoch_ends_quickly(launch):
    runner = launch(SLOW_IMAGES)
    assert wait_until(lambda: batches_seen(runner) >= 1)
    runner.pause()
    assert wait_until(lambda: runner.snapshot().status == "paused", timeout=2.0)
    assert runner.snapshot().epoch == 0
    stopped_at = time.monotonic()
    runner.stop()
    runner.join(timeout=5)
    assert time.monotonic() - stopped_at < 5
    snap = runner.snapshot()
    assert snap.status == "stopped" and not snap.active
    assert snap.message == "Stopped."
    assert snap.final is not None and snap.final["test_accuracy"] is not None
    assert runner.engine.samples < len(runner.engine.dataset.y_train)  # the epoch was cut short


def test_step_while_paused_mid_epoch_finishes_that_epoch_then_pauses(launch):
    runner = launch(SLOW_IMAGES)
    assert wait_until(lambda: batches_seen(runner) >= 1)
    runner.pause()
    assert wait_until(lambda: runner.snapshot().status == "paused", timeout=2.0)
    assert runner.snapshot().epoch == 0
    runner.step()
    assert wait_until(lambda: runner.snapshot().epoch == 1)
    assert wait_until(lambda: runner.snapshot().status == "paused")
    snap = runner.snapshot()
    seen = len(snap.history.batch_epochs)
    time.sleep(0.3)
    later = runner.snapshot()
    assert later.epoch == 1 and later.status == "paused"
    assert later.history.epochs == (1,)
    assert len(later.history.batch_epochs) == seen and all(e < 1 for e in later.history.batch_epochs)
    assert runner.engine.samples == len(runner.engine.dataset.y_train)  # the whole epoch, not cut short
    assert isinstance(later.frame, ImageFrame) and later.frame.epoch == 1


def test_image_run_reports_samples_per_second_and_batch_history(launch):
    runner = launch({**IMAGES, "epochs": 1000})
    assert wait_until(lambda: runner.snapshot().samples_per_second > 0)
    snap = runner.snapshot()
    assert snap.status == "running"
    assert snap.samples_per_second > snap.epochs_per_second > 0
    assert wait_until(lambda: len(runner.snapshot().history.batch_epochs) >= 2)
    history = runner.snapshot().history
    assert len(history.batch_loss) == len(history.batch_epochs)
    assert all(np.isfinite(history.batch_loss)) and all(loss > 0 for loss in history.batch_loss)


def test_image_run_ends_with_an_image_frame_of_the_test_predictions(launch):
    snap = finished(launch(IMAGES))
    assert snap.status == "completed" and snap.epoch == 3
    frame = snap.frame
    assert isinstance(frame, ImageFrame) and frame.epoch == 3
    assert len(frame.predicted) == len(frame.confidence) == 100
    assert frame.predicted.min() >= 0 and frame.predicted.max() <= 9
    assert ((frame.confidence > 0) & (frame.confidence <= 1)).all()
    assert frame.filters.shape == (4, 1, 3, 3)
    assert snap.samples_per_second >= 0 and snap.final["test_accuracy"] is not None
    assert len(snap.history.batch_epochs) > 0  # 50 batches per epoch: progress reports came in


def test_image_frame_comes_after_the_first_epoch(launch):
    runner = launch(IMAGES, paused=True)
    assert wait_until(lambda: runner.snapshot().status == "paused")
    assert runner.snapshot().frame is None  # nothing evaluated yet
    runner.step()
    assert wait_until(lambda: runner.snapshot().epoch == 1 and runner.snapshot().frame is not None)
    frame = runner.snapshot().frame
    assert isinstance(frame, ImageFrame) and frame.epoch == 1
    assert len(frame.predicted) == len(runner.engine.dataset.y_test) == 100


def test_batch_too_large_for_memory_fails_with_cannot_train(launch):
    data = {"dataset": {"name": "mnist"}, "layers": CLASSIC_CNN, "batch_size": 0, "device": "cpu"}
    assert TrainConfig.from_dict(data).batch_size == 0
    snap = finished(launch(data))
    assert snap.status == "failed"
    assert snap.message.startswith("Cannot train:")
    assert "batch size" in snap.message
    assert snap.final is None and snap.epoch == 0


def test_initial_state_is_used_and_shown_before_training(launch):
    config = TrainConfig.from_dict(IMAGES)
    trained = Engine(config)
    list(trained.run())
    trained.evaluate("test")
    runner = launch(IMAGES, paused=True, initial_state=trained.model.state_dict())
    assert wait_until(lambda: runner.snapshot().status == "paused")
    frame = runner.snapshot().frame
    assert isinstance(frame, ImageFrame) and frame.epoch == 0  # the loaded model, evaluated before training
    np.testing.assert_array_equal(frame.predicted, trained.test_predictions[0])
    np.testing.assert_allclose(frame.confidence, trained.test_predictions[1], rtol=1e-5)
    np.testing.assert_array_equal(frame.filters, trained.first_conv_filters())
    runner.step()
    assert wait_until(lambda: runner.snapshot().epoch == 1)


def test_on_end_gets_the_final_snapshot_before_the_status_changes(tiny_spiral):
    seen = []

    def on_end(snap):
        seen.append((snap.status, snap.final is not None, runner.snapshot().status))

    runner = TrainingRunner(tiny_spiral, on_end=on_end).start()
    runner.join(30)
    assert seen == [("completed", True, "running")]  # the run still looks unfinished while it is saved
    assert runner.snapshot().status == "completed"


def test_a_failing_on_end_is_reported_in_the_message_not_raised(tiny_spiral):
    def on_end(snap):
        raise OSError("disk full")

    runner = TrainingRunner(tiny_spiral, on_end=on_end).start()
    runner.join(30)
    snap = runner.snapshot()
    assert snap.status == "completed" and "could not be saved" in snap.message and "disk full" in snap.message


def test_a_run_over_the_budget_fails_at_once_saying_why(launch):
    runner = launch({**TINY, "dataset": {"name": "spiral", "classes": 10, "n_per_class": 5000},
                     "layers": [{"type": "linear", "out": 2000}, {"type": "relu"}, {"type": "linear"}],
                     "epochs": 100_000}, budget_minutes=30)
    assert wait_until(lambda: not runner.active)
    snap = runner.snapshot()
    assert snap.status == "failed" and snap.epoch == 0 and runner.engine is None
    assert snap.message.startswith("This run would take about ") and "at most 30 minutes here" in snap.message


def test_a_run_within_the_budget_trains(launch):
    runner = launch(TINY, budget_minutes=30)
    assert wait_until(lambda: not runner.active)
    assert runner.snapshot().status == "completed"


def test_a_finished_run_keeps_no_training_copies_of_its_weights(launch):
    runner = launch(TINY)
    assert wait_until(lambda: not runner.active)
    engine = runner.engine
    assert engine._verified is None and engine._epoch_start is None and not engine.optimizer.state
    assert engine.evaluate("test").accuracy == runner.snapshot().final["test_accuracy"]


def test_one_run_per_owner_a_newer_run_stops_the_previous_one(launch):
    owners = progress.Owners()
    first, other = launch(LONG), launch(LONG)
    owners.claim("browser-a", first, progress.REPLACED)
    owners.claim("browser-b", other, progress.REPLACED)
    second = launch(LONG)
    owners.claim("browser-a", second, progress.REPLACED)
    assert wait_until(lambda: not first.active)
    assert first.snapshot().message == progress.REPLACED and "one run at a time per browser" in first.snapshot().message
    assert second.active and other.active
    owners.claim(None, launch(TINY), progress.REPLACED)  # no owner: nothing is stopped
    assert second.active


def test_owners_do_not_keep_forgotten_runs_alive():
    import gc
    import weakref

    owners, run = progress.Owners(), TrainingRunner(TrainConfig.from_dict(TINY))
    owners.claim("browser", run, "replaced")
    gone = weakref.ref(run)
    del run
    gc.collect()
    assert gone() is None


# --- issue 16: a twin taken between epochs goes on exactly as a solo run with the same commands -----------

def twin_of(runner: TrainingRunner, then: tuple = ()) -> TrainingRunner:
    twins = []
    runner.fork(twins.append, then)
    assert wait_until(lambda: twins, 30), "no twin was made"
    return twins[0]


def test_a_twin_of_a_paused_run_steered_on_its_own_equals_a_solo_run_with_the_same_commands():
    config = TrainConfig.from_dict({**TINY, "epochs": 30})
    solo = TrainingRunner(config).start(paused=True)
    solo.step(5)
    assert wait_until(lambda: solo.snapshot().epoch == 5 and solo.snapshot().status == progress.PAUSED)
    solo.set_learning_rate(0.05)
    solo.resume()
    original = TrainingRunner(config).start(paused=True)
    original.step(5)
    assert wait_until(lambda: original.snapshot().epoch == 5 and original.snapshot().status == progress.PAUSED)
    twin = twin_of(original)
    assert twin.paused and twin.snapshot().epoch == 5 and twin.snapshot().history == original.snapshot().history
    twin.set_learning_rate(0.05)  # its own command, before it starts: as the solo run's
    twin.start(paused=twin.paused)
    twin.resume()
    assert finished(twin).history == finished(solo).history
    assert original.snapshot().status == progress.PAUSED and original.snapshot().epoch == 5  # untouched
    original.stop()
    finished(original)


def test_a_twin_taken_while_running_and_the_original_end_as_one_solo_run():
    config = TrainConfig.from_dict({**TINY, "epochs": 400})
    solo = finished(TrainingRunner(config).start(), 60)
    original = TrainingRunner(config).start()
    assert wait_until(lambda: original.snapshot().epoch > 0)
    twin = twin_of(original, then=(("set_learning_rate", (0.001,)),))  # the original's own command follows it
    fork_epoch = twin.snapshot().epoch
    twin.start(paused=twin.paused)
    assert finished(twin, 60).history == solo.history
    steered = finished(original, 60).history
    assert steered.train_loss[:fork_epoch] == solo.history.train_loss[:fork_epoch]
    if fork_epoch < 400:
        assert steered.train_loss[fork_epoch:] != solo.history.train_loss[fork_epoch:]


def test_a_twin_asked_for_before_the_start_trains_as_the_run_does():
    config = TrainConfig.from_dict({**TINY, "epochs": 3})
    original = TrainingRunner(config)
    twins = []
    original.fork(twins.append)
    original.start()
    finished(original)
    (twin,) = twins
    twin.start(paused=twin.paused)
    snap = finished(twin)
    assert snap.status == progress.COMPLETED and snap.history == original.snapshot().history


def test_a_twin_asked_for_mid_epoch_waits_for_the_boundary_and_a_stop_is_one():
    config = TrainConfig.from_dict({**LONG, "batch_size": 1, "dataset": {**TINY["dataset"], "n_per_class": 400}})
    original = TrainingRunner(config).start()
    assert wait_until(lambda: original.snapshot().history.batch_epochs)
    original.pause()  # paused at a batch, mid-epoch: no twin can be taken there
    assert wait_until(lambda: original.snapshot().status == progress.PAUSED)
    twins = []
    original.fork(twins.append)
    time.sleep(0.3)
    assert twins == []
    original.stop()  # the stop ends the epoch with the batch trained: that is where the twin starts
    snap = finished(original)
    (twin,) = twins
    assert twin.snapshot().epoch == snap.epoch and twin.snapshot().history.train_loss == snap.history.train_loss


@pytest.mark.parametrize("report", ["Downloading ResNet-18's ImageNet weights: 1 of 2 MB",
                                    "Downloading CIFAR-10: 1 of 163 MB",
                                    "Preparing the Draw page's MNIST model (once on this machine): Loading MNIST…"])
def test_a_download_while_the_engine_is_built_shows_in_the_status_then_clears(report):
    from playground import cifar, default_model, download, pretrained

    assert report.startswith((pretrained.DOWNLOADING, cifar.DOWNLOADING, default_model.PREPARING))
    seen = []

    def building(runner: TrainingRunner) -> Engine:  # as a start_from download would, while the engine is built
        download.report(report)
        seen.append((runner.snapshot().status, runner.snapshot().message))
        return Engine(runner.config)

    runner = TrainingRunner(TrainConfig.from_dict({**TINY, "epochs": 3}), engine_factory=building).start()
    runner.join(60)
    assert seen == [(progress.STARTING, report)]
    assert runner.snapshot().status == progress.COMPLETED and report not in runner.snapshot().message
