"""Layer registry: spec checking with readable errors, and building single layers."""
import pytest
import torch
from torch import nn

from playground.layers import (
    FLAT,
    IMAGE,
    LAYERS,
    MAX_FEATURES,
    SEQUENCE,
    LayerError,
    ResidualBlock,
    build_layer,
    check_spec,
)


def test_check_spec_fills_defaults():
    assert check_spec(0, {"type": "dropout"}) == {"type": "dropout", "p": 0.5}
    assert check_spec(0, {"type": "linear"}) == {"type": "linear"}  # empty optional sizes stay absent
    assert check_spec(0, {"type": "leaky_relu"}) == {"type": "leaky_relu", "negative_slope": 0.01}
    assert check_spec(0, {"type": "relu"}) == {"type": "relu"}


def test_check_spec_keeps_given_values_and_copies():
    spec = {"type": "linear", "out": 8}
    clean = check_spec(0, spec)
    assert clean == {"type": "linear", "out": 8}
    assert spec == {"type": "linear", "out": 8}
    assert check_spec(0, {"type": "dropout", "p": 0.2})["p"] == 0.2


@pytest.mark.parametrize("spec", [None, "relu", 3, [], {"out": 3}])
def test_spec_without_a_type_is_rejected_with_an_example(spec):
    with pytest.raises(LayerError, match='"type"') as caught:
        check_spec(2, spec)
    assert caught.value.index == 2
    assert str(caught.value).startswith("Layer 3:")


def test_unknown_type_is_rejected_listing_the_choices():
    with pytest.raises(LayerError) as caught:
        check_spec(0, {"type": "conv9d"})
    error = caught.value
    assert error.param == "type"
    assert "'conv9d'" in error.message and "choose one of" in error.message
    for name in LAYERS:
        assert name in error.message


def test_unknown_parameter_is_rejected_listing_the_layers_parameters():
    with pytest.raises(LayerError) as caught:
        check_spec(1, {"type": "linear", "out": 4, "bias": False})
    error = caught.value
    assert error.param == "bias" and error.index == 1
    assert "'bias'" in error.message and "out" in error.message and "in" in error.message


def test_parameter_of_a_parameterless_layer_is_rejected():
    with pytest.raises(LayerError) as caught:
        check_spec(0, {"type": "relu", "p": 0.5})
    assert caught.value.param == "p"
    assert "none" in caught.value.message


@pytest.mark.parametrize("spec, param, wording", [
    ({"type": "dropout", "p": 1.5}, "p", "between 0 and 0.95"),
    ({"type": "dropout", "p": "half"}, "p", "must be a number"),
    ({"type": "linear", "out": 0}, "out", "between 1 and 4096"),
    ({"type": "linear", "out": MAX_FEATURES + 1}, "out", "between 1 and 4096"),
    ({"type": "linear", "out": 2.5}, "out", "whole number"),
    ({"type": "linear", "out": True}, "out", "must be a number"),
    ({"type": "linear", "out": "10"}, "out", "must be a number"),
    ({"type": "linear", "in": -3}, "in", "between 1 and 4096"),
    ({"type": "elu", "alpha": -1}, "alpha", "between 0 and 10"),
])
def test_bad_parameter_values_name_the_parameter(spec, param, wording):
    with pytest.raises(LayerError) as caught:
        check_spec(4, spec)
    error = caught.value
    assert error.param == param and error.index == 4
    assert f"'{param}'" in error.message and wording in error.message
    assert str(error).startswith("Layer 5:")


def test_layer_error_without_index_is_about_the_model():
    error = LayerError(None, "the stack is empty")
    assert str(error) == "Model: the stack is empty"
    assert error.index is None and error.param is None
    assert isinstance(error, ValueError)


def _spec(name: str) -> dict:
    return check_spec(0, {"type": name, **({"out": 3} if name == "linear" else {})})


FLAT_TYPES = [name for name, layer in LAYERS.items() if layer.accepts not in (IMAGE, SEQUENCE)]
IMAGE_TYPES = [name for name, layer in LAYERS.items() if layer.accepts != FLAT]


@pytest.mark.parametrize("name", FLAT_TYPES)
def test_every_layer_type_builds_and_runs_on_flat_features(name):
    module, out_shape = build_layer(0, _spec(name), (4,))
    assert isinstance(module, nn.Module)
    out = module(torch.randn(5, 4))
    assert tuple(out.shape) == (5, *out_shape)
    if LAYERS[name].elementwise:
        assert out_shape == (4,)


def test_linear_builds_with_inferred_input_size():
    module, out_shape = build_layer(0, {"type": "linear", "out": 7, "in": None}, (2,))
    assert isinstance(module, nn.Linear)
    assert (module.in_features, module.out_features) == (2, 7)
    assert out_shape == (7,)


def test_layer_parameters_reach_the_module():
    dropout, _ = build_layer(0, check_spec(0, {"type": "dropout", "p": 0.3}), (4,))
    leaky, _ = build_layer(0, check_spec(0, {"type": "leaky_relu", "negative_slope": 0.2}), (4,))
    norm, _ = build_layer(0, check_spec(0, {"type": "batchnorm1d"}), (6,))
    assert dropout.p == 0.3
    assert leaky.negative_slope == 0.2
    assert norm.num_features == 6


def test_flat_only_layer_on_images_asks_for_flatten():
    with pytest.raises(LayerError, match="add a Flatten layer before it") as caught:
        build_layer(2, {"type": "linear", "out": 3, "in": None}, (1, 28, 28))
    assert caught.value.index == 2


def test_unhashable_type_is_rejected_with_layer_error():
    with pytest.raises(LayerError):
        check_spec(0, {"type": ["linear"]})


