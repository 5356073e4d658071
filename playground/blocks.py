"""Layer modules the registry builds that torch does not ship: the residual block.

Lives apart from `layers` so that checking a layer spec never imports torch; `export` copies the
block's source into exported scripts. Knows nothing about specs or shapes.
"""
from __future__ import annotations

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
