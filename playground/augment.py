"""Data augmentation of image batches: random crop after zero padding, horizontal flip, small rotation.

`augment(x, generator, crop, flip, rotate)` changes a whole (N, C, H, W) batch of resident pixels
(uint8, or float) on its own device, each image by its own random draw: a shift of up to `crop`
pixels each way with zeros coming in (torchvision's `RandomCrop(size, padding=crop)`), a mirror
image with probability 1/2 (`RandomHorizontalFlip`), a turn by an angle in [-rotate, rotate]
degrees about the centre, nearest pixel, zeros outside (`RandomRotation(rotate)`). Every random
number comes from `generator`, a CPU `torch.Generator`, in a fixed order, so a run's seed fixes
them on every device and a copied generator state continues them exactly. The ops keep the dtype,
and nearest-pixel sampling keeps uint8 values exact.

Knows nothing about configs, engines or datasets; `export` copies these functions into scripts.
"""
from __future__ import annotations

from .lazy import lazy_module

torch = lazy_module("torch")  # imported on first use: `export` reads these functions' source on pages without torch
nn = lazy_module("torch.nn")


def augment(x, generator, crop=0, flip=False, rotate=0.0):
    """The batch `x` (N, C, H, W) cropped, flipped and rotated, each image by its own random draw."""
    if crop:
        x = random_crop(x, generator, crop)
    if flip:
        x = random_flip(x, generator)
    if rotate:
        x = random_rotate(x, generator, rotate)
    return x


def random_crop(x, generator, padding):
    """Each image padded with `padding` zeros on every side, then cropped back to its size at a random place."""
    top, left = torch.randint(0, 2 * padding + 1, (2, len(x)), generator=generator).to(x.device)
    return crop_at(x, top, left, padding)


def crop_at(x, top, left, padding):
    """Image i of `x` zero-padded by `padding`, cropped to (H, W) from row top[i], column left[i]."""
    n, c, h, w = x.shape
    padded = nn.functional.pad(x, (padding, padding, padding, padding))
    rows = top[:, None] + torch.arange(h, device=x.device)  # (N, H): the rows each image keeps
    cols = left[:, None] + torch.arange(w, device=x.device)  # (N, W)
    kept = (rows[:, :, None] * (w + 2 * padding) + cols[:, None, :]).view(n, 1, h * w)  # flat pixel indices
    return padded.view(n, c, -1).gather(2, kept.expand(n, c, h * w)).view(n, c, h, w)


def random_flip(x, generator):
    """Each image mirrored left to right with probability 1/2."""
    flipped = (torch.rand(len(x), generator=generator) < 0.5).to(x.device)
    return torch.where(flipped[:, None, None, None], x.flip(-1), x)


def random_rotate(x, generator, degrees):
    """Each image turned about its centre by its own angle, drawn uniformly in [-degrees, degrees]."""
    angles = (torch.rand(len(x), generator=generator) * 2 - 1) * degrees
    return rotate_by(x, angles)


def rotate_by(x, angles):
    """Image i of `x` turned counter-clockwise by angles[i] degrees: nearest pixel, zeros outside."""
    n, c, h, w = x.shape
    radians = torch.deg2rad(angles.to(x.device, torch.float32))[:, None, None]
    cos, sin = torch.cos(radians), torch.sin(radians)
    # Where each output pixel reads from, in grid_sample's -1..1 coordinates (h / w: non-square images).
    xs = (torch.arange(w, device=x.device, dtype=torch.float32) * 2 + 1) / w - 1  # pixel centres
    ys = ((torch.arange(h, device=x.device, dtype=torch.float32) * 2 + 1) / h - 1)[:, None]
    grid = torch.empty(n, h, w, 2, device=x.device)
    grid[..., 0] = cos * xs - sin * h / w * ys
    grid[..., 1] = sin * w / h * xs + cos * ys
    turned = nn.functional.grid_sample(x.float(), grid, mode="nearest", padding_mode="zeros", align_corners=False)
    return turned.to(x.dtype)


def variants(images, crop=0, flip=False, rotate=0.0, count=3, seed=0):
    """`count` augmented variants of each of `images` (N, C, H, W) as a numpy array (N, count, C, H, W):
    what training batches look like, for a preview. The same seed draws the same variants."""
    x = torch.as_tensor(images)
    generator = torch.Generator().manual_seed(seed)
    drawn = [augment(x, generator, crop, flip, rotate) for _ in range(count)]
    return torch.stack(drawn, 1).numpy()
