"""Why a model made its guess about one image: occlusion maps and first-layer activations.

`occlusion_map` hides one small patch of the image at a time and records how much the guessed
class's probability drops: the strokes that drove the prediction light up. `conv_activations`
runs the image through a model and returns what its first Conv2d layer outputs. Both work on
any `predict` / `nn.Sequential`; nothing here knows about Streamlit or the canvas.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

Predict = Callable[[np.ndarray], np.ndarray]  # (N, 1, H, W) 0-255 pixels -> (N, C) probabilities


def occlusion_map(predict: Predict, image: np.ndarray, target: int, patch: int = 6, stride: int = 2) -> np.ndarray:
    """(H, W) in 0-1: how much hiding each area lowers the probability of `target` (1 = the most).

    Every patch position is one image of a single batch, so this costs one forward pass.
    """
    height, width = image.shape
    tops = range(0, height - patch + 1, stride)
    lefts = range(0, width - patch + 1, stride)
    batch = np.repeat(image[None].astype(np.float32), len(tops) * len(lefts), axis=0)
    for i, (top, left) in enumerate((t, l) for t in tops for l in lefts):
        batch[i, top:top + patch, left:left + patch] = 0.0
    base = predict(image[None, None].astype(np.float32))[0, target]
    drops = base - predict(batch[:, None])[:, target]
    heat, counts = np.zeros((height, width), np.float32), np.zeros((height, width), np.float32)
    for i, (top, left) in enumerate((t, l) for t in tops for l in lefts):
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
