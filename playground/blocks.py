"""Modules torch does not ship: the residual block and the recurrent wrapper (`Recurrent`) the registry
builds, and the input normalisations a model starts with (`ImageNormalize`, `Standardize`).

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


class Recurrent(nn.Module):
    """An RNN, LSTM or GRU that returns the output of each sequence's last step, as flat features.

    Takes a batch of sequences (N, steps, features), or of images (N, C, H, W) read row by row: H steps
    of C*W features (a 28x28 digit is 28 steps of 28 pixels). Returns (N, hidden), or (N, 2*hidden)
    when bidirectional (the forward and backward outputs at the last step, side by side).
    `batch_first=False` hands torch (steps, N, features) instead: the same numbers, torch's default layout.
    """

    KINDS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

    def __init__(self, kind: str, in_features: int, hidden: int, layers: int = 1, bidirectional: bool = False,
                 batch_first: bool = True):
        super().__init__()
        self.batch_first = batch_first
        self.rnn = self.KINDS[kind](in_features, hidden, num_layers=layers, bidirectional=bidirectional,
                                    batch_first=batch_first)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:  # images: (N, C, H, W) -> (N, H, C*W), one row of every channel per step
            x = x.permute(0, 2, 1, 3).flatten(2)
        if not self.batch_first:
            x = x.transpose(0, 1)  # (steps, N, features)
        out, _ = self.rnn(x)
        return out[:, -1] if self.batch_first else out[-1]


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
