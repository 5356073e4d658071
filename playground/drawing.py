"""Turn a drawing into what an MNIST model expects: a 28x28 grey digit made as MNIST's were made.

MNIST digits were cropped to their ink, scaled so the longer side is 20 px (keeping the aspect
ratio, anti-aliased), and pasted into a 28x28 field so that their centre of mass sits in the
middle. `mnist_digit` does the same to a canvas image (white ink on black, RGBA or grey) and
returns uint8 pixels on the 0-255 scale, or None for a blank canvas. Knows nothing about models,
Streamlit or the canvas component.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

SIZE = 28  # MNIST's field
BOX = 20  # the longer side of the digit inside it
INK_THRESHOLD = 0.1  # ink darker than this (0-1) does not count when finding the digit's extent


def ink(image: np.ndarray) -> np.ndarray:
    """Ink amount per pixel in 0-1 from a white-on-black image: grey (H, W), RGB or RGBA (H, W, 3|4).

    With an alpha channel, transparent pixels count as background whatever their colour.
    """
    pixels = np.asarray(image, dtype=np.float32)
    if pixels.ndim == 2:
        grey = pixels
    elif pixels.ndim == 3 and pixels.shape[2] in (3, 4):
        grey = pixels[..., :3].mean(axis=2)
        if pixels.shape[2] == 4:
            grey = grey * (pixels[..., 3] / 255.0)
    else:
        raise ValueError(f"expected a grey, RGB or RGBA image, got shape {pixels.shape}")
    return np.clip(grey / 255.0, 0.0, 1.0)


def mnist_digit(image: np.ndarray) -> np.ndarray | None:
    """The drawing as a 28x28 uint8 MNIST-style digit, or None when there is no ink."""
    amount = ink(image)
    rows = np.flatnonzero((amount > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((amount > INK_THRESHOLD).any(axis=0))
    if len(rows) == 0:
        return None
    digit = _scale_to_box(amount[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
    field = np.zeros((SIZE, SIZE), dtype=np.float32)
    top, left = (SIZE - digit.shape[0]) // 2, (SIZE - digit.shape[1]) // 2
    field[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    field = _centre_by_mass(field, (top, left, digit.shape[0], digit.shape[1]))
    return np.rint(np.clip(field, 0.0, 1.0) * 255.0).astype(np.uint8)


def _scale_to_box(crop: np.ndarray) -> np.ndarray:
    """Scale so the longer side is BOX pixels, keeping the aspect ratio (anti-aliased)."""
    height, width = crop.shape
    scale = BOX / max(height, width)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    tensor = torch.from_numpy(np.ascontiguousarray(crop))[None, None]
    return F.interpolate(tensor, size=size, mode="bilinear", antialias=True, align_corners=False)[0, 0].numpy()


def _centre_by_mass(field: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Shift the digit so its centre of mass is the field's centre, without pushing it off the edge."""
    top, left, height, width = box
    total = field.sum()
    ys, xs = np.indices(field.shape)
    centre = (SIZE - 1) / 2
    shift_y = int(np.clip(round(centre - (ys * field).sum() / total), -top, SIZE - top - height))
    shift_x = int(np.clip(round(centre - (xs * field).sum() / total), -left, SIZE - left - width))
    return np.roll(field, (shift_y, shift_x), axis=(0, 1))
