"""Training engine: learning, reproducibility, evaluation cadence, mini-batches, divergence, the seed facts."""
import math

import numpy as np
import pytest
import torch

from playground.config import TrainConfig
from playground.datasets import Dataset
from playground.engine import MAX_TEST_POINTS, Diverged, Engine, EpochEnd, Metrics
from playground.layers import LayerError
from playground.model import Standardize, plan_for
from playground.tasks import REGRESSION

TINY = {"dataset": {"name": "spiral", "classes": 3, "n_per_class": 20, "noise": 0.2, "seed": 1},
        "layers": [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}],
        "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 20, "seed": 1, "device": "cpu"}


def tiny(**changes) -> TrainConfig:
    data = {**TINY, **changes}
    if "dataset" in changes:
        data["dataset"] = {**TINY["dataset"], **changes["dataset"]}
    return TrainConfig.from_dict(data)


def line(lr: float = 0.01, epochs: int = 1000, **changes) -> TrainConfig:
    """The classic y = 2x: four points, one Linear, MSE, SGD."""
    return TrainConfig.from_dict({"dataset": {"name": "linear_regression"}, "layers": [{"type": "linear"}],
                                  "loss": "mse", "optimizer": {"name": "sgd", "lr": lr}, "epochs": epochs,
                                  "device": "cpu", **changes})


def weights(engine: Engine) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in engine.model.state_dict().items()}


def batch_sizes(engine: Engine) -> list[int]:
    """Record the batch size of every training forward pass of `engine.model`."""
    sizes: list[int] = []
    engine.model.register_forward_pre_hook(lambda module, args: sizes.append(len(args[0])) if module.training else None)
    return sizes


def test_loss_decreases_over_training(tiny_spiral):
    events = list(Engine(tiny_spiral).run())
    losses = [event.train.loss for event in events]
    assert losses[-1] < 0.9 * losses[0]
    assert sum(b < a for a, b in zip(losses, losses[1:])) >= 0.9 * (len(losses) - 1)


def test_run_yields_one_epoch_end_per_epoch(tiny_spiral):
    engine = Engine(tiny_spiral)
    events = list(engine.run())
    assert all(isinstance(event, EpochEnd) for event in events)
    assert [event.epoch for event in events] == list(range(1, 21))
    assert engine.epoch == 20
    assert list(engine.run()) == []


def test_epoch_end_reports_train_metrics_lr_and_time():
    engine = Engine(tiny())
    first, second = engine.train_epoch(), engine.train_epoch()
    assert isinstance(first.train, Metrics) and 0.0 <= first.train.accuracy <= 1.0
    assert first.train.score == first.train.accuracy and first.train.r2 is None
    assert first.lr == 0.01
    assert 0 < first.seconds <= second.seconds


@pytest.mark.parametrize("batch_size", [0, 10])
def test_same_seed_gives_identical_metrics_and_weights(batch_size):
    with torch.random.fork_rng(devices=[]):
        a = Engine(tiny(batch_size=batch_size))
        torch.rand(100)  # moving torch's global generator between the runs must not matter
        list(a.run())
        torch.manual_seed(999)
        b = Engine(tiny(batch_size=batch_size))
        list(b.run())
    assert a.final_metrics() == b.final_metrics()
    wa, wb = weights(a), weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_different_seed_gives_different_weights():
    a, b = Engine(tiny()), Engine(tiny(seed=2))
    list(a.run())
    list(b.run())
    wa, wb = weights(a), weights(b)
    assert not all(torch.equal(wa[k], wb[k]) for k in wa)


