"""Network diagram and neuron maps: which models are MLPs, the numbers read from them, edges bucketed
by sign and size, wide layers elided, neuron outputs equal to torch by hand, and small figures."""
import numpy as np
import pytest
import torch
from torch import nn

from playground.layers import ResidualBlock
from playground.model import ImageNormalize, Standardize
from playground.network import (
    GAP,
    MAX_UNITS,
    NEGATIVE,
    POSITIVE,
    TOP,
    WIDTH_LEVELS,
    ZERO,
    NeuronMaps,
    diagram,
    is_mlp,
    network_figure,
    neuron_figure,
    neuron_maps,
)

RANGES = [(-1.0, 2.0), (-3.0, 1.0)]


def linear(weight, bias=None) -> nn.Linear:
    """A Linear with the given (out, in) weight and bias (zeros when None)."""
    weight = torch.tensor(weight, dtype=torch.float32)
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(torch.zeros(weight.shape[0]) if bias is None else torch.tensor(bias))
    return layer


def mlp(*sizes: int, activation=nn.ReLU) -> nn.Sequential:
    torch.manual_seed(0)
    modules = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        modules += [nn.Linear(n_in, n_out), activation()]
    return nn.Sequential(*modules[:-1])


def grid_point(maps: NeuronMaps, row: int, column: int) -> torch.Tensor:
    return torch.tensor([[maps.xs[column], maps.ys[row]]])


def edge_traces(fig) -> list:
    return [t for t in fig.data if t.mode == "lines"]


def nodes(fig):
    return next(t for t in fig.data if t.mode == "markers+text")


def segments(fig) -> dict:
    """{(x0, y0, x1, y1): (colour, width)} of every edge drawn."""
    found = {}
    for trace in edge_traces(fig):
        xs, ys = np.asarray(trace.x).reshape(-1, 3), np.asarray(trace.y).reshape(-1, 3)
        assert np.isnan(xs[:, 2]).all() and np.isnan(ys[:, 2]).all()  # each segment ends in a gap
        for (x0, x1, _), (y0, y1, _) in zip(xs, ys):
            found[(float(x0), float(y0), float(x1), float(y1))] = (trace.line.color, trace.line.width)
    return found


def node_y(fig) -> dict:
    """{(column, "unit k of n"): y} from the node trace's hover text."""
    trace = nodes(fig)
    return {(int(x), text.split("<br>")[1]): float(y) for x, y, text in zip(trace.x, trace.y, trace.hovertext)}


def test_is_mlp_accepts_linear_stacks_with_elementwise_layers_and_standardize_first():
    activations = [nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.LeakyReLU(), nn.GELU(), nn.ELU()]
    assert is_mlp(nn.Sequential(Standardize(torch.zeros(2), torch.ones(2)), nn.Linear(2, 4), *activations,
                                nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 3), nn.LogSoftmax(dim=1)))
    assert is_mlp(nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=1)))


def test_is_mlp_rejects_conv_image_and_residual_models():
    assert not is_mlp(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 26 * 26, 10)))
    assert not is_mlp(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)))
    assert not is_mlp(nn.Sequential(ImageNormalize(torch.tensor(0.1), torch.tensor(0.3)), nn.Linear(784, 10)))
    assert not is_mlp(nn.Sequential(ResidualBlock(1, 4), nn.Flatten(), nn.Linear(4, 10)))
    assert not is_mlp(nn.Sequential(nn.MaxPool2d(2), nn.Linear(14, 10)))
    assert not is_mlp(nn.Sequential(nn.ReLU()))  # no Linear
    assert not is_mlp(nn.Linear(2, 3))  # not a Sequential


def test_diagram_reads_sizes_titles_and_copies_of_the_weights():
    torch.manual_seed(0)
    model = nn.Sequential(Standardize(torch.zeros(2), torch.ones(2)), nn.Linear(2, 5), nn.BatchNorm1d(5), nn.ReLU(),
                          nn.Dropout(0.2), nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3), nn.Softmax(dim=1))
    d = diagram(model)
    assert d.layer_sizes == (2, 5, 4, 3)
    assert d.layer_titles == ("inputs", "Linear 5 · BatchNorm1d · ReLU · Dropout", "Linear 4 · Tanh", "outputs")
    for weights, layer in zip(d.weights, (model[1], model[5], model[7])):
        assert weights.dtype == np.float32 and np.array_equal(weights, layer.weight.detach().numpy())
    before = d.weights[0].copy()
    with torch.no_grad():
        model[1].weight.add_(1.0)
    assert np.array_equal(d.weights[0], before)  # a copy: training on does not change the diagram


