"""Transfer learning on a built model: copy the starting weights that fit, freeze the first layers (their
BatchNorm's running averages too).

Plain torch on an `nn.Sequential` whose first module may be the input normalisation (its buffers
are "0.mean" and "0.std"; it is never copied: the new data keeps its own statistics). Layer i of a
stack is module i, or i + 1 after a normalisation, in both the model and the starting state_dict.
`export` copies these functions into its scripts, so the app and a script start the same way: they
import nothing of the playground. Which layer is the head, and where the state comes from, is
`transfer`'s business.
"""
from __future__ import annotations

from .lazy import lazy_module

torch = lazy_module("torch")  # imported on first use: `export` reads these functions' source on pages without torch


def start_weights(model, source, n_layers, head=None):
    """Copy into `model` every layer of the starting state_dict `source` whose weights and buffers have
    the same names and shapes; layer `head` (an index, or None) always keeps its fresh weights.
    Returns (kept, new): the 0-based indexes of the layers with weights that were copied or left fresh."""
    target = model.state_dict()  # its tensors share the model's storage: copying into them sets the weights
    mine, theirs = int("0.mean" in target), int("0.mean" in source)
    kept, new = [], []
    for i in range(n_layers):
        own = {key.split(".", 1)[1]: value for key, value in target.items() if key.split(".", 1)[0] == str(i + mine)}
        if not own:
            continue
        given = {key.split(".", 1)[1]: value for key, value in source.items()
                 if key.split(".", 1)[0] == str(i + theirs)}
        fits = i != head and given.keys() == own.keys() and all(given[k].shape == own[k].shape for k in own)
        if fits:
            with torch.no_grad():
                for key, value in own.items():
                    value.copy_(given[key])
        (kept if fits else new).append(i)
    return kept, new


def freeze_layers(model, n_frozen):
    """Stop the first `n_frozen` layers learning (requires_grad False: no gradient, the optimizer skips them),
    their BatchNorm's running averages too (`hold_frozen_norms`)."""
    first = int("0.mean" in model.state_dict())
    for module in list(model)[first:first + n_frozen]:
        for parameter in module.parameters():
            parameter.requires_grad_(False)
    hold_frozen_norms(model, n_frozen)


def hold_frozen_norms(model, n_frozen):
    """Put the BatchNorm modules inside the first `n_frozen` layers in eval mode: they normalise with the
    running averages they started with and stop updating them, as transfer learning usually does (call it
    after every `model.train()`, which puts them back in training mode)."""
    first = int("0.mean" in model.state_dict())
    for layer in list(model)[first:first + n_frozen]:
        for module in layer.modules():
            if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)):
                module.eval()