def test_same_seed_with_dropout_gives_identical_weights():
    config = tiny(layers=[{"type": "linear", "out": 16}, {"type": "dropout", "p": 0.5}, {"type": "relu"},
                          {"type": "linear"}], epochs=5)
    a, b = Engine(config), Engine(config)
    list(a.run())
    list(b.run())
    wa, wb = weights(a), weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_test_metrics_come_on_evaluated_epochs_first_and_last_always():
    config = tiny(epochs=752)
    engine = Engine(config)
    assert engine.eval_every == round(752 / MAX_TEST_POINTS) == 3
    events = list(engine.run())
    tested = [event.epoch for event in events if event.test is not None]
    assert tested[:4] == [1, 3, 6, 9]
    assert tested[-1] == 752 and 752 % 3 != 0
    assert all(epoch == 1 or epoch % 3 == 0 or epoch == 752 for epoch in tested)
    assert len(tested) <= MAX_TEST_POINTS + 2
    assert all(0.0 <= event.test.accuracy <= 1.0 for event in events if event.test is not None)
    scored = [event.epoch for event in events if event.train.score is not None]
    assert scored == tested  # train scores are measured on the same epochs
    assert all(math.isfinite(event.train.loss) for event in events)


def test_short_runs_evaluate_every_epoch(tiny_spiral):
    assert all(event.test is not None for event in Engine(tiny_spiral).run())


def test_no_test_split_means_no_test_metrics():
    engine = Engine(line(epochs=5))
    assert all(event.test is None for event in engine.run())
    assert engine.evaluate("test") is None
    assert engine.evaluate("train").mse is not None


def test_mini_batches_cover_the_training_set_once_per_epoch():
    engine = Engine(tiny(batch_size=16))
    sizes = batch_sizes(engine)
    engine.train_epoch()
    assert sum(sizes) == len(engine.dataset.x_train) == 48
    assert sizes == [16, 16, 16]


def test_final_batch_of_one_is_merged_so_batchnorm_trains():
    config = tiny(dataset={"test_fraction": 0.15}, batch_size=10, epochs=3,
                  layers=[{"type": "linear", "out": 8}, {"type": "batchnorm1d"}, {"type": "relu"}, {"type": "linear"}])
    engine = Engine(config)
    assert len(engine.dataset.x_train) == 51
    sizes = batch_sizes(engine)
    events = [event for event in engine.run() if isinstance(event, EpochEnd)]
    assert [event.epoch for event in events] == [1, 2, 3]
    assert sizes[:5] == [10, 10, 10, 10, 11] and len(sizes) == 15
    assert all(math.isfinite(event.train.loss) for event in events)


def test_batch_size_larger_than_the_data_is_full_batch():
    engine = Engine(tiny(batch_size=1000))
    sizes = batch_sizes(engine)
    engine.train_epoch()
    assert sizes == [48]


def test_interrupted_epoch_stops_between_batches():
    engine = Engine(tiny(batch_size=8))
    sizes = batch_sizes(engine)
    events = engine.run()
    next(events)  # the first batch's BatchEnd
    engine.cut_epoch_short()
    event = next(events)
    assert sizes == [8]
    assert isinstance(event, EpochEnd) and event.epoch == 1


def diverging(lr: float) -> TrainConfig:
    return line(lr=lr, epochs=200)


@pytest.mark.parametrize("lr", [5.0, 10.0])
def test_divergence_ends_the_run_and_restores_the_last_verified_weights(lr):
    """The loss seen in epoch k belongs to the weights after epoch k-1: those are restored."""
    engine = Engine(diverging(lr))
    events, states = [], {}
    for event in engine.run():
        events.append(event)
        if isinstance(event, EpochEnd):
            states[event.epoch] = weights(engine)
    assert isinstance(events[-1], Diverged)
    assert all(isinstance(event, EpochEnd) for event in events[:-1])
    last_good = events[-2].epoch
    assert events[-1].epoch == last_good + 1
    assert last_good >= 2 and engine.epoch == last_good - 1
    assert len(events) < 200
    restored = weights(engine)
    for key, value in restored.items():
        assert torch.isfinite(value).all()
        assert torch.equal(value, states[last_good - 1][key])
    assert "learning rate" in events[-1].message
    assert f"restored to epoch {last_good - 1}" in events[-1].message
    assert f"it was {lr:g}" in events[-1].message