def test_diagram_is_none_for_conv_models():
    assert diagram(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 6 * 6, 3))) is None


def test_wide_layer_shows_its_first_and_last_units_and_a_more_marker():
    fig = network_figure(diagram(mlp(2, 100, 3)), ["x1", "x2"], ["a", "b", "c"])
    hover = [text.split("<br>")[1] for text in nodes(fig).hovertext]
    assert len(hover) == 2 + MAX_UNITS + 3
    hidden = [h for h in hover if h.endswith("of 100")]
    assert hidden == [f"unit {k} of 100" for k in (*range(1, 9), *range(93, 101))]
    more = next(t for t in fig.data if t.mode == "text")
    assert list(more.text) == ["⋮ +84 more"] and list(more.x) == [1]
    ys = node_y(fig)
    assert ys[(1, "unit 8 of 100")] > more.y[0] > ys[(1, "unit 93 of 100")]  # the marker sits in the gap
    narrow = network_figure(diagram(mlp(2, 100, 3)), ["x1", "x2"], ["a", "b", "c"], max_units=6)
    assert list(next(t for t in narrow.data if t.mode == "text").text) == ["⋮ +94 more"]


def test_edge_traces_are_few_whatever_the_number_of_edges():
    small = network_figure(diagram(mlp(2, 3, 2)), ["x1", "x2"], ["a", "b"])
    large = network_figure(diagram(mlp(2, 100, 100, 100, 100, 10)), ["x1", "x2"], list("abcdefghij"))
    assert len(segments(large)) == 2 * 16 + 3 * 16 * 16 + 16 * 10
    for fig in (small, large):
        assert len(edge_traces(fig)) <= 2 * WIDTH_LEVELS
        assert len(fig.data) <= 2 * WIDTH_LEVELS + 2


def test_edges_are_coloured_by_sign_and_sized_by_magnitude_within_their_layer():
    # Layer 1 max |w| = 1: 1.0 and -1.0 are widest, -0.5 is level 2 of 0-4, 0.1 level 0.
    # Layer 2 max |w| = 0.6: 0.6 is widest, -0.3 (half of it) level 2.
    model = nn.Sequential(linear([[1.0, -0.5], [-1.0, 0.1]]), nn.ReLU(), linear([[-0.3, 0.6]]))
    fig = network_figure(diagram(model), ["x1", "x2"], ["y"])
    y = node_y(fig)
    x1, x2, h1, h2 = y[0, "unit 1 of 2"], y[0, "unit 2 of 2"], y[1, "unit 1 of 2"], y[1, "unit 2 of 2"]
    out = y[2, "unit 1 of 1"]
    assert segments(fig) == {
        (0.0, x1, 1.0, h1): (POSITIVE, 6.0), (0.0, x2, 1.0, h1): (NEGATIVE, 3.25),
        (0.0, x1, 1.0, h2): (NEGATIVE, 6.0), (0.0, x2, 1.0, h2): (POSITIVE, 0.5),
        (1.0, h1, 2.0, out): (NEGATIVE, 3.25), (1.0, h2, 2.0, out): (POSITIVE, 6.0)}
    opacity = {t.line.width: t.opacity for t in edge_traces(fig)}
    assert opacity[0.5] < opacity[3.25] < opacity[6.0]


def test_diverged_or_zero_weights_draw_without_failing():
    model = nn.Sequential(linear([[float("nan"), 1.0], [0.0, -2.0]]), nn.ReLU(), linear([[0.0, 0.0]]))
    fig = network_figure(diagram(model), ["x1", "x2"], ["y"])
    # The NaN weight draws no edge; the others scale to max |w| = 2; an all-zero layer draws thin edges.
    assert sorted(width for _, width in segments(fig).values()) == [0.5, 0.5, 0.5, 3.25, 6.0]


