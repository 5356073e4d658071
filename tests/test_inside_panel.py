"""inside_panel: the network diagram and neuron maps are made once per weights, whoever looks."""
import torch

from playground.config import TrainConfig
from playground.model import build_model, plan_for
from playground.ui import inside_panel


def weights_of(config: TrainConfig, seed: int) -> dict:
    torch.manual_seed(seed)
    return {name: value.detach().clone() for name, value in build_model(plan_for(config)).state_dict().items()}


def test_the_figures_are_made_once_per_weights_and_anew_for_new_weights(monkeypatch):
    config = TrainConfig()
    first = weights_of(config, 1)
    made = []
    real = inside_panel._make_figures
    monkeypatch.setattr(inside_panel, "_make_figures", lambda *args: made.append(args) or real(*args))
    diagram, neurons = inside_panel.inside_figures(config, first)
    assert diagram is not None and neurons is not None  # the default spiral's MLP: both views
    assert inside_panel.inside_figures(TrainConfig(), first) == (diagram, neurons)  # an equal config: the same
    assert len(made) == 1
    second = inside_panel.inside_figures(config, weights_of(config, 2))
    assert len(made) == 2 and second[0] is not diagram
    assert inside_panel.inside_figures(config, None) is None  # no weights yet: nothing to show
