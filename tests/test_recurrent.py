"""Recurrent layers (rnn, lstm, gru) and the sine_sequence dataset: each layer equals plain torch with the
same weights, shapes and parameter counts, bad parameters name their key, the data is seeded, the
prediction chart, the CLI, and the views built for MLPs leave an RNN alone."""
import json

import numpy as np
import pytest
import torch
from torch import nn

from playground import explain, network, plots
from playground.cli import main
from playground.config import ConfigError, TrainConfig
from playground.datasets import make_dataset
from playground.engine import Engine
from playground.frames import SEQUENCE_POINTS, CurveFrame, frame_for
from playground.layers import RECURRENT_LAYERS, LayerError, build_layer, check_spec
from playground.model import batch_memory_per_sample, build_model, plan_model
from playground.ui import inside_panel

TORCH = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
SEQUENCE = {"dataset": {"name": "sine_sequence", "n_samples": 120, "steps": 8}, "loss": "mse", "epochs": 3,
            "batch_size": 32, "device": "cpu", "layers": [{"type": "gru", "hidden": 8}, {"type": "linear"}]}


def plain_last_step(layer: nn.Module, kind: str, x: torch.Tensor, bidirectional: bool, layers: int) -> torch.Tensor:
    """What a plain torch RNN with the layer's weights outputs at the last step, batch first."""
    hidden = layer.rnn.hidden_size
    plain = TORCH[kind](x.shape[-1], hidden, num_layers=layers, bidirectional=bidirectional, batch_first=True)
    plain.load_state_dict(layer.rnn.state_dict())
    return plain(x)[0][:, -1]


@pytest.mark.parametrize("kind", RECURRENT_LAYERS)
@pytest.mark.parametrize("bidirectional, layers, batch_first", [(0, 1, 1), (1, 2, 1), (1, 1, 0), (0, 3, 0)])
def test_each_layer_outputs_torch_s_last_step_for_the_same_weights(kind, bidirectional, layers, batch_first):
    spec = check_spec(0, {"type": kind, "hidden": 5, "layers": layers, "bidirectional": bidirectional,
                          "batch_first": batch_first})
    torch.manual_seed(0)
    layer, out_shape = build_layer(0, spec, (7, 3))
    x = torch.randn(4, 7, 3)
    out = layer(x)
    assert tuple(out.shape[1:]) == out_shape == (5 * (2 if bidirectional else 1),)
    torch.testing.assert_close(out, plain_last_step(layer, kind, x, bool(bidirectional), layers))
    planned = plan_model([spec, {"type": "linear"}], (7, 3), 1).rows[0].parameters
    assert sum(p.numel() for p in layer.parameters()) == planned


@pytest.mark.parametrize("kind", RECURRENT_LAYERS)
def test_an_image_is_read_row_by_row_h_steps_of_c_times_w_features(kind):
    torch.manual_seed(0)
    layer, out_shape = build_layer(0, check_spec(0, {"type": kind, "hidden": 6}), (2, 5, 4))
    images = torch.randn(3, 2, 5, 4)
    rows = images.permute(0, 2, 1, 3).reshape(3, 5, 8)  # step t: row t of channel 0, then of channel 1
    assert layer.rnn.input_size == 8 and out_shape == (6,)
    torch.testing.assert_close(layer(images), plain_last_step(layer, kind, rows, False, 1))