def test_network_figure_labels_ends_by_name_and_keeps_a_fixed_view():
    fig = network_figure(diagram(mlp(2, 4, 3)), ["x1", "x2"], ["cat", "dog"])
    assert [t for t in nodes(fig).text if t] == ["x1", "x2", "cat", "dog", "#3"]  # a missing name: "#i"
    layout = fig.layout
    assert layout.showlegend is False and layout.height == 360 and layout.title.text is None
    assert layout.xaxis.fixedrange and layout.yaxis.fixedrange and layout.xaxis.range and layout.yaxis.range
    assert layout.paper_bgcolor == layout.plot_bgcolor == "rgba(0,0,0,0)"
    assert list(layout.xaxis.ticktext) == ["inputs", "Linear 4<br>ReLU", "outputs"]


def test_network_figure_json_is_under_60_kb_for_a_2_100_100_3_net():
    fig = network_figure(diagram(mlp(2, 100, 100, 3)), ["x1", "x2"], ["a", "b", "c"])
    assert len(fig.to_json()) < 60_000


def test_neuron_maps_equal_the_hidden_activations_computed_by_hand():
    model = mlp(2, 5, 4, 3, activation=nn.Tanh)
    model[1] = nn.ReLU()
    maps = neuron_maps(model, RANGES, grid=9)
    assert maps.xs[0] == -1.0 and maps.xs[-1] == 2.0 and maps.ys[0] == -3.0 and maps.ys[-1] == 1.0
    assert [title for title, _ in maps.layers] == ["Linear 5 · ReLU", "Linear 4 · Tanh"]
    first, second = (values for _, values in maps.layers)
    assert first.shape == (5, 9, 9) and second.shape == (4, 9, 9) and first.dtype == np.float32
    for row, column in ((0, 0), (8, 0), (3, 7), (8, 8)):
        hidden = torch.relu(model[0](grid_point(maps, row, column)))
        np.testing.assert_allclose(first[:, row, column], hidden[0].detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(second[:, row, column], torch.tanh(model[2](hidden))[0].detach().numpy(),
                                   rtol=1e-5, atol=1e-6)


def test_neuron_maps_standardize_the_grid_when_the_model_starts_with_standardize():
    torch.manual_seed(1)
    mean, std = torch.tensor([0.5, -1.0]), torch.tensor([2.0, 0.25])
    model = nn.Sequential(Standardize(mean, std), nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    maps = neuron_maps(model, RANGES, grid=5)
    expected = torch.relu(model[1]((grid_point(maps, 4, 1) - mean) / std))[0].detach().numpy()
    np.testing.assert_allclose(maps.layers[0][1][:, 4, 1], expected, rtol=1e-5, atol=1e-6)


def test_neuron_maps_read_after_the_activation_or_the_bare_linear():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 3), nn.Sigmoid(), nn.BatchNorm1d(3), nn.Linear(3, 1))
    with torch.no_grad():
        model[3].running_mean.fill_(5.0)  # would shift every value if it were read after the batch norm
    maps = neuron_maps(model, RANGES, grid=4)
    point = grid_point(maps, 2, 3)
    bare = model[0](point)  # nothing follows the first Linear: its own output, negatives kept
    np.testing.assert_allclose(maps.layers[0][1][:, 2, 3], bare[0].detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(maps.layers[1][1][:, 2, 3], torch.sigmoid(model[1](bare))[0].detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert [title for title, _ in maps.layers] == ["Linear 3", "Linear 3 · Sigmoid · BatchNorm1d"]


def test_neuron_maps_keep_the_diagram_units_of_a_wide_layer():
    model = mlp(2, 20, 3)
    values = neuron_maps(model, RANGES, grid=3, max_units=4).layers[0][1]
    maps = neuron_maps(model, RANGES, grid=3)
    hidden = torch.relu(model[0](grid_point(maps, 1, 2)))[0].detach().numpy()
    np.testing.assert_allclose(values[:, 1, 2], hidden[[0, 1, 18, 19]], rtol=1e-5, atol=1e-6)


def test_neuron_maps_are_none_unless_an_mlp_has_two_inputs():
    assert neuron_maps(mlp(1, 4, 1), [(-1.0, 1.0)]) is None
    assert neuron_maps(mlp(3, 4, 2), [*RANGES, (0.0, 1.0)]) is None
    assert neuron_maps(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2, 3)), RANGES) is None
    assert neuron_maps(nn.Sequential(nn.Linear(2, 3)), RANGES).layers == ()  # no hidden layer: nothing to map


