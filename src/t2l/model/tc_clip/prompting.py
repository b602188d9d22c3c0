"""Video-conditional prompting (VP): the prompt words attend to one video's tokens.

Reference (``PromptGenerationLayer`` in ``trainers/tc_clip_text_encoder.py``):
``p = p + MHCA(ln_1(p), ln_1_kv(s)); p = p + MLP(ln_2(p))`` with the prompt words' states p as
queries and the video's projected context tokens s as keys and values. ``vp_init='clip'`` (the
reference default) copies the last text block: ``ln_1`` (also as ``ln_1_kv``), the packed q/k/v
and output projections, ``ln_2`` and the MLP. ``'random'``: truncated normal (std 0.02) linear
layers and Xavier-uniform q/k/v as the reference's random init.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from t2l.errors import UserError
from t2l.model import clip_parts as cp


class VideoPromptLayer(nn.Module):
    def __init__(self, block, video_width: int, init: str = "clip"):
        super().__init__()
        ln_1, ln_2 = cp.norms(block)
        width = ln_1.normalized_shape[0]
        self.heads = cp.heads(block)
        self.norm_words = copy.deepcopy(ln_1)
        self.norm_video = copy.deepcopy(ln_1) if video_width == width else type(ln_1)(video_width)
        self.q, self.out = nn.Linear(width, width), nn.Linear(width, width)
        self.k, self.v = nn.Linear(video_width, width), nn.Linear(video_width, width)
        self.norm_mlp, self.mlp = copy.deepcopy(ln_2), copy.deepcopy(cp.mlp(block))
        if init == "clip":
            if video_width != width:
                raise UserError(f"model.tc_clip.vp_init 'clip' needs video tokens as wide as the text ({width}), "
                                f"this backbone's are {video_width}: use 'random'")
            self._copy_attention(block)
        else:
            self._reset()

    def _copy_attention(self, block) -> None:
        weight, bias = cp.qkv_weights(block)
        out = cp.out_projection(block)
        with torch.no_grad():
            for layer, w, b in zip((self.q, self.k, self.v), weight.chunk(3), bias.chunk(3)):
                layer.weight.copy_(w)
                layer.bias.copy_(b)
            self.out.weight.copy_(out.weight)
            self.out.bias.copy_(out.bias)

    def _reset(self) -> None:
        for norm in (self.norm_words, self.norm_video, self.norm_mlp):
            nn.init.ones_(norm.weight)
            nn.init.zeros_(norm.bias)
        for layer in (self.out, *(m for m in self.mlp.modules() if isinstance(m, nn.Linear))):
            nn.init.trunc_normal_(layer.weight, std=0.02)
            nn.init.zeros_(layer.bias)
        width, video_width = self.q.in_features, self.k.in_features
        with torch.no_grad():
            if video_width == width:  # nn.MultiheadAttention's packed Xavier init
                packed = nn.init.xavier_uniform_(torch.empty(3 * width, width))
                for layer, w in zip((self.q, self.k, self.v), packed.chunk(3)):
                    layer.weight.copy_(w)
            else:
                for layer in (self.q, self.k, self.v):
                    nn.init.xavier_uniform_(layer.weight)
        for layer in (self.q, self.k, self.v):
            nn.init.zeros_(layer.bias)

    def forward(self, words: torch.Tensor, video: torch.Tensor) -> torch.Tensor:
        """Prompt-word states ``words`` (P, n, D) conditioned on each video's tokens ``video``
        (B, K, E): (B, P, n, D)."""
        q = cp.split_heads(self.q(self.norm_words(words)), self.heads)  # (P, H, n, d)
        context = self.norm_video(video)
        k, v = (cp.split_heads(layer(context), self.heads) for layer in (self.k, self.v))  # (B, H, K, d)
        scores = torch.einsum("phnd,bhkd->bphnk", q * q.shape[-1] ** -0.5, k)
        attended = torch.einsum("bphnk,bhkd->bpnhd", scores.softmax(dim=-1), v).flatten(-2)
        x = words + self.out(attended)
        return x + self.mlp(self.norm_mlp(x))
