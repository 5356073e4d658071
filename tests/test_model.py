"""Model builder: shape inference, the layer summary, every rejection, and the built torch model."""
import resource
import time

import pytest
import torch
from torch import nn

from playground.layers import LayerError
from playground.losses import LOSSES
from playground.model import MAX_PARAMETERS, ModelPlan, Standardize, build_model, plan_model

RELU_NET = [{"type": "linear", "out": 100}, {"type": "relu"}, {"type": "linear"}]


def test_plan_infers_the_last_linear_output_and_the_first_input():
    plan = plan_model(RELU_NET, (2,), 3)
    assert isinstance(plan, ModelPlan)
    assert plan.layers[-1]["out"] == 3
    assert plan.input_shape == (2,) and plan.output_shape == (3,)
    assert plan.rows[0].detail == "2 -> 100"
    assert plan.rows[2].detail == "100 -> 3"


def test_summary_rows_give_output_shapes_and_parameter_counts():
    plan = plan_model(RELU_NET, (2,), 3)
    assert [row.index for row in plan.rows] == [0, 1, 2]
    assert [row.title for row in plan.rows] == ["Linear", "ReLU", "Linear"]
    assert [row.output_shape for row in plan.rows] == [(100,), (100,), (3,)]
    assert [row.parameters for row in plan.rows] == [300, 0, 303]
    assert plan.parameters == 603


def test_single_linear_layer_plan():
    plan = plan_model([{"type": "linear"}], (1,), 1)
    assert plan.parameters == 2 and plan.output_shape == (1,)


def test_plan_does_not_change_the_given_specs():
    layers = [dict(spec) for spec in RELU_NET]
    plan_model(layers, (2,), 3)
    assert layers == RELU_NET


def test_summary_details_show_layer_parameters():
    plan = plan_model([{"type": "linear", "out": 8}, {"type": "dropout", "p": 0.25}, {"type": "linear"}], (2,), 2)
    assert plan.rows[1].detail == "p=0.25"
    assert plan.rows[1].output_shape == (8,)


def test_empty_stack_is_rejected():
    with pytest.raises(LayerError, match="empty") as caught:
        plan_model([], (2,), 3)
    assert caught.value.index is None


def test_non_last_linear_without_out_is_rejected():
    with pytest.raises(LayerError) as caught:
        plan_model([{"type": "linear"}, {"type": "relu"}, {"type": "linear"}], (2,), 3)
    error = caught.value
    assert error.index == 0 and error.param == "out"
    assert "only the last Linear may be left empty" in error.message


def test_explicit_output_size_mismatch_names_the_layer_and_the_fix():
    with pytest.raises(LayerError) as caught:
        plan_model([{"type": "linear", "out": 100}, {"type": "relu"}, {"type": "linear", "out": 5}], (2,), 3)
    error = caught.value
    assert error.index == 2 and error.param == "out"
    assert str(error).startswith("Layer 3:")
    assert "set its output size to 3 or leave it empty" in str(error)


def test_mismatch_is_blamed_on_the_last_linear_even_when_activations_follow():
    with pytest.raises(LayerError) as caught:
        plan_model([{"type": "linear", "out": 4}, {"type": "tanh"}], (2,), 3)
    assert caught.value.index == 0


def test_stack_without_linear_is_rejected_when_sizes_differ():
    with pytest.raises(LayerError, match="add a Linear layer") as caught:
        plan_model([{"type": "relu"}, {"type": "tanh"}], (2,), 3)
    assert caught.value.index is None
    assert "outputs 2 values but needs 3" in str(caught.value)


def test_declared_input_size_that_does_not_match_the_data_is_rejected():
    with pytest.raises(LayerError) as caught:
        plan_model([{"type": "linear", "in": 5}], (2,), 3)
    error = caught.value
    assert error.index == 0 and error.param == "in"
    assert "declares 5 inputs but the data has 2" in error.message
    assert "leave 'in' empty" in error.message


def test_declared_input_size_that_matches_is_accepted():
    plan = plan_model([{"type": "linear", "in": 2, "out": 4}, {"type": "relu"}, {"type": "linear"}], (2,), 3)
    assert plan.rows[0].parameters == 12


def test_declared_input_size_of_a_later_linear_must_match_its_input():
    with pytest.raises(LayerError) as caught:
        plan_model([{"type": "linear", "out": 10}, {"type": "relu"}, {"type": "linear", "in": 5}], (2,), 3)
    assert caught.value.index == 2