def test_neuron_maps_run_in_eval_mode_and_restore_the_model_mode():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Dropout(0.9), nn.Linear(4, 2))
    model.train()
    model[3].eval()  # a mixed mode is restored module by module
    running = model[1].running_mean.clone()
    maps = neuron_maps(model, RANGES, grid=4)
    assert [m.training for m in model] == [True, True, True, False, True]
    assert torch.equal(model[1].running_mean, running)  # eval mode: batch norm statistics untouched
    expected = torch.relu(model[1].eval()(model[0](grid_point(maps, 1, 1))))[0].detach().numpy()
    np.testing.assert_allclose(maps.layers[0][1][:, 1, 1], expected, rtol=1e-5, atol=1e-6)  # no dropout


def test_neuron_figure_codes_are_centred_on_zero_scaled_per_layer_and_x2_points_up():
    tile = np.zeros((3, 2, 2), np.float32)
    tile[1] = [[2.0, 2.0], [0.0, 0.0]]  # row 0 is the lowest x2
    tile[2] = [[-2.0, np.nan], [-2.0, -2.0]]
    small = tile / 8  # the same shape at a quarter of the scale codes the same
    fig = neuron_figure(NeuronMaps(np.zeros(2), np.zeros(2), (("a", tile), ("b", small))))
    assert [t.type for t in fig.data] == ["heatmap", "heatmap"]
    first, second = (np.asarray(t.z) for t in fig.data)
    assert first.dtype == np.uint8 and np.array_equal(first, second)
    gap = (first.shape[1] - 3 * 2) // 2  # columns between the 3 tiles
    unit = [first[:, k * (2 + gap):k * (2 + gap) + 2] for k in range(3)]
    assert (unit[0] == ZERO).all()
    assert unit[1].tolist() == [[ZERO, ZERO], [TOP, TOP]]  # flipped: high x2 at the top, +max is TOP
    assert unit[2].tolist() == [[1, 1], [1, GAP]]  # -max is 1; a NaN is a see-through gap
    assert (first[:, 2:2 + gap] == GAP).all()
    assert [a.text for a in fig.layout.annotations] == ["a", "b"]


def test_neuron_figure_json_is_under_60_kb_for_two_layers_of_16_units():
    maps = neuron_maps(mlp(2, 100, 100, 3), RANGES, grid=32)
    assert [values.shape for _, values in maps.layers] == [(16, 32, 32)] * 2
    fig = neuron_figure(maps)
    assert len(fig.to_json()) < 60_000
    assert not fig.layout.xaxis.showticklabels and not fig.layout.yaxis.showticklabels


def test_neuron_figure_without_hidden_layers_is_empty():
    assert neuron_figure(neuron_maps(nn.Sequential(nn.Linear(2, 3)), RANGES)).data == ()


@pytest.mark.parametrize("activation", [nn.ReLU, nn.Tanh, nn.Sigmoid])
def test_neuron_maps_and_figures_agree_on_units_and_titles(activation):
    model = mlp(2, 30, 6, 2, activation=activation)
    d, maps = diagram(model), neuron_maps(model, RANGES, grid=8)
    assert [title for title, _ in maps.layers] == list(d.layer_titles[1:-1])
    assert [values.shape[0] for _, values in maps.layers] == [min(size, MAX_UNITS) for size in d.layer_sizes[1:-1]]


def test_a_stack_longer_than_a_config_allows_is_not_drawn():
    from playground.layers import MAX_LAYERS

    allowed = nn.Sequential(Standardize(torch.zeros(2), torch.ones(2)), nn.Linear(2, 3),
                            *[nn.ReLU() for _ in range(MAX_LAYERS - 1)])
    assert is_mlp(allowed) and diagram(allowed) is not None
    longer = nn.Sequential(*allowed, nn.ReLU())
    assert not is_mlp(longer) and diagram(longer) is None and neuron_maps(longer, RANGES) is None