def test_divergence_replaces_the_optimizer():
    engine = Engine(diverging(10.0))
    before = engine.optimizer
    assert isinstance(list(engine.run())[-1], Diverged)
    assert engine.optimizer is not before
    assert all(torch.isfinite(p).all() for p in engine.model.parameters())


def test_state_restored_after_divergence_has_a_finite_loss():
    engine = Engine(diverging(10.0))
    list(engine.run())
    assert engine.final_metrics()["train_loss"] is not None


def test_set_learning_rate_changes_the_next_epochs_lr():
    engine = Engine(tiny())
    assert engine.train_epoch().lr == 0.01
    engine.set_learning_rate(0.05)
    event = engine.train_epoch()
    assert event.lr == 0.05
    assert engine.optimizer.param_groups[0]["lr"] == 0.05


def test_schedule_applies_on_top_of_the_learning_rate():
    engine = Engine(tiny(schedule={"name": "step", "step_size": 2, "gamma": 0.5}, epochs=6))
    lrs = [event.lr for event in engine.run()]
    assert lrs == [0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025]


def test_predict_gives_class_probabilities_for_classification():
    engine = Engine(tiny())
    list(engine.run())
    p = engine.predict(engine.dataset.x_test)
    assert p.shape == (len(engine.dataset.x_test), 3) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_predict_gives_values_for_regression():
    engine = Engine(line(epochs=3))
    out = engine.predict(np.array([[1.0], [5.0], [7.0]]))
    assert out.shape == (3, 1) and out.dtype == np.float32


def test_final_metrics_for_classification():
    engine = Engine(tiny())
    list(engine.run())
    final = engine.final_metrics()
    assert set(final) == {"epochs", "train_loss", "test_loss", "train_accuracy", "test_accuracy"}
    assert final["epochs"] == 20
    assert all(isinstance(final[k], float) and math.isfinite(final[k]) for k in final if k != "epochs")
    assert final["test_accuracy"] == engine.evaluate("test").accuracy


def test_final_metrics_for_regression_without_a_test_split():
    engine = Engine(line(epochs=50))
    list(engine.run())
    final = engine.final_metrics()
    assert {"epochs", "train_loss", "test_loss", "r2", "train_r2", "train_mse", "test_r2", "test_mse"} <= set(final)
    assert final["test_loss"] is None and final["test_r2"] is None and final["test_mse"] is None
    assert final["r2"] == final["train_r2"] and final["r2"] > 0.9


def test_final_metrics_use_test_r2_when_there_is_a_test_split():
    engine = Engine(TrainConfig.from_dict({"dataset": {"name": "sine", "n_samples": 40, "test_fraction": 0.25},
                                           "layers": [{"type": "linear"}], "epochs": 5, "device": "cpu"}))
    list(engine.run())
    final = engine.final_metrics()
    assert final["test_r2"] is not None and final["r2"] == final["test_r2"]


def test_final_metrics_are_never_nan():
    flat = Dataset(name="linear_regression", task=REGRESSION,
                   x_train=np.array([[1.0], [2.0], [3.0]], dtype=np.float32),
                   y_train=np.full((3, 1), 5.0, dtype=np.float32),
                   x_test=np.zeros((0, 1), dtype=np.float32), y_test=np.zeros((0, 1), dtype=np.float32),
                   feature_names=("x",), class_names=(), standardize=False)
    engine = Engine(line(epochs=3), dataset=flat)
    list(engine.run())
    final = engine.final_metrics()
    assert final["train_r2"] is None and final["r2"] is None  # R^2 of constant targets is undefined
    assert not any(isinstance(v, float) and math.isnan(v) for v in final.values())


def test_standardised_dataset_gets_a_standardize_layer_with_training_statistics():
    engine = Engine(TrainConfig.from_dict({"dataset": {"name": "coffee_roast", "n_samples": 50},
                                           "epochs": 2, "device": "cpu"}))
    first = engine.model[0]
    assert isinstance(first, Standardize)
    np.testing.assert_allclose(first.mean.numpy(), engine.dataset.x_train.mean(axis=0), rtol=1e-4)