def test_too_many_parameters_is_refused_without_allocating_them():
    layers = [{"type": "linear", "out": 4096}] * 60 + [{"type": "linear"}]  # ~1e9 parameters, ~4 GB
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(LayerError, match=f"over the limit of {MAX_PARAMETERS:,}") as caught:
        plan_model(layers, (2,), 3)
    assert time.perf_counter() - started < 5
    growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert growth_kib < 500 * 1024
    assert caught.value.index is None
    assert "fewer or narrower layers" in caught.value.message


def test_parameter_limit_counts_every_layer():
    under = [{"type": "linear", "out": 2000}, {"type": "relu"}, {"type": "linear", "out": 2000}, {"type": "linear"}]
    assert plan_model(under, (2,), 3).parameters < MAX_PARAMETERS
    over = [{"type": "linear", "out": 2500}, {"type": "relu"}, {"type": "linear", "out": 2000}, {"type": "linear"}]
    with pytest.raises(LayerError, match="over the limit"):
        plan_model(over, (2,), 3)


def test_nll_needs_log_softmax_at_the_end():
    with pytest.raises(LayerError) as caught:
        plan_model(RELU_NET, (2,), 3, LOSSES["nll"])
    assert caught.value.index == 2
    assert "NLL needs the model to end with LogSoftmax" in str(caught.value)
    assert "add a LogSoftmax layer at the end" in str(caught.value)
    plan = plan_model(RELU_NET + [{"type": "log_softmax"}], (2,), 3, LOSSES["nll"])
    assert plan.warnings == ()


def test_bce_needs_sigmoid_at_the_end():
    with pytest.raises(LayerError, match="add a Sigmoid layer at the end"):
        plan_model(RELU_NET, (2,), 1, LOSSES["bce"])
    plan = plan_model(RELU_NET + [{"type": "sigmoid"}], (2,), 1, LOSSES["bce"])
    assert plan.warnings == ()


def test_cross_entropy_after_softmax_warns():
    plan = plan_model(RELU_NET + [{"type": "softmax"}], (2,), 3, LOSSES["cross_entropy"])
    assert len(plan.warnings) == 1
    assert plan.warnings[0].startswith("Layer 4 ends with Softmax")
    assert "Remove the Softmax layer" in plan.warnings[0]


def test_bce_with_logits_after_sigmoid_warns():
    plan = plan_model(RELU_NET + [{"type": "sigmoid"}], (2,), 1, LOSSES["bce_with_logits"])
    assert len(plan.warnings) == 1 and "BCE-with-logits applies sigmoid itself" in plan.warnings[0]


def test_a_sound_stack_has_no_warnings():
    assert plan_model(RELU_NET, (2,), 3, LOSSES["cross_entropy"]).warnings == ()
    assert plan_model([{"type": "linear"}], (1,), 1, LOSSES["mse"]).warnings == ()


def test_two_linears_in_a_row_get_a_collapse_note():
    plan = plan_model([{"type": "linear", "out": 100}, {"type": "linear"}], (2,), 3, LOSSES["cross_entropy"])
    assert plan.warnings == ("Layers 1 and 2 are two Linear layers in a row: they collapse into one linear map "
                             "— put an activation (e.g. ReLU) between them.",)


def test_the_collapse_note_names_each_pair_and_comes_before_the_loss_notes():
    stack = [{"type": "linear", "out": 8}, {"type": "relu"}, {"type": "linear", "out": 8}, {"type": "linear"},
             {"type": "softmax"}]
    warnings = plan_model(stack, (2,), 3, LOSSES["cross_entropy"]).warnings
    assert len(warnings) == 2 and warnings[0].startswith("Layers 3 and 4 are two Linear layers in a row")
    assert warnings[1].startswith("Layer 5 ends with Softmax")
    assert plan_model(stack[2:4], (2,), 3).warnings[0].startswith("Layers 1 and 2")  # without a loss too


@pytest.mark.parametrize("between", ["relu", "tanh", "dropout", "batchnorm1d"])
def test_anything_between_two_linears_takes_the_collapse_note_away(between):
    stack = [{"type": "linear", "out": 8}, {"type": between}, {"type": "linear"}]
    assert plan_model(stack, (2,), 3, LOSSES["cross_entropy"]).warnings == ()


