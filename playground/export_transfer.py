"""The exported script's transfer learning: its start (a path argument) and its frozen layers.

`export` asks for the settings, the functions and the lines of `main()` a config with "start_from"
or "freeze" needs; each is empty for a config with neither. The script loads the starting model's
weights as `transfer` does (a Neural Playground .pt read with `weights_only`, or torchvision's ImageNet
ResNet-18) and copies and freezes with the app's own functions (`transfer_weights`), so it starts
where the app's run started. A start the server stores ("upload:..." or "run:...") becomes the file
name START_FILE: the page offers that file next to the script. Knows nothing about the UI.
"""
from __future__ import annotations

import inspect

from . import transfer, transfer_weights
from .config import TrainConfig
from .model import ModelPlan
from .pretrained import LAYER_TYPES, PRETRAINED_MODELS

FROZEN_NORMS = "hold_frozen_norms(model, FREEZE)  # the frozen layers' BatchNorm keeps its running averages"
START_FILE = "start.pt"  # the name the script reads a stored start under by default

LOAD_START = '''
def load_start(source):
    """The starting weights: a Neural Playground .pt file (read weights_only: it can run no code), or
    torchvision's ImageNet ResNet-18 placed under each of the model's ResNet-18 layers."""
    if source == "torchvision:resnet18":
        import torchvision

        state = torchvision.models.resnet18(weights="IMAGENET1K_V1").state_dict()  # downloads once
        return {f"{i}.{key}": value for i in RESNET_LAYERS for key, value in state.items()
                if not key.startswith("fc.")}
    return torch.load(source, map_location="cpu", weights_only=True)["state_dict"]'''

START = '''kept, new = start_weights(model, load_start(args.start), N_LAYERS, NEW_HEAD)
print(f"started from {args.start}: kept layers {[i + 1 for i in kept]}, new weights for {[i + 1 for i in new]}")'''


def start_file(config: TrainConfig) -> str | None:
    """The default --start of the script: the CLI's path, the torchvision name, or START_FILE for a start the
    server keeps (the Playground's Start from offers its file)."""
    start = config.start_from
    if start is None or start in PRETRAINED_MODELS:
        return start
    return START_FILE if transfer.STORE_ID.fullmatch(start) or start == transfer.DEFAULT_MNIST else start


def constants(config: TrainConfig, plan: ModelPlan) -> str:
    """The settings lines (empty without transfer)."""
    lines = []
    if config.start_from:
        head = transfer.preview(config, plan).head  # a built-in start by its shapes: nothing downloaded here
        resnets = [i for i, spec in enumerate(plan.layers) if spec["type"] in LAYER_TYPES]
        lines += [f"START_FROM = {start_file(config)!r}  # the model whose weights this one starts from (--start)",
                  f"N_LAYERS = {len(plan.layers)}  # layers in the stack",
                  f"NEW_HEAD = {head!r}  # this layer (0-based) gets fresh weights: "
                  + ("the start learned other classes" if head is not None else "None: every fitting layer is kept"),
                  *([f"RESNET_LAYERS = {resnets!r}  # the ResNet-18 layers' positions"] if resnets else [])]
    if config.freeze:
        lines.append(f"FREEZE = {config.freeze}  # the first layers do not learn")
    return "\n".join(lines)


def blocks(config: TrainConfig) -> list[str]:
    """The functions the script needs for its start and its frozen layers."""
    found = []
    if config.start_from:
        found += [LOAD_START.strip("\n"), inspect.getsource(transfer_weights.start_weights)]
    if config.freeze:
        found += [inspect.getsource(function) for function in (transfer_weights.freeze_layers,
                                                               transfer_weights.hold_frozen_norms)]
    return [block.strip("\n") for block in found]


def argument(config: TrainConfig) -> str:
    if not config.start_from:
        return ""
    return 'parser.add_argument("--start", default=START_FROM, help="the starting model (.pt)")'


def main_lines(config: TrainConfig) -> str:
    """What main() does after building the model: start from the weights, then freeze."""
    lines = [START] if config.start_from else []
    if config.freeze:
        lines.append("freeze_layers(model, FREEZE)")
    return "\n".join(lines)
