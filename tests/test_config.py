"""TrainConfig: documented defaults, strict JSON round trip, and a ConfigError naming the key."""
import json

import pytest

from playground.config import ConfigError, DatasetConfig, OptimizerConfig, ScheduleConfig, TrainConfig

ISSUE_EXAMPLE = """
{"dataset": {"name": "spiral", "classes": 3, "n_per_class": 1000, "noise": 0.2,
             "test_fraction": 0.2, "seed": 12345},
 "layers": [{"type": "linear", "out": 100}, {"type": "relu"}, {"type": "linear"}],
 "loss": "cross_entropy",
 "optimizer": {"name": "adam", "lr": 0.001, "weight_decay": 1e-05},
 "epochs": 1000, "batch_size": 0, "seed": 12345, "device": "auto"}
"""


def test_empty_config_gives_the_documented_default():
    config = TrainConfig.from_dict({})
    assert config.dataset.name == "spiral"
    assert config.dataset.values == {"classes": 3, "n_per_class": 1000, "noise": 0.2}
    assert config.dataset.test_fraction == 0.2 and config.dataset.seed == 12345
    assert [{k: v for k, v in spec.items() if v is not None} for spec in config.layers] == [
        {"type": "linear", "out": 100}, {"type": "relu"}, {"type": "linear"}]
    assert config.loss == "cross_entropy"
    assert (config.optimizer.name, config.optimizer.lr) == ("adam", 1e-3)
    assert config.schedule.name == "none"
    assert config.epochs == 1000 and config.batch_size == 0
    assert config.seed == 12345 and config.device == "auto"


def test_default_constructed_config_equals_the_parsed_default():
    assert TrainConfig() == TrainConfig.from_dict({})
    assert TrainConfig.from_json(TrainConfig().to_json()) == TrainConfig()


def test_issue_example_config_parses():
    config = TrainConfig.from_json(ISSUE_EXAMPLE)
    assert config.optimizer.weight_decay == 1e-05
    assert config.dataset.values["n_per_class"] == 1000
    assert config.layers[0]["out"] == 100 and "out" not in config.layers[2]
    assert config == TrainConfig.from_dict({"optimizer": {"weight_decay": 1e-05}})