def test_built_model_matches_the_plan():
    layers = [{"type": "linear", "out": 16}, {"type": "batchnorm1d"}, {"type": "gelu"},
              {"type": "dropout", "p": 0.1}, {"type": "linear"}]
    plan = plan_model(layers, (2,), 4)
    model = build_model(plan)
    assert isinstance(model, nn.Sequential) and len(model) == 5
    assert sum(p.numel() for p in model.parameters()) == plan.parameters
    model.eval()
    assert model(torch.randn(7, 2)).shape == (7, *plan.output_shape)


def test_built_model_lives_on_real_memory_not_meta():
    model = build_model(plan_model(RELU_NET, (2,), 3))
    assert all(p.device.type == "cpu" for p in model.parameters())


def test_standardize_is_applied_when_mean_and_std_are_given():
    plan = plan_model([{"type": "linear"}], (2,), 1)
    mean, std = torch.tensor([100.0, 10.0]), torch.tensor([50.0, 2.0])
    model = build_model(plan, mean, std)
    assert isinstance(model[0], Standardize) and len(model) == 2
    assert {"0.mean", "0.std"} <= set(model.state_dict())
    x = torch.tensor([[150.0, 12.0], [100.0, 10.0]])
    torch.testing.assert_close(model(x), model[1]((x - mean) / std))
    torch.testing.assert_close(model[0](x), torch.tensor([[1.0, 1.0], [0.0, 0.0]]))


def test_no_standardize_without_statistics():
    model = build_model(plan_model([{"type": "linear"}], (2,), 1))
    assert not any(isinstance(m, Standardize) for m in model)


def test_stack_without_weights_is_rejected():
    with pytest.raises(LayerError) as caught:
        plan_model([{"type": "relu"}], (1,), 1)
    assert "no weights" in caught.value.message and "add a Linear" in caught.value.message


# --- image stacks: (C, H, W) inputs, convolutions, the image normalisation -----------------------

from playground.model import ImageNormalize  # noqa: E402