# --- image layers ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", IMAGE_TYPES)
def test_every_image_layer_type_builds_and_its_declared_shape_is_the_real_one(name):
    spec = check_spec(0, {"type": name, **({"out": 3} if name == "linear" else {})})
    if name == "linear":
        pytest.skip("Linear is flat-only")
    module, out_shape = build_layer(0, spec, (3, 9, 7))
    out = module.eval()(torch.randn(2, 3, 9, 7))
    assert tuple(out.shape) == (2, *out_shape)


@pytest.mark.parametrize("spec, in_shape, out_shape", [
    ({"type": "conv2d", "out": 32, "kernel": 3, "padding": 1}, (1, 28, 28), (32, 28, 28)),
    ({"type": "conv2d", "out": 10, "kernel": 5}, (1, 28, 28), (10, 24, 24)),
    ({"type": "conv2d", "out": 8, "kernel": 3, "stride": 2}, (1, 28, 28), (8, 13, 13)),
    ({"type": "maxpool2d", "kernel": 2}, (10, 24, 24), (10, 12, 12)),
    ({"type": "maxpool2d", "kernel": 3, "stride": 1}, (4, 5, 5), (4, 3, 3)),
    ({"type": "avgpool2d", "kernel": 2}, (4, 7, 7), (4, 3, 3)),
    ({"type": "flatten"}, (20, 4, 4), (320,)),
    ({"type": "flatten"}, (5,), (5,)),
    ({"type": "residual"}, (16, 8, 8), (16, 8, 8)),
    ({"type": "residual", "out": 32, "stride": 2}, (16, 8, 8), (32, 4, 4)),
    ({"type": "batchnorm2d"}, (6, 5, 5), (6, 5, 5)),
    ({"type": "dropout2d"}, (6, 5, 5), (6, 5, 5)),
])
def test_image_layer_output_shapes(spec, in_shape, out_shape):
    module, shape = build_layer(0, check_spec(0, spec), in_shape)
    assert shape == out_shape
    assert tuple(module.eval()(torch.zeros(2, *in_shape)).shape) == (2, *out_shape)


def test_conv_parameters_reach_the_module():
    conv, _ = build_layer(0, check_spec(0, {"type": "conv2d", "out": 32, "kernel": 5, "stride": 2, "padding": 1}),
                          (3, 28, 28))
    assert (conv.in_channels, conv.out_channels) == (3, 32)
    assert conv.kernel_size == (5, 5) and conv.stride == (2, 2) and conv.padding == (1, 1)
    pool, _ = build_layer(0, check_spec(0, {"type": "maxpool2d", "kernel": 3}), (3, 9, 9))
    assert pool.kernel_size == 3 and pool.stride == 3  # stride defaults to the kernel


@pytest.mark.parametrize("spec, in_shape", [
    ({"type": "conv2d", "kernel": 5}, (20, 2, 2)),
    ({"type": "conv2d", "kernel": 9, "padding": 1}, (1, 4, 4)),
    ({"type": "maxpool2d", "kernel": 4}, (8, 3, 3)),
    ({"type": "avgpool2d", "kernel": 2}, (8, 1, 5)),
])
def test_kernel_larger_than_its_input_names_the_layer_and_the_fix(spec, in_shape):
    with pytest.raises(LayerError) as caught:
        build_layer(3, check_spec(3, spec), in_shape)
    error = caught.value
    assert error.index == 3 and str(error).startswith("Layer 4:")
    assert "is larger than its" in error.message
    assert "use a kernel of at most" in error.message and "add padding" in error.message


@pytest.mark.parametrize("name", ["conv2d", "maxpool2d", "avgpool2d", "batchnorm2d", "residual"])
def test_image_layers_on_flat_features_say_where_they_belong(name):
    with pytest.raises(LayerError, match="needs an image input .* before the Flatten"):
        build_layer(0, check_spec(0, {"type": name}), (100,))


def test_dropout2d_on_flat_features_points_to_dropout():
    with pytest.raises(LayerError, match="use Dropout for flat features"):
        build_layer(0, check_spec(0, {"type": "dropout2d"}), (100,))


def test_residual_block_adds_its_input_back():
    block = ResidualBlock(4, 4)
    for module in (block.conv1, block.conv2):
        torch.nn.init.zeros_(module.weight)
    x = torch.rand(2, 4, 5, 5)  # non-negative: relu(0 + x) == x
    assert torch.allclose(block.eval()(x), x)
    assert isinstance(block.shortcut, nn.Identity)
    assert not isinstance(ResidualBlock(4, 8).shortcut, nn.Identity)


@pytest.mark.parametrize("spec, param", [
    ({"type": "conv2d", "out": 0}, "out"),
    ({"type": "conv2d", "kernel": 0}, "kernel"),
    ({"type": "conv2d", "out": 100000}, "out"),
    ({"type": "conv2d", "padding": -1}, "padding"),
    ({"type": "maxpool2d", "kernel": 2.5}, "kernel"),
    ({"type": "residual", "stride": 3}, "stride"),
])
def test_bad_conv_parameters_are_rejected_by_name(spec, param):
    with pytest.raises(LayerError) as caught:
        check_spec(0, spec)
    assert caught.value.param == param


def test_a_hostile_type_or_parameter_name_is_quoted_briefly():
    with pytest.raises(LayerError) as caught:
        check_spec(0, {"type": "x" * 100_000})
    assert len(str(caught.value)) < 400
    with pytest.raises(LayerError) as caught:
        check_spec(0, {"type": "relu", "y" * 100_000: 1})
    assert len(str(caught.value)) < 200 and len(caught.value.param) <= 60
