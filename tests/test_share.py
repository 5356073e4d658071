"""The shareable link: every config survives the URL round trip; bad links name the parameter."""
import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from playground.config import ConfigError, TrainConfig
from playground.share import HIDEABLE, from_query, has_config, layers_text, link, parse_layers, to_query

CONFIGS = [
    TrainConfig(),
    TrainConfig.from_dict({"dataset": {"name": "moons", "n_samples": 123, "noise": 0.37, "seed": 9},
                           "layers": [{"type": "linear", "out": 8}, {"type": "leaky_relu", "negative_slope": 0.2},
                                      {"type": "dropout", "p": 0.25}, {"type": "linear", "out": 1}],
                           "loss": "bce_with_logits",
                           "optimizer": {"name": "sgd", "lr": 0.03, "momentum": 0.9, "nesterov": True,
                                         "weight_decay": 1e-4},
                           "schedule": {"name": "step", "step_size": 50, "gamma": 0.3},
                           "epochs": 321, "batch_size": 16, "seed": 4294967295, "device": "cpu"}),
    TrainConfig.from_dict({"dataset": {"name": "digits", "train_images": 500, "test_images": 100},
                           "layers": [{"type": "conv2d", "out": 8, "kernel": 3, "padding": 1},
                                      {"type": "residual", "out": 16, "stride": 2}, {"type": "flatten"},
                                      {"type": "linear"}, {"type": "log_softmax"}],
                           "loss": "nll", "optimizer": {"name": "rmsprop", "lr": 3e-5, "momentum": 0.5},
                           "schedule": "cosine", "epochs": 2}),
    TrainConfig.from_dict({"dataset": {"name": "linear_regression", "n_samples": 4, "test_fraction": 0.0},
                           "layers": [{"type": "linear"}], "loss": "mse", "optimizer": {"name": "sgd", "lr": 0.01}}),
]


@pytest.mark.parametrize("config", CONFIGS, ids=["default", "moons", "digits-cnn", "y=2x"])
def test_every_config_survives_the_round_trip(config):
    setup = from_query(to_query(config))
    assert setup.config == config
    assert setup.hidden == frozenset() and setup.lesson == ""


@pytest.mark.parametrize("config", CONFIGS, ids=["default", "moons", "digits-cnn", "y=2x"])
def test_the_full_link_parses_back_through_a_real_query_string(config):
    address = link("http://localhost:8501/Playground?old=1", config, hidden=["model"], lesson="spiral-relu")
    parts = urlsplit(address)
    assert parts.path == "/Playground" and "old=" not in parts.query
    setup = from_query(dict(parse_qsl(parts.query)))
    assert setup.config == config and setup.hidden == {"model"} and setup.lesson == "spiral-relu"


def test_the_link_is_readable():
    query = to_query(TrainConfig())
    assert query["layers"] == "linear(out=100),relu,linear"
    assert query["dataset.name"] == "spiral" and query["optimizer.lr"] == "0.001" and query["seed"] == "12345"
    assert "linear(out=100),relu,linear" in link("http://h/Playground", TrainConfig())


def test_seeds_are_part_of_the_link():
    config = TrainConfig().replace(seed=7)
    query = to_query(config)
    assert query["seed"] == "7" and query["dataset.seed"] == "12345"
    assert from_query(query).config.seed == 7


def test_hidden_controls_keep_the_registry_order_and_reject_unknown_names():
    query = to_query(TrainConfig(), hidden=["training", "data"])
    assert query["hide"] == "data,training"
    with pytest.raises(ConfigError) as error:
        from_query({**query, "hide": "data,everything"})
    assert error.value.key == "hide" and "'everything'" in error.value.message
    assert set(HIDEABLE) >= {"data", "model", "learning_rate"}


def test_a_bad_value_names_its_parameter():
    query = to_query(TrainConfig())
    with pytest.raises(ConfigError) as error:
        from_query({**query, "optimizer.lr": "fast"})
    assert error.value.key == "optimizer.lr"
    with pytest.raises(ConfigError) as error:
        from_query({**query, "dataset.name": "cifar"})
    assert error.value.key == "dataset.name" and "'cifar'" in error.value.message


def test_an_unknown_parameter_is_refused_not_ignored():
    with pytest.raises(ConfigError) as error:
        from_query({**to_query(TrainConfig()), "optimizer.beta": "0.9"})
    assert error.value.key == "optimizer.beta"


@pytest.mark.parametrize("text", ["linear(out=100", "linear(out=100)relu", "!!", "linear((out=1))"])
def test_a_garbled_layer_list_is_refused_with_the_place(text):
    with pytest.raises(ConfigError) as error:
        from_query({"dataset.name": "spiral", "layers": text})
    assert error.value.key == "layers"


def test_a_layer_with_a_bad_parameter_names_the_layer():
    with pytest.raises(ConfigError) as error:
        from_query({"dataset.name": "spiral", "layers": "linear(out=-3),relu,linear"})
    assert error.value.key == "layers[0].out"


def test_layers_text_round_trip_keeps_numbers_typed():
    layers = [{"type": "conv2d", "out": 8, "kernel": 3, "stride": 1, "padding": 1}, {"type": "dropout", "p": 0.5}]
    assert parse_layers(layers_text(layers)) == layers
    assert parse_layers(" linear ( out = 4 ) , relu ") == [{"type": "linear", "out": 4}, {"type": "relu"}]


