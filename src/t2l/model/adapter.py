"""The bottleneck adapter of EZ-CLIP/T2L: ``x + fc2(GELU(fc1(x)))``, identity at initialisation."""

from __future__ import annotations

import torch
from torch import nn


class Adapter(nn.Module):
    def __init__(self, width: int, ratio: float = 0.25):
        super().__init__()
        hidden = int(width * ratio)
        self.fc1 = nn.Linear(width, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, width)
        nn.init.zeros_(self.fc2.weight)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(self.act(self.fc1(x)))
