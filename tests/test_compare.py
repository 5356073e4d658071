"""Comparing runs: flat keys, layer descriptions, differences, table rows and curves."""
import math
import re
from datetime import datetime

import pytest

from playground.compare import curve, describe_layers, differences, flatten, summary
from playground.config import TrainConfig
from playground.progress import History
from playground.runstore import RunRecord

BASE = TrainConfig().to_dict()


def config(**changes) -> dict:
    """The default config as a dict with some sections or keys replaced (dotted keys reach inside)."""
    data = TrainConfig().to_dict()
    for key, value in changes.items():
        section, _, inner = key.partition("__")
        if inner:
            data[section] = {**data[section], inner: value}
        else:
            data[section] = value
    return data


def record(run_id=7, name="", config=BASE, history=History(), final=None, status="completed") -> RunRecord:
    return RunRecord(run_id, "ws", 1_700_000_000.0, name, status, config, history, final or {})


def test_flatten_gives_dotted_keys_and_one_layer_string():
    flat = flatten(BASE)
    assert flat["dataset.name"] == "spiral" and flat["dataset.noise"] == 0.2
    assert flat["optimizer.lr"] == 0.001 and flat["schedule.name"] == "none"
    assert flat["layers"] == "Linear 100 · ReLU · Linear"
    assert flat["epochs"] == 1000 and flat["device"] == "auto"
    assert not any(isinstance(value, (dict, list)) for value in flat.values())


def test_describe_layers_is_compact_and_shows_only_non_default_stride_and_padding():
    layers = [{"type": "conv2d", "out": 32, "kernel": 3}, {"type": "conv2d", "out": 64, "kernel": 5,
                                                            "stride": 2, "padding": 1},
              {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "dropout", "p": 0.5},
              {"type": "linear", "out": 10, "in": 128}]
    assert describe_layers(layers) == ("Conv2d 32 3x3 · Conv2d 64 5x5 s2 p1 · MaxPool2d 2x2 · Flatten · "
                                       "Dropout 0.5 · Linear 10")


def test_describe_layers_reads_a_spec_with_or_without_defaults_the_same():
    bare = [{"type": "conv2d"}, {"type": "dropout"}]
    full = [{"type": "conv2d", "out": 16, "kernel": 3, "stride": 1, "padding": 0}, {"type": "dropout", "p": 0.5}]
    assert describe_layers(bare) == describe_layers(full) == "Conv2d 16 3x3 · Dropout 0.5"


def test_describe_layers_keeps_an_unknown_type_readable():
    assert describe_layers([{"type": "mystery"}, {"type": "relu"}]) == "mystery · ReLU"


def test_identical_configs_have_no_differences():
    assert differences([BASE, TrainConfig().to_dict(), BASE]) == []
    assert differences([BASE]) == [] and differences([]) == []


def test_configs_differing_only_in_learning_rate_show_just_that():
    assert differences([BASE, config(optimizer__lr=0.01)]) == [("optimizer.lr", [0.001, 0.01])]


def test_configs_differing_only_in_layers_show_the_two_stacks():
    wide = config(layers=[{"type": "linear", "out": 256}, {"type": "tanh"}, {"type": "linear"}])
    assert differences([BASE, wide]) == [("layers", ["Linear 100 · ReLU · Linear", "Linear 256 · Tanh · Linear"])]


def test_dataset_parameter_differences_come_first_in_a_stable_order():
    other = config(dataset__noise=0.5, dataset__seed=1, seed=2, optimizer__lr=0.1, epochs=5)
    keys = [key for key, _ in differences([BASE, other])]
    assert keys == ["dataset.noise", "dataset.seed", "optimizer.lr", "epochs", "seed"]


def test_a_key_missing_from_one_config_shows_none_there():
    sgd = config(optimizer={"name": "sgd", "lr": 0.001, "weight_decay": 0.0, "momentum": 0.9, "nesterov": False})
    rows = dict(differences([BASE, sgd]))
    assert rows["optimizer.name"] == ["adam", "sgd"]
    assert rows["optimizer.momentum"] == [None, 0.9]
    assert "optimizer.lr" not in rows


def test_summary_is_one_readable_table_row():
    row = summary(record(final={"epochs": 40, "test_accuracy": 0.93, "test_loss": 0.2}))
    assert {key: row[key] for key in ("run", "name", "dataset", "model", "optimizer", "epochs", "status",
                                      "test score")} == {
        "run": 7, "name": "Run 7", "dataset": "Spiral", "model": "Linear 100 · ReLU · Linear",
        "optimizer": "Adam lr 0.001", "epochs": 40, "status": "completed", "test score": 0.93}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row["saved"])
    assert row["saved"] == datetime.fromtimestamp(1_700_000_000).strftime("%Y-%m-%d %H:%M")


def test_summary_falls_back_to_config_epochs_and_regression_score():
    regression = config(dataset={"name": "sine"}, loss="mse")
    row = summary(record(name="mine", config=regression, final={"test_r2": 0.8, "test_accuracy": None}))
    assert (row["name"], row["dataset"], row["epochs"], row["test score"]) == ("mine", "Sine regression", 1000, 0.8)
    assert summary(record(status="diverged"))["test score"] is None


def test_curve_pairs_each_metric_with_its_own_epochs():
    history = History(epochs=(1, 2, 3, 4), train_loss=(1.0, 0.8, 0.6, 0.5), eval_epochs=(2, 4),
                      train_score=(0.5, 0.7), test_loss=(0.9, 0.7), test_score=(0.4, 0.6))
    run = record(history=history)
    assert curve(run, "train_loss") == ((1.0, 2.0, 3.0, 4.0), (1.0, 0.8, 0.6, 0.5))
    assert curve(run, "train_score") == ((2.0, 4.0), (0.5, 0.7))
    assert curve(run, "test_loss") == ((2.0, 4.0), (0.9, 0.7))
    assert curve(run, "test_score") == ((2.0, 4.0), (0.4, 0.6))


def test_curve_of_a_missing_test_split_is_empty_and_nan_stays_nan():
    run = record(history=History(epochs=(1, 2), train_loss=(1.0, math.nan), eval_epochs=(2,), train_score=(0.5,)))
    assert curve(run, "test_loss") == ((), ()) and curve(run, "test_score") == ((), ())
    assert math.isnan(curve(run, "train_loss")[1][1])


def test_curve_refuses_an_unknown_metric():
    with pytest.raises(ValueError, match="unknown metric 'accuracy'.*train_loss"):
        curve(record(), "accuracy")


def test_the_optimizer_text_tells_momentum_apart():
    from playground.compare import _optimizer_text

    assert _optimizer_text({"name": "sgd", "lr": 0.02}) == "SGD lr 0.02"
    assert _optimizer_text({"name": "sgd", "lr": 0.02, "momentum": 0.9}) == "SGD lr 0.02 momentum 0.9"
    assert _optimizer_text({"name": "sgd", "lr": 0.02, "momentum": 0.9, "nesterov": True}).endswith("Nesterov")
