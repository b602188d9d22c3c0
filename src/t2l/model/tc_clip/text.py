"""TC-CLIP's text encoder: prompt vectors in place of the slot embeddings, CLIP's text blocks on
``min(text_context, backbone context)`` positions, and video-conditional prompting before the
last block (reference: ``VPTextEncoder`` in ``trainers/tc_clip_text_encoder.py``).

Only the prompt words change per video, and only the end token is pooled, so the class list's
state before the last block is computed once (``encode_state``), and per video the last block
runs for the end token alone (``finish``): its keys and values at every other position, and its
query, do not depend on the video.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from t2l.model import clip_parts as cp


@dataclass
class ClassState:
    """Every prompt's text state before the last block, and what of that block no video changes."""

    words: torch.Tensor  # (P, n, D) prompt-word states: the VP layer's queries
    end: torch.Tensor  # (P, D) end-token state
    end_query: torch.Tensor  # (P, heads, d) the end token's query in the last block
    fixed_logits: torch.Tensor  # (P, heads, L - n) its scaled logits over the other positions (-inf after the end)
    fixed_values: torch.Tensor  # (P, heads, L - n, d) the values at those positions
    owner: torch.Tensor  # (P,) class of each prompt
    num_classes: int


def embed(clip, tokens: torch.Tensor, vectors: torch.Tensor | None) -> torch.Tensor:
    """(P, L, D): token embeddings with ``vectors`` (n, D) in positions 1..n, plus positions."""
    positions = cp.text_positions(clip, tokens.shape[1])
    x = cp.token_embedding(clip)(tokens).to(positions.dtype)
    if vectors is not None:
        n = vectors.shape[0]
        x = torch.cat([x[:, :1], vectors.to(x.dtype).expand(len(x), -1, -1), x[:, 1 + n:]], dim=1)
    return x + positions


def text_block(block, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    x = cp.add_attention(block, x, cp.self_attention(block, cp.attention_norm(block, x), mask))
    return cp.feed_forward(block, x)


def run_blocks(clip, blocks, x: torch.Tensor, grad_checkpointing: bool) -> torch.Tensor:
    mask = cp.causal_mask(clip)[: x.shape[1], : x.shape[1]]
    for block in blocks:
        if grad_checkpointing and torch.is_grad_enabled():
            x = checkpoint(text_block, block, x, mask, use_reentrant=False)
        else:
            x = text_block(block, x, mask)
    return x


def encode_texts(clip, tokens: torch.Tensor, ends: torch.Tensor, vectors: torch.Tensor | None,
                 grad_checkpointing: bool = False) -> torch.Tensor:
    """Projected text embeddings (P, E) without video conditioning."""
    x = run_blocks(clip, cp.text_blocks(clip), embed(clip, tokens, vectors), grad_checkpointing)
    return cp.project_text(clip, x[torch.arange(len(x), device=x.device), ends])


def encode_state(clip, tokens: torch.Tensor, ends: torch.Tensor, vectors: torch.Tensor, owner: torch.Tensor,
                 num_classes: int, grad_checkpointing: bool = False) -> ClassState:
    """The text state of ``tokens`` (P, L) with ``vectors`` (n, D) as prompt words."""
    *first, last = cp.text_blocks(clip)
    x = run_blocks(clip, first, embed(clip, tokens, vectors), grad_checkpointing)
    n = vectors.shape[0]
    h = cp.attention_norm(last, x)
    rows = torch.arange(len(x), device=x.device)
    query = cp.project_queries(last, h[rows, ends][:, None])[:, :, 0]  # (P, H, d)
    keys, values = cp.project_keys_values(last, h)  # (P, H, L, d)
    fixed = torch.cat([torch.arange(1, device=x.device), torch.arange(1 + n, x.shape[1], device=x.device)])
    logits = torch.einsum("phd,phld->phl", query * query.shape[-1] ** -0.5, keys[:, :, fixed])
    logits = logits.masked_fill(fixed[None, None, :] > ends[:, None, None], -torch.inf)
    return ClassState(x[:, 1:1 + n], x[rows, ends], query, logits, values[:, :, fixed], owner, num_classes)


def finish(clip, state: ClassState, words: torch.Tensor) -> torch.Tensor:
    """Projected text embeddings (B, P, E): the last block's end token for each video's
    conditioned prompt words ``words`` (B, P, n, D)."""
    last = cp.text_blocks(clip)[-1]
    b, p = words.shape[:2]
    h = cp.attention_norm(last, words).flatten(0, 1)
    keys, values = (z.unflatten(0, (b, p)) for z in cp.project_keys_values(last, h))  # (B, P, H, n, d)
    q = state.end_query * state.end_query.shape[-1] ** -0.5
    logits = torch.einsum("phd,bphnd->bphn", q, keys)
    fixed = state.fixed_logits.expand(b, *state.fixed_logits.shape).to(logits.dtype)
    weights = torch.cat([fixed, logits], dim=-1).softmax(dim=-1)
    split = fixed.shape[-1]
    attended = (torch.einsum("bphl,phld->bphd", weights[..., :split].to(state.fixed_values.dtype), state.fixed_values)
                + torch.einsum("bphn,bphnd->bphd", weights[..., split:].to(values.dtype), values))
    x = cp.add_attention(last, state.end, cp.out_projection(last)(attended.flatten(-2)))
    return cp.project_text(clip, cp.feed_forward(last, x))


def pool_per_video(texts: torch.Tensor, owner: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Unit class embeddings (B, C, E): per video, the mean of each class's unit prompt embeddings."""
    unit = F.normalize(texts, dim=-1)
    sums = unit.new_zeros(unit.shape[0], num_classes, unit.shape[-1])
    return F.normalize(sums.index_add(1, owner.to(unit.device), unit), dim=-1)