def test_plan_for_checks_the_stack_without_data():
    plan = plan_for(TrainConfig.from_dict({}))
    assert plan.output_shape == (3,) and plan.parameters == 603
    with pytest.raises(LayerError):
        plan_for(TrainConfig.from_dict({"layers": [{"type": "relu"}]}))
    with pytest.raises(LayerError):
        Engine(tiny(layers=[{"type": "tanh"}]))


# --- the seed facts: the reference numbers on the default spiral and y = 2x ---------------

def test_seed_fact_linear_model_on_the_spiral_stays_near_chance():
    engine = Engine(TrainConfig.from_dict({"layers": [{"type": "linear"}]}))
    list(engine.run())
    final = engine.final_metrics()
    assert final["epochs"] == 1000
    assert 0.35 < final["test_accuracy"] < 0.6


def test_seed_fact_relu_net_on_the_spiral_passes_90_percent():
    engine = Engine(TrainConfig.from_dict({}))
    list(engine.run())
    assert engine.final_metrics()["test_accuracy"] > 0.9


def test_seed_fact_linear_regression_predicts_about_10_for_5():
    engine = Engine(line(lr=0.01, epochs=1000))
    events = list(engine.run())
    assert len(events) == 1000
    assert abs(float(engine.predict(np.array([[5.0]]))[0, 0]) - 10.0) < 0.1


# --- image datasets: uint8 pixels, mini-batch progress, chunked evaluation, batch memory ------------

from playground.config import ConfigError, default_batch  # noqa: E402
from playground.engine import REPORTS_PER_EPOCH, BatchProgress  # noqa: E402
from playground.model import TRAIN_MEMORY, ImageNormalize, batch_memory_per_sample, batch_problem  # noqa: E402

