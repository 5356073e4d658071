"""Modules torch does not ship: the residual block the registry builds, and the input normalisations
a model starts with (`ImageNormalize`, `Standardize`).

Lives apart from `layers` and `model` so that checking a layer spec or planning a model never imports
torch; `export` copies these classes' source into exported scripts. Knows nothing about specs or shapes.
"""
from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and a skip connection (the classic ResNet block).

    When the block changes the channel count or strides, the skip path is a 1x1 convolution
    with batch norm so the two paths can be added.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ImageNormalize(nn.Module):
    """uint8 (or 0-255 float) pixels to (x / 255 - mean) / std, with the training set's mean and std
    (scalars for grey images; one per channel for colour ones, kept as (C, 1, 1) to broadcast)."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        mean, std = (torch.as_tensor(v, dtype=torch.float32).clone() for v in (mean, std))
        self.register_buffer("mean", mean.reshape(-1, 1, 1) if mean.dim() == 1 else mean)
        self.register_buffer("std", std.reshape(-1, 1, 1) if std.dim() == 1 else std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.float() * (1.0 / 255.0) - self.mean) / self.std


class Standardize(nn.Module):
    """(x - mean) / std with the training set's statistics, stored in the state dict."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.register_buffer("mean", mean.clone())
        self.register_buffer("std", std.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std
