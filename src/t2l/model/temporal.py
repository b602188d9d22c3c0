"""Temporal tokens: one learnable row of T tokens per vision layer (Temporal Token Learning)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class TemporalTokens(nn.Module):
    """Parameter ``(layers, frames, width)`` initialised as the reference does:
    uniform(-v, v) with v = sqrt(6 / (3 * patch * patch + width)), and dropout on the tokens.

    ``forward(layer, t)`` returns the layer's tokens for ``t`` frames: a model trained with T
    frames runs on T' != T frames by linear interpolation of the tokens along time.
    """

    def __init__(self, layers: int, frames: int, width: int, patch_size: int, dropout: float = 0.1):
        super().__init__()
        bound = math.sqrt(6.0 / (3 * patch_size * patch_size + width))
        self.tokens = nn.Parameter(torch.empty(layers, frames, width).uniform_(-bound, bound))
        self.dropout = nn.Dropout(dropout)

    @property
    def layers(self) -> int:
        return self.tokens.shape[0]

    def forward(self, layer: int, frames: int) -> torch.Tensor:
        tokens = self.tokens[layer]
        if frames != tokens.shape[0]:
            tokens = F.interpolate(tokens.T[None], size=frames, mode="linear", align_corners=True)[0].T
        return self.dropout(tokens)