ROUND_TRIP = [
    {},
    json.loads(ISSUE_EXAMPLE),
    {"schedule": {"name": "step", "step_size": 25, "gamma": 0.3}, "epochs": 200},
    {"schedule": "cosine", "batch_size": 32, "device": "cpu"},
    {"optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.001}},
    {"optimizer": {"name": "rmsprop", "lr": 0.01, "momentum": 0.5}},
    {"dataset": {"name": "linear_regression"}, "layers": [{"type": "linear"}], "loss": "mse",
     "optimizer": {"name": "sgd", "lr": 0.01}},
    {"dataset": {"name": "coffee_roast", "n_samples": 300, "seed": 3},
     "layers": [{"type": "linear", "out": 3}, {"type": "sigmoid"}, {"type": "linear"}, {"type": "sigmoid"}],
     "loss": "bce"},
    {"dataset": {"name": "blobs", "classes": 4, "noise": 1.5, "test_fraction": 0.5},
     "layers": [{"type": "linear", "in": 2, "out": 8}, {"type": "leaky_relu", "negative_slope": 0.2},
                {"type": "dropout", "p": 0.1}, {"type": "batchnorm1d"}, {"type": "linear"}, {"type": "log_softmax"}],
     "loss": "nll", "seed": 0},
]


@pytest.mark.parametrize("data", ROUND_TRIP)
def test_json_round_trip_gives_the_same_config(data):
    config = TrainConfig.from_dict(data)
    assert TrainConfig.from_json(config.to_json()) == config
    assert TrainConfig.from_json(config.to_json(indent=None)) == config
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_to_dict_writes_layers_as_a_person_would():
    config = TrainConfig.from_dict({})
    assert config.to_dict()["layers"] == [{"type": "linear", "out": 100}, {"type": "relu"}, {"type": "linear"}]


def test_to_dict_writes_only_the_chosen_optimizers_options():
    assert "momentum" not in TrainConfig.from_dict({}).to_dict()["optimizer"]
    sgd = TrainConfig.from_dict({"optimizer": {"name": "sgd", "momentum": 0.9}}).to_dict()["optimizer"]
    assert sgd["momentum"] == 0.9 and sgd["nesterov"] is False
    assert TrainConfig.from_dict({"schedule": "cosine"}).to_dict()["schedule"] == {"name": "cosine"}


def test_regression_dataset_defaults_to_mse_and_no_test_split():
    config = TrainConfig.from_dict({"dataset": {"name": "linear_regression"}, "layers": [{"type": "linear"}]})
    assert config.loss == "mse"
    assert config.dataset.test_fraction == 0.0
    assert config.dataset.task == "regression" and config.dataset.n_classes == 0


def test_dataset_config_knows_its_class_count():
    assert TrainConfig.from_dict({"dataset": {"name": "spiral", "classes": 5}}).dataset.n_classes == 5
    assert TrainConfig.from_dict({"dataset": {"name": "moons"}}).dataset.n_classes == 2
    assert TrainConfig.from_dict({"dataset": {"name": "coffee_roast"}}).dataset.n_classes == 2


def test_configs_are_frozen_and_replace_makes_a_copy():
    config = TrainConfig.from_dict({})
    with pytest.raises(Exception):
        config.epochs = 5
    shorter = config.replace(epochs=5)
    assert shorter.epochs == 5 and config.epochs == 1000
    assert isinstance(config.dataset, DatasetConfig)
    assert isinstance(config.optimizer, OptimizerConfig) and isinstance(config.schedule, ScheduleConfig)


BAD = [
    ({"optimizer": {"lr": 0}}, "optimizer.lr"),
    ({"optimizer": {"lr": -0.1}}, "optimizer.lr"),
    ({"optimizer": {"lr": "fast"}}, "optimizer.lr"),
    ({"optimizer": {"name": "lbfgs"}}, "optimizer.name"),
    ({"optimizer": {"name": "adam", "momentum": 0.9}}, "optimizer.momentum"),
    ({"optimizer": {"name": "sgd", "nesterov": True}}, "optimizer.nesterov"),
    ({"optimizer": {"name": "sgd", "momentum": 0.9, "nesterov": "yes"}}, "optimizer.nesterov"),
    ({"optimizer": {"weight_decay": 2}}, "optimizer.weight_decay"),
    ({"optimizer": "adam"}, "optimizer"),
    ({"layers": [{"type": "linear", "out": 100}, {"type": "relu"}, {"type": "linear", "out": 0}]}, "layers[2].out"),
    ({"layers": [{"type": "relu"}, {"type": "dropout", "p": 2}]}, "layers[1].p"),
    ({"layers": [{"type": "conv9d"}]}, "layers[0].type"),
    ({"layers": [{"type": "relu", "size": 3}]}, "layers[0].size"),
    ({"layers": ["relu"]}, "layers[0]"),
    ({"layers": {"type": "relu"}}, "layers"),
    ({"dataset": {"name": "spiral", "classes": 11}}, "dataset.classes"),
    ({"dataset": {"name": "spiral", "classes": 2.5}}, "dataset.classes"),
    ({"dataset": {"name": "spiral", "n_samples": 100}}, "dataset.n_samples"),
    ({"dataset": {"name": "cifar100"}}, "dataset.name"),
    ({"dataset": {"test_fraction": 0.95}}, "dataset.test_fraction"),
    ({"dataset": {"seed": -1}}, "dataset.seed"),
    ({"dataset": "spiral"}, "dataset"),
    ({"loss": "hinge"}, "loss"),
    ({"loss": "mse"}, "loss"),
    ({"loss": "bce"}, "loss"),
    ({"dataset": {"name": "sine"}, "loss": "cross_entropy"}, "loss"),
    ({"epochs": 0}, "epochs"),
    ({"epochs": 10.5}, "epochs"),
    ({"epochs": "10"}, "epochs"),
    ({"epochs": True}, "epochs"),
    ({"epochs": 1_000_000}, "epochs"),
    ({"batch_size": -1}, "batch_size"),
    ({"seed": 2**32}, "seed"),
    ({"device": "tpu"}, "device"),
    ({"schedule": {"name": "linear_warmup"}}, "schedule.name"),
    ({"schedule": {"name": "cosine", "step_size": 10}}, "schedule.step_size"),
    ({"schedule": {"name": "step", "gamma": 0}}, "schedule.gamma"),
    ({"learning_rate": 0.1}, "learning_rate"),
]


@pytest.mark.parametrize("data, key", BAD, ids=[key for _, key in BAD])
def test_bad_value_gives_config_error_naming_the_key(data, key):
    with pytest.raises(ConfigError) as caught:
        TrainConfig.from_dict(data)
    error = caught.value
    assert error.key == key
    assert str(error) == f"{key}: {error.message}"
    assert "\n" not in str(error) and error.message


def test_unknown_key_error_lists_the_expected_keys():
    with pytest.raises(ConfigError) as caught:
        TrainConfig.from_dict({"learning_rate": 0.1})
    assert "expected one of" in caught.value.message and "optimizer" in caught.value.message


def test_nesterov_error_says_to_set_momentum():
    with pytest.raises(ConfigError, match="momentum"):
        TrainConfig.from_dict({"optimizer": {"name": "sgd", "nesterov": True}})


def test_bce_on_three_classes_says_why():
    with pytest.raises(ConfigError, match="two classes"):
        TrainConfig.from_dict({"loss": "bce"})


@pytest.mark.parametrize("text", ["{not json", "", '{"epochs": 10,}'])
def test_invalid_json_is_a_config_error_on_key_config(text):
    with pytest.raises(ConfigError) as caught:
        TrainConfig.from_json(text)
    assert caught.value.key == "config" and "not valid JSON" in caught.value.message


@pytest.mark.parametrize("text", ["[]", "3", '"spiral"', "null"])
def test_json_that_is_not_an_object_is_a_config_error_on_key_config(text):
    with pytest.raises(ConfigError) as caught:
        TrainConfig.from_json(text)
    assert caught.value.key == "config"


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize("text", ['{"epochs": Infinity}', '{"epochs": 1e999}', '{"seed": -Infinity}'])
def test_infinite_integer_value_is_a_config_error(text):
    with pytest.raises(ConfigError):
        TrainConfig.from_json(text)


def test_unhashable_layer_type_is_a_config_error():
    with pytest.raises(ConfigError) as caught:
        TrainConfig.from_dict({"layers": [{"type": ["linear"]}]})
    assert caught.value.key == "layers[0].type"


# --- hostile config files (issue 13) -------------------------------------------------------------


def refused(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        TrainConfig.from_json(text)
    return caught.value


def test_json_nested_2000_levels_deep_is_refused_naming_the_problem():
    text = '{"epochs": ' + "[" * 2000 + "]" * 2000 + "}"  # 4 KB
    error = refused(text)
    assert error.key == "config" and "nested too deeply" in error.message


def test_json_nested_deep_but_readable_is_refused_with_a_short_message():
    error = refused('{"dataset": {"name": ' + "[" * 500 + "]" * 500 + "}}")
    assert error.key == "dataset.name" and len(str(error)) < 200


@pytest.mark.parametrize("text, key", [
    ('{"epochs": 9999}', None),
    ('{"epochs": ' + "9" * 5000 + "}", "epochs"),
    ('{"seed": -' + "9" * 5000 + "}", "seed"),
    ('{"optimizer": {"lr": ' + "1" * 5000 + "}}", "optimizer.lr"),
    ('{"layers": [{"type": "linear", "out": ' + "7" * 5000 + "}]}", "layers[0].out"),
])
def test_a_5000_digit_integer_is_refused_naming_the_key(text, key):
    if key is None:
        assert TrainConfig.from_json(text).epochs == 9999
        return
    error = refused(text)
    assert error.key == key and "a 5,000-digit number" in error.message and len(str(error)) < 200


def test_a_long_string_value_or_key_is_quoted_briefly():
    assert len(str(refused(json.dumps({"device": "x" * 100_000})))) < 200
    assert len(str(refused(json.dumps({"x" * 100_000: 1})))) < 300


def test_a_config_over_a_megabyte_is_refused_before_it_is_parsed():
    error = refused(json.dumps({"dataset": {"name": "spiral"}, "pad": "x" * 2_000_000}))
    assert error.key == "config" and "is 2,000,0" in error.message and "at most 1,000,000" in error.message


def test_a_config_saved_with_a_byte_order_mark_is_read():
    text = "\ufeff" + TrainConfig().to_json()
    assert TrainConfig.from_json(text) == TrainConfig()
    assert TrainConfig.from_json(TrainConfig().to_json().encode("utf-8-sig").decode("utf-8")) == TrainConfig()


def test_the_longest_allowed_stack_is_accepted():
    layers = [{"type": "linear", "out": 4}, {"type": "relu"}] * 31 + [{"type": "linear"}, {"type": "softmax"}]
    assert len(TrainConfig.from_dict({"layers": layers}).layers) == 64


@pytest.mark.parametrize("count", [65, 3000])
def test_a_stack_over_64_layers_is_refused_naming_the_cap_before_any_layer_is_checked(count, monkeypatch):
    import playground.config as config_module

    monkeypatch.setattr(config_module, "check_spec", lambda *args: pytest.fail("a layer was checked"))
    error = refused(json.dumps({"layers": [{"type": "relu"}] * count}))
    assert error.key == "layers" and f"{count:,} layers is over the limit of 64" in error.message


def test_a_csv_config_with_a_known_class_count_does_not_read_its_table(tmp_path):
    data = {"dataset": {"name": "csv", "file": str(tmp_path / "gone.csv"), "label": "kind", "features": ["a", "b"],
                        "task": "classification"}}
    with pytest.raises(ConfigError, match="dataset"):
        TrainConfig.from_dict(data)  # the table is read to count the classes ...
    config = TrainConfig.from_dict(data, table_classes=4)  # ... unless a checkpoint knows them
    assert config.dataset.n_classes == 4 and config.dataset.input_shape == (2,)
    assert config == TrainConfig.from_dict(data, table_classes=3)  # the count is not part of the config


# --- the page's dataset settings, and what a run follows live ----------------------------------

from playground.config import dataset_task, needs_restart  # noqa: E402


def test_dataset_task_counts_the_classes_the_settings_ask_for():
    assert dataset_task({"name": "spiral", "classes": 5}) == ("classification", 5)
    assert dataset_task({"name": "xor"}) == ("classification", 2)
    assert dataset_task({"name": "digits"}) == ("classification", 10)
    assert dataset_task({"name": "sine"}) == ("regression", 0)


def test_dataset_task_of_a_table_not_chosen_yet_is_two_class_classification():
    assert dataset_task({"name": "csv"}) == ("classification", 2)
    assert dataset_task({"name": "csv", "task": "classification", "file": "gone", "label": "y",
                         "features": ["x"]}) == ("classification", 2)
    assert dataset_task({"name": "csv", "task": "regression"}) == ("regression", 0)


def test_a_new_learning_rate_needs_no_restart_anything_else_does():
    running = TrainConfig()
    assert not needs_restart(running, running.replace(optimizer=OptimizerConfig(lr=0.3)))
    assert needs_restart(running, running.replace(epochs=5))
    assert needs_restart(running, running.replace(optimizer=OptimizerConfig(name="sgd", lr=running.optimizer.lr)))
