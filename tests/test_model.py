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
    layers = [{"type": "linear", "out": 4096}] * 100 + [{"type": "linear"}]  # ~1.7e9 parameters, ~7 GB
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
