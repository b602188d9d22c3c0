"""Temporal contextualization's tokens: seeds per frame, context tokens per video, the local-global bias."""

from __future__ import annotations

import torch

from t2l.model.token_merging import merge_down


def seeds_per_frame(patches: int, ratio: float) -> int:
    """``int(patches * ratio)`` as the reference (58 of ViT-B/16's 196 patches at 0.3), at least one."""
    return max(1, int(patches * ratio))


def seed_tokens(scores: torch.Tensor, patches: torch.Tensor, count: int, frames: int) -> torch.Tensor:
    """Each frame's ``count`` patch tokens with the highest ``scores`` (B*T, P), in decreasing
    score order, frame after frame: (B, T * count, D) from ``patches`` (B*T, P, D)."""
    index = scores.topk(count, dim=-1, sorted=True).indices
    chosen = patches.gather(1, index[..., None].expand(-1, -1, patches.shape[-1]))
    return chosen.reshape(-1, frames * count, patches.shape[-1])


def summarize(seeds: torch.Tensor, tokens: int, r: int) -> torch.Tensor:
    """Context tokens (B, min(tokens, seeds), D): the seeds of all frames merged by bipartite soft
    matching on their own features, size-weighted, ``r`` at a time."""
    return merge_down(seeds, tokens, r)[0]


def local_global_bias(table: torch.Tensor, local: int, context: int) -> torch.Tensor:
    """Additive attention bias (1, heads, 1, local + context) from ``table`` (heads, 2): column 0
    on a frame's own keys, column 1 on the video's context keys."""
    heads = table.shape[0]
    bias = torch.cat([table[:, :1].expand(heads, local), table[:, 1:].expand(heads, context)], dim=1)
    return bias[None, :, None, :]