def test_a_partial_link_fills_defaults():
    setup = from_query({"dataset.name": "xor", "optimizer.lr": "0.03"})
    assert setup.config.dataset.name == "xor" and setup.config.optimizer.lr == 0.03
    assert setup.config.epochs == TrainConfig().epochs


def test_repeated_parameters_take_the_last_and_the_workspace_is_not_config():
    setup = from_query({"dataset.name": ["moons", "xor"], "ws": "abc123"})
    assert setup.config.dataset.name == "xor"


def test_has_config_tells_a_bare_address_from_a_setup():
    assert not has_config({}) and not has_config({"ws": "abc", "lesson": "x"})
    assert has_config({"dataset.name": "xor"}) and has_config({"layers": "linear"})


def test_an_overlong_link_is_refused():
    with pytest.raises(ConfigError) as error:
        from_query({"dataset.name": "spiral", "layers": "relu," * 3000 + "linear"})
    assert error.value.key == "link"


def test_a_conflicting_parameter_is_refused():
    with pytest.raises(ConfigError):
        from_query({"optimizer": "adam", "optimizer.lr": "0.1"})


# --- hostile links (issue 13) --------------------------------------------------------------------


def test_a_1596_layer_link_is_refused_at_once_naming_the_cap(monkeypatch):
    import playground.config as config_module

    monkeypatch.setattr(config_module, "check_spec", lambda *args: pytest.fail("a layer was checked"))
    layers = ",".join(["relu"] * 1595 + ["linear"])
    assert len("layers") + len(layers) <= 8000  # fits the link limit
    with pytest.raises(ConfigError, match="holds more than 64 layers, the limit") as caught:
        from_query({"layers": layers})
    assert caught.value.key == "layers"


@pytest.mark.parametrize("text, words", [
    ("relu(type=linear)", "relu(type=...): its type is the name before the brackets"),
    ("linear(out=4,out=8),relu,linear", "linear(out=...): it is given twice"),
])
def test_a_layer_parameter_named_type_or_given_twice_is_refused(text, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        from_query({"layers": text})


def test_an_unknown_layer_parameter_in_a_link_is_refused_naming_it():
    with pytest.raises(ConfigError, match="ReLU has no parameter 'kind'") as caught:
        from_query({"layers": "linear(out=4),relu(kind=1),linear"})
    assert caught.value.key == "layers[1].kind"


def test_a_5000_digit_number_in_a_link_is_refused_naming_the_parameter():
    with pytest.raises(ConfigError, match="got a 5,000-digit number") as caught:
        from_query({"epochs": "9" * 5000})
    assert caught.value.key == "epochs"
    with pytest.raises(ConfigError, match=r"layers\[0\]\.out: .*a 3,000-digit number"):
        from_query({"layers": f"linear(out={'9' * 3000}),linear"})


def test_augmentation_survives_the_link_and_is_left_out_when_off():
    config = TrainConfig.from_dict({"dataset": {"name": "digits"},
                                    "augment": {"crop": 4, "flip": True, "rotate": 12.5}})
    query = to_query(config)
    assert (query["augment.crop"], query["augment.flip"], query["augment.rotate"]) == ("4", "true", "12.5")
    assert from_query(query).config == config
    assert not any(key.startswith("augment") for key in to_query(config.replace(augment=None)))
    with pytest.raises(ConfigError, match="augment.crop"):
        from_query({**query, "augment.crop": "99"})


def test_betas_and_milestones_read_as_comma_lists_and_round_trip():
    config = TrainConfig.from_dict({"optimizer": {"name": "adamw", "betas": [0.8, 0.99], "eps": 1e-6},
                                    "schedule": {"name": "multistep", "milestones": [30, 60, 90], "gamma": 0.2}})
    query = to_query(config)
    assert query["optimizer.betas"] == "0.8,0.99" and query["schedule.milestones"] == "30,60,90"
    assert query["optimizer.eps"] == "1e-06"
    assert "optimizer.betas=0.8,0.99" in link("http://x/Playground", config)
    assert from_query(query).config == config
    assert from_query({**query, "optimizer.betas": "[0.8, 0.99]"}).config == config  # JSON is read too


@pytest.mark.parametrize("key, text", [("optimizer.betas", "0.8"), ("optimizer.betas", "0.8,x"),
                                       ("optimizer.betas", "0.8,,0.9"), ("schedule.milestones", "60,30"),
                                       ("schedule.milestones", ",".join(map(str, range(1, 150))))],
                         ids=["one", "text", "empty", "falling", "too-many"])
def test_a_bad_number_list_names_its_key(key, text):
    params = {"optimizer.name": "adam", "schedule.name": "multistep", key: text}
    with pytest.raises(ConfigError) as error:
        from_query(params)
    assert error.value.key.startswith(key)


def test_new_schedules_and_settings_at_their_defaults_leave_the_link_as_it_was():
    assert not {"optimizer.betas", "optimizer.eps"} & set(to_query(TrainConfig()))
    plateau = TrainConfig.from_dict({"schedule": {"name": "plateau", "factor": 0.5, "patience": 3}})
    assert from_query(to_query(plateau)).config == plateau