def test_the_classic_mnist_rnn_and_the_cnn_rnn_hybrid_plan_with_torch_s_counts():
    lstm = plan_model([{"type": "lstm", "hidden": 64}, {"type": "linear"}], (1, 28, 28), 10)
    assert lstm.rows[0].detail.startswith("1x28x28 -> 64") and lstm.output_shape == (10,)
    assert lstm.parameters == sum(p.numel() for p in build_model(lstm).parameters())
    assert lstm.rows[0].parameters == 4 * 64 * (28 + 64 + 2)  # 4 gates of W (64x28), U (64x64), two biases
    hybrid = plan_model([{"type": "conv2d", "out": 4, "padding": 1}, {"type": "relu"}, {"type": "maxpool2d"},
                         {"type": "rnn", "hidden": 16, "bidirectional": 1}, {"type": "linear"}], (1, 28, 28), 10)
    assert [row.output_shape for row in hybrid.rows] == [(4, 28, 28), (4, 28, 28), (4, 14, 14), (32,), (10,)]
    assert hybrid.parameters == sum(p.numel() for p in build_model(hybrid).parameters())  # rnn reads 14 x 56
    assert build_model(hybrid)(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_the_memory_estimate_counts_the_states_kept_at_every_step():
    small = plan_model([{"type": "lstm", "hidden": 8}, {"type": "linear"}], (10, 1), 1)
    long = plan_model([{"type": "lstm", "hidden": 8}, {"type": "linear"}], (100, 1), 1)
    assert batch_memory_per_sample(long) > 9 * batch_memory_per_sample(small)


@pytest.mark.parametrize("spec, key", [
    ({"type": "lstm", "hidden": 0}, "hidden"), ({"type": "gru", "hidden": 10**6}, "hidden"),
    ({"type": "rnn", "layers": 9}, "layers"), ({"type": "lstm", "bidirectional": 2}, "bidirectional"),
    ({"type": "gru", "batch_first": "yes"}, "batch_first"), ({"type": "rnn", "hidden": 2.5}, "hidden"),
    ({"type": "lstm", "dropout": 0.2}, "dropout")])
def test_bad_parameters_name_their_key(spec, key):
    with pytest.raises(LayerError) as error:
        check_spec(0, spec)
    assert error.value.param == key
    with pytest.raises(ConfigError) as error:
        TrainConfig.from_dict({**SEQUENCE, "layers": [spec, {"type": "linear"}]})
    assert error.value.key == f"layers[0].{key}"


def test_switches_take_true_and_false_as_one_and_zero():
    assert check_spec(0, {"type": "lstm", "bidirectional": True, "batch_first": False}) == {
        "type": "lstm", "hidden": 64, "layers": 1, "bidirectional": 1, "batch_first": 0}


def test_a_recurrent_layer_on_flat_features_says_where_it_goes():
    with pytest.raises(LayerError, match="before the Flatten and Linear layers"):
        plan_model([{"type": "linear", "out": 4}, {"type": "lstm"}, {"type": "linear"}], (2,), 3)


def test_sine_sequence_is_seeded_windows_of_steps_values_and_the_next_one():
    data = make_dataset("sine_sequence", {"n_samples": 200, "steps": 12, "noise": 0.0}, seed=3)
    assert data.is_sequence and data.input_shape == (12, 1) and data.task == "regression"
    assert data.x_train.dtype == np.float32 and data.y_train.shape == (160, 1) and data.x_test.shape == (40, 12, 1)
    step = 2 * np.pi / 25  # a clean wave: sin(a + step) = 2 cos(step) sin(a) - sin(a - step), window by window
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        np.testing.assert_allclose(x[:, 2:, 0], 2 * np.cos(step) * x[:, 1:-1, 0] - x[:, :-2, 0], atol=1e-5)
        np.testing.assert_allclose(y[:, 0], 2 * np.cos(step) * x[:, -1, 0] - x[:, -2, 0], atol=1e-5)
    again = make_dataset("sine_sequence", {"n_samples": 200, "steps": 12, "noise": 0.3}, seed=3)
    other = make_dataset("sine_sequence", {"n_samples": 200, "steps": 12, "noise": 0.3}, seed=4)
    assert np.array_equal(again.x_train, make_dataset("sine_sequence", {"n_samples": 200, "steps": 12,
                                                                         "noise": 0.3}, seed=3).x_train)
    assert not np.array_equal(again.x_train, other.x_train)


def test_sine_sequence_settings_are_bounded_and_shape_the_plan():
    config = TrainConfig.from_dict(SEQUENCE)
    assert config.dataset.input_shape == (8, 1)
    for key, value in (("steps", 1), ("steps", 10_000), ("n_samples", 10**7), ("noise", -1)):
        with pytest.raises(ConfigError) as error:
            TrainConfig.from_dict({**SEQUENCE, "dataset": {"name": "sine_sequence", key: value}})
        assert error.value.key == f"dataset.{key}"


def test_the_prediction_chart_shows_the_model_against_the_truth_over_the_test_windows():
    engine = Engine(TrainConfig.from_dict(SEQUENCE))
    for _ in engine.run():
        pass
    frame = frame_for(engine.dataset, engine.predict, engine.epoch)
    assert isinstance(frame, CurveFrame) and frame.epoch == 3
    n = min(len(engine.dataset.y_test), SEQUENCE_POINTS)
    np.testing.assert_allclose(frame.ys, engine.predict(engine.dataset.x_test)[:n, 0], rtol=1e-6)
    figure = plots.data_figure(engine.dataset, frame)
    truth, model = figure.data
    assert (truth.name, model.name) == ("truth", "model") and "epoch 3" in figure.layout.title.text
    np.testing.assert_array_equal(truth.y, engine.dataset.y_test[:n, 0])
    assert len(plots.data_figure(engine.dataset).data) == 1  # before training: the truth alone


def test_cli_trains_and_predicts_a_sequence_model(tmp_path, capsys):
    path = tmp_path / "seq.json"
    path.write_text(json.dumps(SEQUENCE))
    assert main(["train", str(path), "--quiet", "--save", str(tmp_path / "seq.pt")]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert metrics["epochs"] == 3 and metrics["r2"] is not None
    values = [str(round(float(np.sin(i * 2 * np.pi / 25)), 3)) for i in range(8)]
    assert main(["predict", str(tmp_path / "seq.pt"), *values]) == 0
    assert len(json.loads(capsys.readouterr().out)["output"]) == 1
    assert main(["predict", str(tmp_path / "seq.pt"), "1", "2"]) == 2
    assert "takes 8 input value(s)" in capsys.readouterr().err


def test_views_made_for_mlps_and_cnns_leave_a_recurrent_model_alone():
    config = TrainConfig.from_dict({"dataset": {"name": "digits"}, "device": "cpu", "layers": [
        {"type": "conv2d", "out": 3, "padding": 1}, {"type": "relu"}, {"type": "lstm", "hidden": 6},
        {"type": "linear"}]})
    model = build_model(plan_model(config.layers, (1, 8, 8), 10))
    assert not network.is_mlp(model) and network.diagram(model) is None
    assert network.neuron_maps(model, [(0.0, 1.0), (0.0, 1.0)]) is None
    assert explain.conv_activations(model, np.zeros((8, 8), np.float32)).shape[0] == 3  # the conv before it
    weights = {name: value.detach().clone() for name, value in model.state_dict().items()}
    assert inside_panel.inside_figures(config, weights) is None
    sequence = TrainConfig.from_dict({**SEQUENCE, "dataset": {"name": "sine_sequence", "steps": 2}})
    sequence_model = build_model(plan_model(sequence.layers, (2, 1), 1))
    weights = {name: value.detach().clone() for name, value in sequence_model.state_dict().items()}
    assert inside_panel.inside_figures(sequence, weights) is None  # 2 steps are not a 2-D plane


def test_a_recurrent_setup_travels_in_a_share_link():
    from playground.share import from_query, to_query

    config = TrainConfig.from_dict({**SEQUENCE, "dataset": {"name": "sine_sequence", "steps": 30, "noise": 0.2},
                                    "layers": [{"type": "lstm", "hidden": 12, "layers": 2, "bidirectional": True,
                                                "batch_first": 0}, {"type": "linear"}]})
    query = to_query(config)
    assert "lstm(" in query["layers"] and query["dataset.steps"] == "30"
    assert from_query(query).config == config


def test_a_linear_on_a_sequence_names_the_recurrent_layers_and_flatten():
    with pytest.raises(LayerError, match="20x1 sequence .*add an RNN, LSTM or GRU layer, or a Flatten layer"):
        plan_model([{"type": "linear", "out": 4}, {"type": "linear"}], (20, 1), 1)


def test_the_registry_declares_a_sequence_shape_at_default_and_chosen_steps():
    from playground.datasets import DATASETS

    assert DATASETS["sine_sequence"].input_shape == (20, 1)
    assert DATASETS["sine_sequence"].shape_for({"steps": 7}) == (7, 1)
