"""The video encoder: CLIP's ViT run on all B*T frames at once, with temporal tokens and adapters.

Per block, with temporal tokens (reference behaviour of EZ-CLIP/T2L):
  1. token[t] = p_l[t] + mean over all N+1 tokens of frame t's residual stream;
  2. the T tokens of a video attend to each other through the block's own frozen attention
     (pre-LN with ln_1, no residual);
  3. each frame's N+1 tokens attend over themselves and its processed token (N+2 keys and
     values) through the block's attention with its residual; the extra token's own output is
     dropped, so it is not computed;
then the spatial adapter (after the attention residual, before ln_2/MLP) and the MLP.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from t2l.model import clip_parts as parts


def block_forward(block, x: torch.Tensor, frames: int, tokens: torch.Tensor | None, adapter: nn.Module | None,
                  maps: dict | None = None) -> torch.Tensor:
    """One ViT block on ``x`` (B*T, N+1, D); ``tokens`` (T, D) are the layer's temporal tokens."""
    if tokens is None:
        h = block.ln_1(x)
        x = x + block.ls_1(parts.self_attention(block, h))
    else:
        bt, n, d = x.shape
        tok = tokens.unsqueeze(0) + x.mean(dim=1).view(bt // frames, frames, d)  # (B, T, D)
        tok_in = block.ln_1(tok)
        tok = parts.self_attention(block, tok_in)
        h = block.ln_1(torch.cat([x, tok.reshape(bt, 1, d)], dim=1))  # ln_1 is per token: one pass over N+2
        x = x + block.ls_1(parts.self_attention(block, h, queries=n))  # the extra token's own output is dropped
        if maps is not None:
            maps["temporal"].append(parts.attention_weights(block, tok_in))
    if maps is not None:
        maps["spatial"].append(parts.attention_weights(block, h)[:, 0])  # CLS row
    if adapter is not None:
        x = adapter(x)
    return parts.feed_forward(block, x)


def embed_frames(visual, video: torch.Tensor) -> torch.Tensor:
    """The frozen patch embedding (B, T, N+1, D) of ``video`` (B, T, 3, H, W): the stem, CLS,
    positions and ``ln_pre``, which no temporal token or adapter reaches."""
    return parts.image_tokens(visual, video.flatten(0, 1)).unflatten(0, video.shape[:2])


def encode_frames(visual, video: torch.Tensor, temporal=None, adapters: nn.ModuleList | None = None,
                  grad_checkpointing: bool = False, maps: dict | None = None) -> torch.Tensor:
    """Per-frame projected CLS embeddings (B, T, E) of ``video``: pixels (B, T, 3, H, W), or their
    ``embed_frames`` (B, T, N+1, D) computed once and kept (a frozen stem's cache)."""
    b, t = video.shape[:2]
    x = (embed_frames(visual, video) if video.dim() == 5 else video).flatten(0, 1)  # (B*T, N+1, D)
    for i, block in enumerate(parts.image_blocks(visual)):
        tokens = temporal(i, t) if temporal is not None and i < temporal.layers else None
        adapter = adapters[i] if adapters is not None else None
        if grad_checkpointing and torch.is_grad_enabled() and maps is None:
            x = checkpoint(block_forward, block, x, t, tokens, adapter, use_reentrant=False)
        else:
            x = block_forward(block, x, t, tokens, adapter, maps)
    return parts.image_pool(visual, x).view(b, t, -1)
