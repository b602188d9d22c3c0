"""ALT's multi-modal video decoder (Sec. 3.3, Eq. 8-9).

Block i, with X̂ (B, T, E) the frames' CLS embeddings and Q (B, T, E) the queries:
``X'_i = X̂ + Conv1D_i(X̂)`` over time (every block convolves X̂ itself, as Eq. 8 writes it),
``Q' = Q + SA(LN(Q))``, ``Q = Q' + CA(LN(Q'), LN(X'_i))``: pre-norm residual attention, no
feed-forward layer (Eq. 8 has none, and ALT-B/16's parameter count leaves no room for one).
After M blocks ``z = MLP(AvgPool_t(Q_M))`` (Eq. 9), the MLP starting with a LayerNorm as pre-norm
stacks end. The convolution is what makes z depend on frame order: attention over the frames
and the temporal average are both blind to it. Every operation is per video.
"""

from __future__ import annotations

import torch
from torch import nn


def paper_blocks(vit_blocks: int) -> int:
    """M as Sec. 3.4 sets it: 4 decoder blocks on ViT-B (12 blocks), 6 on ViT-L (24 blocks) and larger."""
    return 6 if vit_blocks >= 24 else 4


class DecoderBlock(nn.Module):
    def __init__(self, width: int, heads: int, kernel: int):
        super().__init__()
        self.conv = nn.Conv1d(width, width, kernel, padding=kernel // 2)
        self.norm_self = nn.LayerNorm(width)
        self.self_attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm_cross, self.norm_frames = nn.LayerNorm(width), nn.LayerNorm(width)
        self.cross_attention = nn.MultiheadAttention(width, heads, batch_first=True)

    def temporal(self, frames: torch.Tensor) -> torch.Tensor:
        """X' = X̂ + Conv1D(X̂) on ``frames`` (B, T, E), zero-padded in time."""
        return frames + self.conv(frames.transpose(1, 2)).transpose(1, 2)

    def forward(self, queries: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        h = self.norm_self(queries)
        queries = queries + self.self_attention(h, h, h, need_weights=False)[0]
        keys = self.norm_frames(self.temporal(frames))
        return queries + self.cross_attention(self.norm_cross(queries), keys, keys, need_weights=False)[0]


class VideoDecoder(nn.Module):
    def __init__(self, width: int, heads: int, blocks: int, kernel: int):
        super().__init__()
        self.blocks = nn.ModuleList(DecoderBlock(width, heads, kernel) for _ in range(blocks))
        self.head = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.GELU(), nn.Linear(width, width))

    def forward(self, queries: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """z (B, E), un-normalised, from queries Q̂ (B, T, E) and frame embeddings X̂ (B, T, E)."""
        for block in self.blocks:
            queries = block(queries, frames)
        return self.head(queries.mean(dim=1))
