"""A small convolutional classifier for 28×28 images (coloured or grayscale digits)."""

from __future__ import annotations

import torch
from torch import nn


class SmallCNN(nn.Module):
    """Three conv layers, two max-pools and a linear head.

    The last conv layer is ``self.last_conv`` (a 7×7 feature map) so that Grad-CAM
    and other layer attributions can hook it. Every activation is its own module and
    none is in-place, which DeepLift-style attribution methods need.

    Parameters
    ----------
    in_channels
        3 for coloured digits, 1 for grayscale.
    n_classes
        Number of output logits.
    width
        Channels of the first conv layer (doubled in each next one).
    dropout
        Dropout before the head.
    """

    def __init__(
        self, in_channels: int = 3, n_classes: int = 10, width: int = 16, dropout: float = 0.25
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.last_conv = nn.Conv2d(2 * width, 4 * width, 3, padding=1)
        self.relu3 = nn.ReLU()
        self.pool3 = nn.MaxPool2d(2)  # 7×7 -> 3×3
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(4 * width * 3 * 3, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The flattened activations the head reads (used for Fréchet distances)."""
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.pool3(self.relu3(self.last_conv(x)))
        return self.flatten(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))
