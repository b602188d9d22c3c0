"""TC-CLIP's video encoder: CLIP's ViT on every frame, with temporal contextualization.

Block l on the frames' tokens x (B*T, 1 + P, D) and the video's context tokens s (B, k, D) from
block l - 1 (reference: ``clip/transformer_blocks_tc.py``):

1. queries are each frame's own tokens; keys and values are the frame's tokens plus s, shared
   by the video's frames, all through ``ln_1`` and the block's q/k/v projections; from the
   second block a learnable per-head bias separates frame keys from context keys;
2. the frame tokens take the attention residual; s is dropped;
3. seeds: each frame's top ``int(a * P)`` patch tokens (after the residual) by the CLS query's
   attention over the patches, averaged over heads (the softmax spans every key, bias included);
4. the seeds of all frames merge (ToMe, size-weighted) into the new k context tokens;
5. frame tokens and context tokens go through the block's MLP with its residual.

After the last block ``ln_post`` and the projection map each frame's CLS token and the context
tokens into the joint space. Everything is per video: no operation mixes clips of a batch.

Attention is computed as the reference does (scaled queries, explicit softmax), not with a
fused kernel, because seed selection and matching are discontinuous: what holds is that the
algorithm is the reference's, and given the reference's inputs each block reproduces its output
exactly. Whole clips need not: a float-level difference upstream (another order of summation)
can flip a near-tie in one ToMe match, and the context tokens then differ from that block on.
Against the reference at ViT-B/16, 8 frames, batch 2, the logits agreed within 4e-7 relative;
in 5 of 12 seeded checks of the context tokens a near-tie flipped one match so.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
from torch.utils.checkpoint import checkpoint

from t2l.model import clip_parts as cp
from t2l.model.tc_clip.context import local_global_bias, seed_tokens, summarize


@dataclass(frozen=True)
class Contextualization:
    seeds: int  # per frame
    tokens: int  # k, per video
    rates: tuple[int, ...]  # tokens removed per matching step, per block


def tc_block(block, x: torch.Tensor, context: torch.Tensor | None, frames: int, bias_table: torch.Tensor | None,
             plan: Contextualization | None, rate: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One block: ``x`` (B*T, N, D), ``context`` (B, k, D) or None; returns the next ``x`` and
    context tokens (None without ``plan``)."""
    h = cp.attention_norm(block, x)
    q, (k, v) = cp.project_queries(block, h), cp.project_keys_values(block, h)
    mask = None
    if context is not None:
        kc, vc = (z.repeat_interleave(frames, dim=0)  # the video's context, for each of its frames
                  for z in cp.project_keys_values(block, cp.attention_norm(block, context)))
        k, v = torch.cat([k, kc], dim=2), torch.cat([v, vc], dim=2)
        if bias_table is not None:
            mask = local_global_bias(bias_table, x.shape[1], kc.shape[2]).to(q.dtype)
    logits = (q * q.shape[-1] ** -0.5) @ k.transpose(-1, -2)
    if mask is not None:
        logits = logits + mask
    probs = logits.softmax(dim=-1)
    x = cp.add_attention(block, x, cp.out_projection(block)(cp.merge_heads(probs @ v)))
    if plan is None:
        return cp.feed_forward(block, x), None
    scores = probs[:, :, 0, 1:x.shape[1]].detach().mean(dim=1)  # the CLS row over the patches
    context = summarize(seed_tokens(scores, x[:, 1:], plan.seeds, frames), plan.tokens, rate)
    return cp.feed_forward(block, x), cp.feed_forward(block, context)


def encode_video(visual, video: torch.Tensor, plan: Contextualization | None, bias: torch.Tensor | None,
                 last_context: bool, grad_checkpointing: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-frame projected CLS embeddings (B, T, E) of ``video`` (B, T, 3, H, W), and the last
    block's projected context tokens (B, k, E) when ``plan`` and ``last_context`` ask for them.

    ``bias`` (blocks - 1, heads, 2): the local-global bias of blocks 2..L, or None.
    """
    b, t = video.shape[:2]
    x = cp.image_tokens(visual, video.flatten(0, 1))
    blocks = cp.image_blocks(visual)
    context = None
    for i, block in enumerate(blocks):
        summarizes = plan is not None and (i < len(blocks) - 1 or last_context)
        step = partial(tc_block, block, frames=t, bias_table=bias[i - 1] if bias is not None and i else None,
                       plan=plan if summarizes else None, rate=plan.rates[i] if summarizes else 0)
        if grad_checkpointing and torch.is_grad_enabled():
            x, context = checkpoint(step, x, context, use_reentrant=False)
        else:
            x, context = step(x, context)
    frames = cp.image_pool(visual, x).view(b, t, -1)
    return frames, None if context is None else cp.project_image_tokens(visual, context)
