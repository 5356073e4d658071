"""torchvision's pretrained models as a stack's layers: the "resnet18" layer and its ImageNet start.

The "resnet18" layer is `torchvision.models.resnet18` without its `fc`: any 3-channel image in, 512
features out, so the stack's next Linear is the new head (the material's `model.fc = nn.Linear(512,
10)`). `"start_from": "torchvision:resnet18"` gives every such layer ImageNet's weights, downloaded
once into torch.hub's cache, checked against the hash in its name; while it downloads, a caller
inside `download.reporting(report)` hears how far it got ("Downloading ResNet-18's ImageNet weights: 12 of
45 MB": a run's status line shows it). Offline, without that file, a `DownloadError` says how to get
it. With `WEIGHTS = None` (the tests) the same code starts from torchvision's untrained weights, with
no download. Knows nothing about the UI or training.
"""
from __future__ import annotations

import re
from pathlib import Path

from . import download

PRETRAINED_MODELS = {"torchvision:resnet18": "resnet18"}  # start_from -> the layer type it fills
LAYER_TYPES = {"resnet18"}
WEIGHTS = "IMAGENET1K_V1"  # torchvision's weights enum member; None: untrained (no download)
RESNET18_FEATURES = 512
RESNET18_WEIGHTS = 11_176_512  # resnet18's parameters without fc (11,689,512 - 513,000); a test checks
DOWNLOADING = "Downloading ResNet-18's ImageNet weights"  # begins each progress report


def check_pretrained(value: str) -> None:
    if value not in PRETRAINED_MODELS:
        raise ValueError(f"{value[:80]!r} is not a pretrained model this app knows: "
                         f"{', '.join(PRETRAINED_MODELS)}")


def resnet18_shape(shape: tuple[int, ...], params: dict) -> tuple[int, ...]:
    if shape[0] != 3:
        raise ValueError(f"ResNet-18 takes colour images (3 channels) but this data has {shape[0]}: "
                         "use a colour dataset such as CIFAR-10")
    return (RESNET18_FEATURES,)


def resnet18_features(shape=None, params=None):
    """torchvision's ResNet-18 with `fc` replaced by nothing: (N, 3, H, W) images to (N, 512) features."""
    import torchvision
    from torch import nn

    model = torchvision.models.resnet18(weights=None)
    model.fc = nn.Identity()
    return model


class DownloadError(ValueError):
    """Pretrained weights that could not be had, with how to get them."""


def pretrained_name(value: str) -> str:
    return f"torchvision's ResNet-18 ({WEIGHTS or 'untrained'} weights)"


def pretrained_state(value: str) -> dict:
    """The weights `value` names (downloaded once; untrained when WEIGHTS is None); DownloadError offline."""
    import torch
    import torchvision

    check_pretrained(value)
    weights = WEIGHTS
    if weights is None:
        return torchvision.models.resnet18(weights=None).state_dict()
    url = torchvision.models.get_model_weights("resnet18")[weights].url
    target = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
    try:
        if not target.is_file():
            fetch(url, target)
        return torch.load(target, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError) as error:  # URLError is an OSError
        raise DownloadError(f"ResNet-18's ImageNet weights could not be downloaded ({error}); connect to the "
                            f"internet once, or put the file from {url} in {torch.hub.get_dir()}/checkpoints"
                            ) from None


def fetch(url: str, target: Path) -> None:
    """Download `url` into `target` (see `download.fetch`); the name's "-<hex>." part must begin the file's
    SHA-256, as torch.hub checks. ValueError when it does not."""
    expected = re.search(r"-([0-9a-f]{6,})\.", target.name)
    download.fetch(url, target, DOWNLOADING, ("sha256", expected.group(1)) if expected else None)


def layer_state(state: dict, layers: tuple[dict, ...]) -> dict:
    """A torchvision model's state_dict laid out as the stack's: under each resnet18 layer, `fc` left out."""
    return {f"{i}.{key}": value for i, spec in enumerate(layers) if spec["type"] in LAYER_TYPES
            for key, value in state.items() if not key.startswith("fc.")}


def resnet18_flops(shape: tuple[int, ...], spec: dict | None = None, out=None) -> tuple[int, int]:
    """(matrix-multiply, convolution) FLOPs of one image through the resnet18 layer (multiply-add = 2):
    its stem, then four stages of two basic blocks, each stage after the first halving the image."""
    height, width = shape[1:]

    def area(halvings: int) -> int:
        return -(-height // 2**halvings) * -(-width // 2**halvings)

    flops = 2 * 64 * 3 * 49 * area(1) + 4 * 2 * 64 * 64 * 9 * area(2)  # the 7x7 stem; the first stage
    for stage, channels in enumerate((128, 256, 512), start=3):
        half = channels // 2  # first conv (stride 2) and its 1x1 skip from half the channels, then three more
        flops += 2 * area(stage) * (channels * half * 9 + 3 * channels * channels * 9 + channels * half)
    return 0, flops
