"""ALT's region-aware image encoder (Sec. 3.2, Eq. 1-3): CLIP's ViT with token merging in every block.

Block i on tokens E (N, L, D) with sizes w (N, L, 1) (None while every token stands for one):

1. ``E' = E + MSA(LN(E), w)``: attention with log w added to the logits (proportional attention);
2. ``E'' = ToMe(E', w)``: bipartite soft matching on the attention keys averaged over heads (as
   ToMe) merges the r most similar pairs, the CLS token excluded; merged tokens are size-weighted
   means and sizes add up;
3. ``E = E'' + MLP(LN(E''))``.

After L blocks, ``ln_post`` and the projection map every token (the CLS token first, then the
region tokens) into the joint image-text space: X (N, 1 + P - L r, E) of Eq. 3. Frames are
independent: nothing mixes the images of a batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from t2l.model import clip_parts as cp
from t2l.model.token_merging import bipartite_soft_matching, merge_weighted, proportional_attention, tokens_after


def output_tokens(visual, r: int) -> int:
    """Tokens per frame after the encoder: CLS plus the patches left by ``r`` merges per block."""
    rows, columns = cp.grid(visual)
    return tokens_after(1 + rows * columns, r, len(cp.image_blocks(visual)), protect_first=True)


def merge_tokens(x: torch.Tensor, keys: torch.Tensor, size: torch.Tensor | None, r: int
                 ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """ToMe step on ``x`` (N, L, D): match by ``keys`` (N, heads, L, d) averaged over heads, CLS protected."""
    if r <= 0:
        return x, size
    return merge_weighted(bipartite_soft_matching(keys.mean(dim=1), r, protect_first=True), x, size)


def tome_block(block, x: torch.Tensor, size: torch.Tensor | None, r: int
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One ViT block with proportional attention and a ToMe step between attention and MLP (Eq. 2)."""
    q, k, v = cp.project_qkv(block, cp.attention_norm(block, x))
    bias = None if size is None else proportional_attention(size).to(q.dtype)
    attended = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    x = cp.add_attention(block, x, cp.out_projection(block)(cp.merge_heads(attended)))
    x, size = merge_tokens(x, k, size, r)
    return cp.feed_forward(block, x), size


def encode_regions(visual, images: torch.Tensor, r: int, grad_checkpointing: bool = False) -> torch.Tensor:
    """X (N, 1 + P - L r, E): the projected CLS token and region tokens of ``images`` (N, 3, H, W)."""
    x, size = cp.image_tokens(visual, images), None
    for block in cp.image_blocks(visual):
        if grad_checkpointing and torch.is_grad_enabled():
            x, size = checkpoint(tome_block, block, x, size, r, use_reentrant=False)
        else:
            x, size = tome_block(block, x, size, r)
    return cp.project_image_tokens(visual, x)
