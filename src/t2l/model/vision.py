"""The video encoder: CLIP's ViT run on all B*T frames at once, with temporal tokens and adapters.

Per block, with temporal tokens (reference behaviour of EZ-CLIP/T2L):
  1. token[t] = p_l[t] + mean over all N+1 tokens of frame t's residual stream;
  2. the T tokens of a video attend to each other through the block's own frozen attention
     (pre-LN with ln_1, no residual);
  3. each frame gets its processed token appended (N+2 tokens), the block's attention runs with
     its residual, and the extra token is dropped right after;
then the spatial adapter (after the attention residual, before ln_2/MLP) and the MLP.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


def attention_weights(attn: nn.MultiheadAttention, h: torch.Tensor) -> torch.Tensor:
    """Head-averaged softmax attention (batch, L, L) of ``attn`` on normalised input ``h``.

    Recomputed from the packed q/k projections so that asking for maps never changes outputs.
    """
    d, heads = attn.embed_dim, attn.num_heads
    w, b = attn.in_proj_weight, attn.in_proj_bias
    q = nn.functional.linear(h, w[:d], b[:d] if b is not None else None)
    k = nn.functional.linear(h, w[d:2 * d], b[d:2 * d] if b is not None else None)
    q, k = (z.unflatten(-1, (heads, d // heads)).transpose(1, 2) for z in (q, k))
    return torch.softmax(q @ k.transpose(-1, -2) / (d // heads) ** 0.5, dim=-1).mean(1)


def block_forward(block, x: torch.Tensor, frames: int, tokens: torch.Tensor | None, adapter: nn.Module | None,
                  maps: dict | None = None) -> torch.Tensor:
    """One ViT block on ``x`` (B*T, N+1, D); ``tokens`` (T, D) are the layer's temporal tokens."""
    if tokens is None:
        h = block.ln_1(x)
        x = x + block.ls_1(block.attention(h))
    else:
        bt, _, d = x.shape
        tok = tokens.unsqueeze(0) + x.mean(dim=1).view(bt // frames, frames, d)  # (B, T, D)
        tok_in = block.ln_1(tok)
        tok = block.attn(tok_in, tok_in, tok_in, need_weights=False)[0]
        x = torch.cat([x, tok.reshape(bt, 1, d)], dim=1)  # ln_1 is per token: one pass over N+2
        h = block.ln_1(x)
        x = (x + block.ls_1(block.attention(h)))[:, :-1]
        if maps is not None:
            maps["temporal"].append(attention_weights(block.attn, tok_in))
    if maps is not None:
        maps["spatial"].append(attention_weights(block.attn, h)[:, 0])  # CLS row
    if adapter is not None:
        x = adapter(x)
    return x + block.ls_2(block.mlp(block.ln_2(x)))


def encode_frames(visual, video: torch.Tensor, temporal=None, adapters: nn.ModuleList | None = None,
                  grad_checkpointing: bool = False, maps: dict | None = None) -> torch.Tensor:
    """Per-frame projected CLS embeddings (B, T, E) of ``video`` (B, T, 3, H, W)."""
    if not visual.transformer.batch_first:
        raise ValueError("the video encoder expects a batch-first open_clip transformer")
    b, t = video.shape[:2]
    x = visual._embeds(video.flatten(0, 1))  # (B*T, N+1, D): patchify, CLS, positions, ln_pre
    for i, block in enumerate(visual.transformer.resblocks):
        tokens = temporal(i, t) if temporal is not None and i < temporal.layers else None
        adapter = adapters[i] if adapters is not None else None
        if grad_checkpointing and torch.is_grad_enabled() and maps is None:
            x = checkpoint(block_forward, block, x, t, tokens, adapter, use_reentrant=False)
        else:
            x = block_forward(block, x, t, tokens, adapter, maps)
    pooled, _ = visual._pool(x)  # ln_post + CLS
    return (pooled @ visual.proj).view(b, t, -1)
