"""Everything the models use of open_clip's CLIP below its public API, in one place.

The video models re-run CLIP's towers block by block (to add tokens, adapters, contextual
keys or token merging), so they need its parts: patch embedding, blocks, pooling, the packed
attention weights. This module is the only one that touches open_clip's private attributes;
``tests/test_model_clip_parts.py`` pins what it relies on, and ``pyproject.toml`` bounds the
open_clip version it was checked against.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from open_clip.transformer import text_global_pool
from torch import nn

from t2l.errors import UserError


def check_supported(clip) -> None:
    """Refuse CLIP variants whose towers these helpers would compute wrongly."""
    visual, text = clip.visual, clip.transformer
    problems = []
    if not getattr(visual.transformer, "batch_first", False) or not getattr(text, "batch_first", False):
        problems.append("sequence-first transformers")
    if getattr(visual, "attn_pool", None) is not None or getattr(visual, "final_ln_after_pool", False):
        problems.append("attention pooling")
    if getattr(visual, "pool_type", "tok") != "tok":
        problems.append(f"image pooling {visual.pool_type!r}")
    if getattr(clip, "text_pool_type", "argmax") not in ("argmax", "eos") or getattr(clip, "cls_emb", None) is not None:
        problems.append("text pooling other than the end token")
    if problems:
        raise UserError(f"this CLIP variant is not supported by the video models: {', '.join(problems)}")


# -- image tower ---------------------------------------------------------------------------------
def image_tokens(visual, images: torch.Tensor) -> torch.Tensor:
    """(N, 1 + P, D): patch embedding, CLS token, positions and ``ln_pre`` of ``images`` (N, 3, H, W)."""
    return visual._embeds(images)


def image_blocks(visual) -> nn.ModuleList:
    return visual.transformer.resblocks


def grid(visual) -> tuple[int, int]:
    """Patches per side (rows, columns)."""
    return tuple(visual.grid_size)


def patch_size(visual) -> int:
    return visual.patch_size[0]


def output_dim(visual) -> int:
    """Width of the joint image-text space the projection maps into."""
    return visual.proj.shape[1]


def image_pool(visual, x: torch.Tensor) -> torch.Tensor:
    """Projected CLS embeddings (N, E) of the last block's output ``x`` (N, L, D): ``ln_post``, CLS, projection."""
    return visual.ln_post(x[:, 0]) @ visual.proj


def project_image_tokens(visual, x: torch.Tensor) -> torch.Tensor:
    """Every token of ``x`` (…, D) through ``ln_post`` and the projection, into the joint space (…, E)."""
    return visual.ln_post(x) @ visual.proj


# -- attention -------------------------------------------------------------------------------------
def heads(block) -> int:
    return block.attn.num_heads


def qkv_weights(block) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The block's packed q/k/v projection: weight (3D, D) and bias (3D,) or None."""
    return block.attn.in_proj_weight, block.attn.in_proj_bias


def out_projection(block) -> nn.Linear:
    return block.attn.out_proj