CLASSIC_CNN = [{"type": "conv2d", "out": 32, "kernel": 3, "padding": 1}, {"type": "relu"},
               {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear"}]
# PyTorch's examples/mnist network of old, layer for layer.
PYTORCH_EXAMPLE = [{"type": "conv2d", "out": 10, "kernel": 5}, {"type": "maxpool2d", "kernel": 2}, {"type": "relu"},
                   {"type": "conv2d", "out": 20, "kernel": 5}, {"type": "dropout2d"},
                   {"type": "maxpool2d", "kernel": 2}, {"type": "relu"}, {"type": "flatten"},
                   {"type": "linear", "out": 50}, {"type": "relu"}, {"type": "dropout"}, {"type": "linear"},
                   {"type": "log_softmax"}]


class _PyTorchExampleNet(nn.Module):
    """The same network written by hand, to count its parameters independently of the planner."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 10, 5), nn.Conv2d(10, 20, 5)
        self.fc1, self.fc2 = nn.Linear(320, 50), nn.Linear(50, 10)


def test_classic_cnn_rows_give_image_shapes_and_parameter_counts():
    plan = plan_model(CLASSIC_CNN, (1, 28, 28), 10)
    assert plan.input_shape == (1, 28, 28) and plan.output_shape == (10,)
    assert [row.title for row in plan.rows] == ["Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    assert [row.output_shape for row in plan.rows] == [(32, 28, 28), (32, 28, 28), (32, 14, 14), (6272,), (10,)]
    assert [row.parameters for row in plan.rows] == [320, 0, 0, 0, 62_730]
    assert plan.parameters == 320 + 62_730
    assert plan.layers[-1]["out"] == 10


def test_classic_cnn_details_show_image_sizes():
    rows = plan_model(CLASSIC_CNN, (1, 28, 28), 10).rows
    assert rows[0].detail.startswith("1x28x28 -> 32x28x28")
    assert "kernel=3" in rows[0].detail and "padding=1" in rows[0].detail
    assert rows[2].detail.startswith("32x28x28 -> 32x14x14")
    assert rows[3].detail == "32x14x14 -> 6272"
    assert rows[4].detail == "6272 -> 10"


def test_classic_cnn_built_model_matches_the_plan():
    plan = plan_model(CLASSIC_CNN, (1, 28, 28), 10)
    model = build_model(plan)
    assert sum(p.numel() for p in model.parameters()) == plan.parameters
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_pytorch_example_net_plans_to_320_features_and_its_true_parameter_count():
    plan = plan_model(PYTORCH_EXAMPLE, (1, 28, 28), 10, LOSSES["nll"])
    expected = sum(p.numel() for p in _PyTorchExampleNet().parameters())
    assert expected == 21_840
    assert plan.parameters == expected
    assert plan.rows[7].title == "Flatten" and plan.rows[7].output_shape == (320,)
    assert [row.output_shape for row in plan.rows[:7]] == [(10, 24, 24), (10, 12, 12), (10, 12, 12), (20, 8, 8),
                                                            (20, 8, 8), (20, 4, 4), (20, 4, 4)]
    assert plan.warnings == ()
    model = build_model(plan).eval()
    out = model(torch.rand(2, 1, 28, 28))
    assert out.shape == (2, 10)
    torch.testing.assert_close(out.exp().sum(dim=1), torch.ones(2))


def test_linear_after_conv_without_flatten_names_the_layer_and_flatten():
    layers = [{"type": "conv2d", "out": 4, "kernel": 3}, {"type": "relu"}, {"type": "linear"}]
    with pytest.raises(LayerError) as caught:
        plan_model(layers, (1, 8, 8), 10)
    assert caught.value.index == 2
    assert str(caught.value).startswith("Layer 3:")
    assert "Flatten" in caught.value.message
    assert "4x6x6" in caught.value.message


def test_pytorch_example_net_on_8x8_digits_is_rejected_naming_the_layer():
    with pytest.raises(LayerError) as caught:
        plan_model(PYTORCH_EXAMPLE, (1, 8, 8), 10, LOSSES["nll"])
    assert caught.value.index == 3  # the second Conv2d sees a 2x2 image
    assert str(caught.value).startswith("Layer 4:")
    assert "kernel 5 is larger than its 2x2 input" in caught.value.message


def test_stack_ending_in_a_conv_asks_for_flatten_and_linear():
    with pytest.raises(LayerError) as caught:
        plan_model([{"type": "conv2d", "out": 16, "kernel": 3}], (1, 8, 8), 10)
    assert caught.value.index is None
    assert "outputs a 16x6x6 image but needs 10 values" in caught.value.message
    assert "add a Flatten and a Linear" in caught.value.message


def test_activations_per_sample_is_the_input_plus_every_output():
    plan = plan_model(CLASSIC_CNN, (1, 28, 28), 10)
    expected = 784 + 32 * 28 * 28 + 32 * 28 * 28 + 32 * 14 * 14 + 6272 + 10
    assert plan.activations_per_sample == expected
    assert plan_model(RELU_NET, (2,), 3).activations_per_sample == 2 + 100 + 100 + 3


def test_image_normalize_maps_pixels_to_standard_scores():
    mean, std = 0.1307, 0.3081
    normalize = ImageNormalize(torch.tensor(mean), torch.tensor(std))
    x = torch.tensor([[[[0, 255]]]], dtype=torch.uint8)
    expected = torch.tensor([[[[(0 - mean) / std, (1 - mean) / std]]]])
    out = normalize(x)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(normalize(x.float()), expected)  # 0-255 floats are treated the same
    torch.testing.assert_close(normalize(torch.tensor([[[[127.5]]]])), torch.tensor([[[[(0.5 - mean) / std]]]]))


def test_image_normalize_statistics_are_in_the_state_dict_and_copied():
    mean = torch.tensor(0.5)
    normalize = ImageNormalize(mean, torch.tensor(0.25))
    mean += 1  # the caller's tensor changing later must not change the layer
    assert set(normalize.state_dict()) == {"mean", "std"}
    assert float(normalize.mean) == 0.5


def test_build_model_with_statistics_normalises_images_not_standardises():
    plan = plan_model(CLASSIC_CNN, (1, 28, 28), 10)
    model = build_model(plan, torch.tensor(0.5), torch.tensor(0.25))
    assert isinstance(model[0], ImageNormalize) and len(model) == len(CLASSIC_CNN) + 1
    assert not any(isinstance(m, Standardize) for m in model)
    x = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8)
    torch.testing.assert_close(model(x), model[1:]((x.float() / 255 - 0.5) / 0.25))


def test_a_stack_over_max_layers_is_refused_before_any_layer_is_planned(monkeypatch):
    import playground.model as model_module
    from playground.layers import MAX_LAYERS

    monkeypatch.setattr(model_module, "check_spec", lambda *args: pytest.fail("a layer was checked"))
    with pytest.raises(LayerError, match=f"20,000 layers is over the limit of {MAX_LAYERS}"):
        plan_model([{"type": "relu"}] * 20_000, (2,), 3)
