"""Forward FLOPs counted on the meta device agree with the arithmetic of the layers."""
from playground.budget import forward_flops
from playground.config import TrainConfig
from playground.engine import plan_for


def plan(dataset: dict, layers: list):
    return plan_for(TrainConfig.from_dict({"dataset": dataset, "layers": layers}))


def test_linear_layers_count_two_flops_per_weight():
    mlp = plan({"name": "spiral"}, [{"type": "linear", "out": 100}, {"type": "relu"}, {"type": "linear"}])
    assert forward_flops(mlp) == 2 * (2 * 100 + 100 * 3)


def test_convolution_counts_every_output_position():
    cnn = plan({"name": "digits"}, [{"type": "conv2d", "out": 32, "kernel": 3, "padding": 1}, {"type": "relu"},
                                    {"type": "maxpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear"}])
    conv = 2 * 32 * 3 * 3 * 8 * 8  # out channels x kernel x positions, one input channel
    assert forward_flops(cnn) == conv + 2 * (32 * 4 * 4) * 10


def test_counting_allocates_nothing_for_a_large_model():
    wide = plan({"name": "digits"}, [{"type": "flatten"}, {"type": "linear", "out": 2000},
                                     {"type": "linear", "out": 2000}, {"type": "linear"}])
    assert forward_flops(wide) == 2 * (64 * 2000 + 2000 * 2000 + 2000 * 10)