SMALL_CNN = [{"type": "conv2d", "out": 8, "kernel": 3, "padding": 1}, {"type": "relu"},
             {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear"}]
CLASSIC_CNN = [{"type": "conv2d", "out": 32, "kernel": 3, "padding": 1}, {"type": "relu"},
               {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear"}]


def digits(layers=SMALL_CNN, **changes) -> TrainConfig:
    """8x8 digits with a small CNN; `dataset` changes merge into the dataset's settings."""
    dataset = {"name": "digits", **changes.pop("dataset", {})}
    return TrainConfig.from_dict({"dataset": dataset, "layers": layers, "optimizer": {"name": "adam", "lr": 0.01},
                                  "epochs": 3, "seed": 1, "device": "cpu", **changes})


@pytest.fixture(scope="module")
def digits_engine() -> Engine:
    """A small CNN trained 3 epochs on all 8x8 digits (about a second on one core)."""
    engine = Engine(digits())
    list(engine.run())
    return engine


def test_small_cnn_on_digits_passes_90_percent(digits_engine):
    assert digits_engine.epoch == 3
    assert digits_engine.final_metrics()["test_accuracy"] > 0.9


def test_image_engine_keeps_pixels_as_uint8_and_normalises_inside_the_model(digits_engine):
    dataset = digits_engine.dataset
    assert dataset.is_image and dataset.x_train.dtype == np.uint8
    assert digits_engine._train[0].dtype == torch.uint8 and digits_engine._test[0].dtype == torch.uint8
    assert tuple(digits_engine._train[0].shape[1:]) == (1, 8, 8)
    first = digits_engine.model[0]
    assert isinstance(first, ImageNormalize)
    mean, std = dataset.normalization
    assert float(first.mean) == pytest.approx(mean) and float(first.std) == pytest.approx(std)


def test_predict_takes_uint8_images_and_their_float_values_alike(digits_engine):
    x = digits_engine.dataset.x_test[:50]
    p = digits_engine.predict(x)
    assert p.shape == (50, 10) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(digits_engine.predict(x.astype(np.float32)), p, rtol=1e-6, atol=1e-7)


def test_test_predictions_are_the_argmax_and_confidence_of_predict(digits_engine):
    digits_engine.evaluate("test")
    labels, confidence = digits_engine.test_predictions
    p = digits_engine.predict(digits_engine.dataset.x_test)
    assert len(labels) == len(confidence) == len(digits_engine.dataset.y_test)
    np.testing.assert_array_equal(labels, p.argmax(axis=1))
    np.testing.assert_allclose(confidence, p.max(axis=1), rtol=1e-5)
    assert confidence.dtype == np.float32
    assert ((confidence > 0) & (confidence <= 1)).all()
    assert (confidence >= 0.1 - 1e-6).all()  # never below 1/C for the top class


def test_test_predictions_are_none_before_any_evaluation():
    engine = Engine(digits(dataset={"train_images": 100, "test_images": 50}))
    assert engine.test_predictions is None
    engine.evaluate("train")  # only the test split records predictions
    assert engine.test_predictions is None


def test_chunked_evaluation_equals_unchunked(digits_engine):
    engine = digits_engine
    whole = engine._eval_chunk
    assert whole >= len(engine.dataset.x_test)  # a model this small evaluates in one chunk
    x = engine.dataset.x_test
    try:
        expected, expected_labels, expected_p = engine.evaluate("test"), engine.test_predictions[0], engine.predict(x)
        engine._eval_chunk = 7
        chunked = engine.evaluate("test")
        chunked_train = engine.evaluate("train")
        chunked_p = engine.predict(x)
        engine._eval_chunk = whole
        train = engine.evaluate("train")
    finally:
        engine._eval_chunk = whole
    assert chunked.loss == pytest.approx(expected.loss, abs=1e-5)
    assert chunked.accuracy == pytest.approx(expected.accuracy, abs=1e-5)
    assert chunked_train.loss == pytest.approx(train.loss, abs=1e-5)
    assert chunked_train.accuracy == pytest.approx(train.accuracy, abs=1e-5)
    np.testing.assert_allclose(chunked_p, expected_p, atol=1e-5)
    engine.evaluate("test")
    np.testing.assert_array_equal(engine.test_predictions[0], expected_labels)


def test_eval_chunk_shrinks_for_models_with_large_activations():
    small = Engine(digits(dataset={"train_images": 100, "test_images": 50}))
    wide = Engine(digits(layers=[{"type": "conv2d", "out": 512, "kernel": 3, "padding": 1}, {"type": "flatten"},
                                 {"type": "linear"}], dataset={"train_images": 100, "test_images": 50}))
    assert 1 <= wide._eval_chunk < small._eval_chunk


def test_first_conv_filters_are_a_copy_of_the_first_conv_weights(digits_engine):
    filters = digits_engine.first_conv_filters()
    conv = digits_engine.model[1]
    assert isinstance(conv, torch.nn.Conv2d)
    assert filters.shape == (8, 1, 3, 3) and filters.dtype == np.float32
    np.testing.assert_array_equal(filters, conv.weight.detach().numpy())
    filters[:] = 0  # a copy: changing it leaves the model alone
    assert conv.weight.abs().sum() > 0


def test_first_conv_filters_are_none_without_a_conv():
    assert Engine(tiny()).first_conv_filters() is None


def test_initial_state_continues_from_another_engines_weights(digits_engine):
    state = digits_engine.model.state_dict()
    fresh = Engine(digits())
    continued = Engine(digits(), initial_state=state)
    x = digits_engine.dataset.x_test
    np.testing.assert_array_equal(continued.predict(x), digits_engine.predict(x))
    assert not np.array_equal(fresh.predict(x), digits_engine.predict(x))
    assert continued.epoch == 0
    assert continued.evaluate("test").accuracy == pytest.approx(digits_engine.evaluate("test").accuracy)
    event = continued.train_epoch()  # and it trains on from there
    assert isinstance(event, EpochEnd) and math.isfinite(event.train.loss)


def test_initial_state_of_another_architecture_is_refused(digits_engine):
    with pytest.raises(RuntimeError):
        Engine(digits(layers=[{"type": "flatten"}, {"type": "linear"}]), initial_state=digits_engine.model.state_dict())


def test_batch_progress_reports_about_reports_per_epoch_times_per_epoch():
    engine = Engine(digits(batch_size=8, epochs=2))
    n_train = len(engine.dataset.y_train)
    n_batches = math.ceil(n_train / 8)
    everything = list(engine.run())
    reports: list[BatchProgress] = [event for event in everything if isinstance(event, BatchProgress)]
    events = [event for event in everything if isinstance(event, EpochEnd)]
    assert [event.epoch for event in events] == [1, 2]
    assert all(isinstance(report, BatchProgress) for report in reports)
    for epoch in (0, 1):
        inside = [r for r in reports if epoch < r.epoch < epoch + 1]
        assert REPORTS_PER_EPOCH - 1 <= len(inside) <= 2 * REPORTS_PER_EPOCH
    assert all(not float(r.epoch).is_integer() for r in reports)  # epoch ends are EpochEnd's job
    epochs = [r.epoch for r in reports]
    assert all(b > a for a, b in zip(epochs, epochs[1:]))
    samples = [r.samples for r in reports]
    assert all(b > a for a, b in zip(samples, samples[1:]))
    for report in reports:
        done = int(report.epoch)
        within = report.samples - done * n_train
        assert 0 < within < n_train and within % 8 == 0
        assert report.epoch == pytest.approx(done + within / 8 / n_batches)
        assert math.isfinite(report.loss) and report.loss > 0
    assert engine.samples == 2 * n_train


def test_epoch_events_report_progress_too():
    engine = Engine(digits(batch_size=16))
    reports: list[BatchProgress] = [event for event in engine.epoch_events() if isinstance(event, BatchProgress)]
    assert len(reports) >= REPORTS_PER_EPOCH - 1
    assert all(0 < r.epoch < 1 for r in reports)
    engine.train_epoch()  # the same epoch's work, its batch events passed over
    assert engine.samples == 2 * len(engine.dataset.y_train)


@pytest.mark.parametrize("batch_size", [0, 200])
def test_no_batch_progress_for_epochs_of_fewer_than_ten_batches(batch_size):
    engine = Engine(digits(batch_size=batch_size, epochs=1))
    assert engine._batch_count() < 10
    reports: list[BatchProgress] = [event for event in engine.run() if isinstance(event, BatchProgress)]
    assert reports == []
    assert engine.samples == len(engine.dataset.y_train)


def test_batch_problem_names_the_batch_size_for_a_full_batch_of_full_mnist():
    config = TrainConfig.from_dict({"dataset": {"name": "mnist"}, "layers": CLASSIC_CNN, "batch_size": 0})
    assert config.batch_size == 0
    plan = plan_for(config)
    problem = batch_problem(plan, 0, 60000)
    assert problem is not None
    assert "full batch of 60,000 samples" in problem and "batch size" in problem
    most = TRAIN_MEMORY // batch_memory_per_sample(plan)
    assert f"at most {most:,}" in problem
    assert batch_problem(plan, 64, 60000) is None
    assert batch_problem(plan, most, 60000) is None
    assert batch_problem(plan, most + 1, 60000) is not None
    assert batch_problem(plan, 100_000, 1000) is None  # larger than the data means the whole (small) set


def test_batch_memory_per_sample_counts_outputs_gradients_and_copies():
    plan = plan_for(digits())
    assert batch_memory_per_sample(plan) == 3 * 4 * plan.activations_per_sample


def test_engine_refuses_a_batch_too_large_for_memory():
    config = TrainConfig.from_dict({"dataset": {"name": "mnist"}, "layers": CLASSIC_CNN, "batch_size": 0,
                                    "device": "cpu"})
    with pytest.raises(ConfigError) as caught:
        Engine(config)
    assert caught.value.key == "batch_size"
    assert "set the batch size to at most" in caught.value.message


def test_image_datasets_default_to_mini_batches_of_64():
    assert default_batch("digits") == default_batch("mnist") == default_batch("fashion_mnist") == 64
    assert default_batch("spiral") == 0
    assert TrainConfig.from_dict({"dataset": {"name": "digits"}, "layers": SMALL_CNN}).batch_size == 64
    assert TrainConfig.from_dict({}).batch_size == 0
    assert TrainConfig.from_dict({"dataset": {"name": "digits"}, "layers": SMALL_CNN, "batch_size": 0}).batch_size == 0


def test_same_seed_with_dropout2d_gives_identical_weights():
    layers = [{"type": "conv2d", "out": 4, "kernel": 3, "padding": 1}, {"type": "dropout2d", "p": 0.5},
              {"type": "relu"}, {"type": "flatten"}, {"type": "linear"}]
    config = digits(layers=layers, dataset={"train_images": 300, "test_images": 50}, batch_size=32, epochs=2)
    with torch.random.fork_rng(devices=[]):
        a = Engine(config)
        list(a.run())
        torch.manual_seed(999)  # the global generator's state must not matter
        b = Engine(config)
        list(b.run())
    assert a.final_metrics() == b.final_metrics()
    wa, wb = weights(a), weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    c = Engine(config.replace(seed=2))
    list(c.run())
    assert not torch.equal(weights(c)["1.weight"], wa["1.weight"])


@pytest.mark.parametrize("batch_size", [1, 2, 3, 7, 8])
def test_batch_count_matches_the_batches_actually_trained(batch_size):
    """(Batches of 1 once counted 100 where 99 were trained: the last single one is merged.)"""
    engine = Engine(digits(layers=[{"type": "conv2d", "out": 2, "kernel": 3}, {"type": "flatten"}, {"type": "linear"}],
                           dataset={"train_images": 100, "test_images": 20}, batch_size=batch_size))
    sizes = [len(yb) for _, yb in engine._batches()]
    assert sum(sizes) == 100 and sizes[-1] > 1  # never a last batch of one
    assert engine._batch_count() == len(sizes)


# --- events between batches: their order, cutting an epoch short, nothing held while paused ---------

from playground import engine as engine_module  # noqa: E402
from playground.engine import BATCH_END, BatchEnd  # noqa: E402


def test_run_yields_a_batch_end_after_every_batch_but_the_last_then_the_epoch_end():
    engine = Engine(digits(dataset={"train_images": 200, "test_images": 20}, batch_size=8, epochs=2))
    n_batches = engine._batch_count()
    report_every = max(1, n_batches // REPORTS_PER_EPOCH)
    events = list(engine.run())
    assert len(events) == 2 * n_batches
    for epoch in (0, 1):
        one_epoch = events[epoch * n_batches:(epoch + 1) * n_batches]
        assert isinstance(one_epoch[-1], EpochEnd) and one_epoch[-1].epoch == epoch + 1
        batch_events = one_epoch[:-1]
        assert all(isinstance(event, BatchEnd) for event in batch_events)
        reported = [number for number, event in enumerate(batch_events, 1) if isinstance(event, BatchProgress)]
        assert reported == [n for n in range(1, n_batches) if n % report_every == 0]
        assert all(event is BATCH_END for event in batch_events if not isinstance(event, BatchProgress))
    progress_epochs = [event.epoch for event in events if isinstance(event, BatchProgress)]
    assert progress_epochs == sorted(progress_epochs)


def test_a_full_batch_epoch_yields_only_its_epoch_end(tiny_spiral):
    assert [type(event) for event in Engine(tiny_spiral).epoch_events()] == [EpochEnd]


def test_cutting_an_epoch_short_counts_it_and_the_next_one_is_whole():
    engine = Engine(tiny(batch_size=8))  # 48 samples: 6 batches
    sizes = batch_sizes(engine)
    events = engine.run()
    assert next(events) is BATCH_END and next(events) is BATCH_END
    engine.cut_epoch_short()
    cut = next(events)
    assert isinstance(cut, EpochEnd) and cut.epoch == 1 and engine.samples == 16
    rest = [next(events) for _ in range(6)]
    assert isinstance(rest[-1], EpochEnd) and rest[-1].epoch == 2
    assert sizes == [8, 8] + [8] * 6 and engine.samples == 16 + 48


def test_pulling_events_slowly_trains_the_same_weights_as_pulling_them_at_once():
    layers = [{"type": "conv2d", "out": 4, "kernel": 3, "padding": 1}, {"type": "dropout2d", "p": 0.5},
              {"type": "relu"}, {"type": "flatten"}, {"type": "dropout", "p": 0.3}, {"type": "linear"}]
    config = digits(layers=layers, dataset={"train_images": 200, "test_images": 20}, batch_size=16, epochs=2)
    at_once, one_by_one = Engine(config), Engine(config)
    list(at_once.run())
    for event in one_by_one.run():
        torch.rand(3)  # someone else draws from the global generator between batches
    wa, wb = weights(at_once), weights(one_by_one)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_an_engine_paused_between_batches_holds_no_lock():
    """A run paused mid-epoch must not keep other runs of this process from building or training."""
    layers = [{"type": "flatten"}, {"type": "dropout", "p": 0.5}, {"type": "linear"}]
    engine = Engine(digits(layers=layers, dataset={"train_images": 100, "test_images": 20}, batch_size=8))
    assert engine._rng_state is not None  # the engine has its own RNG for dropout
    events = engine.run()
    assert isinstance(next(events), BatchEnd)  # paused here: the caller holds the event
    assert engine_module._GLOBAL_RNG_LOCK.acquire(timeout=5)
    engine_module._GLOBAL_RNG_LOCK.release()
    engine.cut_epoch_short()
    assert isinstance(next(events), EpochEnd)  # and the engine itself goes on


# --- issue 16: a twin between epochs trains on exactly as the original would ----------------------------

FORKABLE = {
    "full batch, adam": {"dataset": {"name": "spiral", "classes": 3, "n_per_class": 30, "seed": 2},
                         "layers": [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}],
                         "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 20, "seed": 3},
    "batches, dropout, momentum, cosine": {
        "dataset": {"name": "moons", "n_samples": 200, "seed": 2}, "batch_size": 32,
        "layers": [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "dropout", "p": 0.3}, {"type": "linear"}],
        "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}, "schedule": {"name": "cosine"},
        "epochs": 20, "seed": 4},
}


@pytest.mark.parametrize("setup", FORKABLE, ids=list(FORKABLE))
def test_a_fork_between_epochs_trains_on_exactly_as_the_original(setup):
    config = TrainConfig.from_dict({**FORKABLE[setup], "device": "cpu"})
    solo = Engine(config)
    solo_losses = [solo.train_epoch().train.loss for _ in range(12)]
    original = Engine(config)
    before = [original.train_epoch().train.loss for _ in range(5)]
    twin = original.fork()
    assert twin.epoch == 5 and twin.dataset is original.dataset
    twin_losses = [twin.train_epoch().train.loss for _ in range(7)]
    original_losses = [original.train_epoch().train.loss for _ in range(7)]
    assert before + twin_losses == solo_losses == before + original_losses  # exactly: same numbers, same order
    for a, b in zip(twin.model.state_dict().values(), solo.model.state_dict().values()):
        assert torch.equal(a, b)


def test_a_fork_is_independent_of_its_original():
    config = TrainConfig.from_dict({**FORKABLE["full batch, adam"], "device": "cpu"})
    original = Engine(config)
    original.train_epoch()
    twin = original.fork()
    twin.set_learning_rate(0.5)
    twin.train_epoch()
    assert original.epoch == 1 and original.base_lr == 0.01
    assert not any(torch.equal(a, b) for a, b in zip(twin.model.parameters(), original.model.parameters()))