def split_heads(x: torch.Tensor, n: int) -> torch.Tensor:
    """(N, L, D) -> (N, heads, L, D / heads)."""
    return x.unflatten(-1, (n, x.shape[-1] // n)).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(N, heads, L, d) -> (N, L, heads * d)."""
    return x.transpose(1, 2).flatten(2)


def project_qkv(block, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Queries, keys and values (N, heads, L, d) of normalised input ``h`` (N, L, D)."""
    w, b = qkv_weights(block)
    q, k, v = F.linear(h, w, b).chunk(3, dim=-1)
    n = heads(block)
    return split_heads(q, n), split_heads(k, n), split_heads(v, n)


def _rows(block, h: torch.Tensor, rows: slice) -> torch.Tensor:
    w, b = qkv_weights(block)
    return F.linear(h, w[rows], None if b is None else b[rows])


def project_queries(block, h: torch.Tensor) -> torch.Tensor:
    """Queries (N, heads, L, d) of normalised input ``h`` (N, L, D) alone (the packed projection's first third)."""
    return split_heads(_rows(block, h, slice(0, h.shape[-1])), heads(block))


def project_keys_values(block, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Keys and values (N, heads, L, d) of normalised input ``h`` (N, L, D) alone."""
    k, v = _rows(block, h, slice(h.shape[-1], None)).chunk(2, dim=-1)
    return split_heads(k, heads(block)), split_heads(v, heads(block))


def self_attention(block, h: torch.Tensor, attn_mask: torch.Tensor | None = None,
                   queries: int | None = None) -> torch.Tensor:
    """The block's attention (before ``ls_1`` and the residual) on normalised input ``h`` (N, L, D):
    what ``block.attention(h)`` computes, in one scaled-dot-product call on batch-first tensors.

    With ``queries`` the output (N, queries, D) is the first ``queries`` tokens' only: tokens after
    them are keys and values whose own outputs are dropped before the output projection (the
    attention itself still runs over every query, which keeps the results bit for bit).
    """
    q, k, v = project_qkv(block, h)
    mask = attn_mask.to(h.dtype) if attn_mask is not None else None
    attended = merge_heads(F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    return out_projection(block)(attended if queries is None else attended[:, :queries])


def attention_weights(block, h: torch.Tensor) -> torch.Tensor:
    """Head-averaged softmax attention (N, L, L) of the block on normalised input ``h``."""
    q, k, _ = project_qkv(block, h)
    return torch.softmax(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5, dim=-1).mean(1)


def feed_forward(block, x: torch.Tensor) -> torch.Tensor:
    """``x + ls_2(mlp(ln_2(x)))``: the block's second half."""
    return x + block.ls_2(block.mlp(block.ln_2(x)))


def attention_norm(block, x: torch.Tensor) -> torch.Tensor:
    """``ln_1(x)``: the normalised input of the block's attention."""
    return block.ln_1(x)


def add_attention(block, x: torch.Tensor, attended: torch.Tensor) -> torch.Tensor:
    """``x + ls_1(attended)``: the residual step after the block's attention (output projection included)."""
    return x + block.ls_1(attended)


def norms(block) -> tuple[nn.Module, nn.Module]:
    """The block's LayerNorms before attention and before the MLP (``ln_1``, ``ln_2``)."""
    return block.ln_1, block.ln_2


def mlp(block) -> nn.Module:
    return block.mlp


# -- text tower ------------------------------------------------------------------------------------
def text_blocks(clip) -> nn.ModuleList:
    return clip.transformer.resblocks


def text_tokens(clip, tokens: torch.Tensor) -> torch.Tensor:
    """(N, context, D): token and position embeddings of ``tokens`` (N, context)."""
    dtype = clip.transformer.get_cast_dtype()
    return clip.token_embedding(tokens).to(dtype) + clip.positional_embedding.to(dtype)


def token_embedding(clip) -> nn.Embedding:
    return clip.token_embedding


def causal_mask(clip) -> torch.Tensor | None:
    return clip.attn_mask


def context_length(clip) -> int:
    return clip.positional_embedding.shape[0]


def text_positions(clip, length: int) -> torch.Tensor:
    """The first ``length`` text position embeddings (length, D), in the tower's dtype."""
    return clip.positional_embedding[:length].to(clip.transformer.get_cast_dtype())


def end_positions(clip, tokens: torch.Tensor) -> torch.Tensor:
    """(N,) the position of each row's end token, where ``text_pool`` reads ``tokens`` (N, context)."""
    if clip.text_pool_type == "eos":
        return (tokens == clip.text_eos_id).int().argmax(dim=-1)
    return tokens.argmax(dim=-1)


def project_text(clip, x: torch.Tensor) -> torch.Tensor:
    """End-token states ``x`` (…, D) of the last block through ``ln_final`` and the projection (…, E)."""
    x = clip.ln_final(x)
    projection = clip.text_projection
    return projection(x) if isinstance(projection, nn.Linear) else x @ projection


def text_pool(clip, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Projected text embeddings (N, E) of the last block's output ``x``: ``ln_final``, the end token, projection."""
    x = text_global_pool(clip.ln_final(x), tokens, clip.text_pool_type, eos_token_id=getattr(clip, "text_eos_id", None))
    projection = clip.text_projection
    return projection(x) if isinstance(projection, nn.Linear) else x @ projection
