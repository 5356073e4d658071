"""Why a model made its guess about one image: occlusion maps and first-layer activations.

`occlusion_map` hides one small patch of the image at a time and records how much the guessed
class's probability drops: the strokes that drove the prediction light up. `conv_activations`
runs the image through a model and returns what its first Conv2d layer outputs. Both work on
any `predict` / `nn.Sequential`; nothing here knows about Streamlit or the canvas.

`drawing_work` says what explaining one drawing costs a model (in forward FLOPs, as
`budget.forward_flops` counts them) and what of it fits in a server's per-drawing cap.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

Predict = Callable[[np.ndarray], np.ndarray]  # (N, 1, H, W) 0-255 pixels -> (N, C) probabilities
PATCH, STRIDE = 6, 2  # the occlusion map hides one 6x6 patch at a time, every 2 pixels
# The work one drawing may cost on the server: about a second of one core (a big CNN's forward
# passes ran at ~13 GFLOP/s on one core of the 2-core classroom machine).
DRAWING_FLOPS = 10_000_000_000


@dataclass(frozen=True)
class DrawingWork:
    """What one drawing costs a model in FLOPs, and what of it fits in `cap`."""

    guess: int  # the prediction and the first conv layer's maps: two forward passes
    occlusion: int  # the occlusion map: the drawing and one copy per hidden patch
    cap: int

    @property
    def fits(self) -> bool:
        """Whether the guess (and the feature maps) can be shown at all."""
        return self.guess <= self.cap

    @property
    def explains(self) -> bool:
        """Whether the occlusion map fits too."""
        return self.guess + self.occlusion <= self.cap


def occlusion_images(height: int, width: int, patch: int = PATCH, stride: int = STRIDE) -> int:
    """How many images `occlusion_map` passes through the model: the drawing and each patch position."""
    return 1 + len(range(0, height - patch + 1, stride)) * len(range(0, width - patch + 1, stride))


def drawing_work(flops_per_image: int, height: int, width: int, cap: int = DRAWING_FLOPS) -> DrawingWork:
    """The cost of explaining one (height, width) drawing to a model doing `flops_per_image` per forward pass."""
    return DrawingWork(2 * flops_per_image, occlusion_images(height, width) * flops_per_image, cap)


def occlusion_map(predict: Predict, image: np.ndarray, target: int, patch: int = PATCH,
                  stride: int = STRIDE) -> np.ndarray:
    """(H, W) in 0-1: how much hiding each area lowers the probability of `target` (1 = the most).

    Every patch position is one image of a single batch, so this costs one forward pass.
    """
    height, width = image.shape
    tops = range(0, height - patch + 1, stride)
    lefts = range(0, width - patch + 1, stride)
    batch = np.repeat(image[None].astype(np.float32), len(tops) * len(lefts), axis=0)
    for i, (top, left) in enumerate((t, lf) for t in tops for lf in lefts):
        batch[i, top:top + patch, left:left + patch] = 0.0
    base = predict(image[None, None].astype(np.float32))[0, target]
    drops = base - predict(batch[:, None])[:, target]
    heat, counts = np.zeros((height, width), np.float32), np.zeros((height, width), np.float32)
    for i, (top, left) in enumerate((t, lf) for t in tops for lf in lefts):
        heat[top:top + patch, left:left + patch] += max(float(drops[i]), 0.0)
        counts[top:top + patch, left:left + patch] += 1
    heat /= np.maximum(counts, 1)
    return heat / heat.max() if heat.max() > 0 else heat


def overlay(image: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """The grey image with `heat` (0-1) painted over it in red: an (H, W, 3) uint8 picture."""
    grey = image.astype(np.float32) / 255.0 * 0.6
    red = np.clip(grey + heat, 0.0, 1.0)
    return (np.stack([red, grey, grey], axis=2) * 255).round().astype(np.uint8)


@torch.inference_mode()
def conv_activations(model: torch.nn.Module, image: np.ndarray) -> np.ndarray | None:
    """(C, H, W) outputs of the model's first Conv2d for one image, or None if it has none."""
    conv = next((m for m in model.modules() if isinstance(m, torch.nn.Conv2d)), None)
    if conv is None:
        return None
    captured = []
    handle = conv.register_forward_hook(lambda module, args, output: captured.append(output))
    try:
        model.eval()(torch.as_tensor(image, dtype=torch.float32)[None, None])
    finally:
        handle.remove()
    return captured[0][0].float().cpu().numpy()


def activation_pictures(maps: np.ndarray, size: int = 84) -> list[np.ndarray]:
    """Each channel as a uint8 picture: black = zero or less, white = the strongest response of all."""
    top = float(maps.max())
    scaled = np.clip(maps / top, 0.0, 1.0) if top > 0 else np.zeros_like(maps)
    factor = max(1, size // max(maps.shape[1:]))
    return [np.kron((m * 255).round().astype(np.uint8), np.ones((factor, factor), np.uint8)) for m in scaled]
