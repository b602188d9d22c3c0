"""T2L: a frozen CLIP with temporal tokens, spatial and text adapters (one module for all variants).

The ``t2l`` family of ``t2l.model.family``: vanilla CLIP, the adapters-only ablation, T2L and
ViFi-CLIP are this module with parts switched on or off.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from t2l.model import clip_parts as parts
from t2l.model.adapter import Adapter
from t2l.model.config import ModelConfig
from t2l.model.family import VideoFeatures
from t2l.model.objective import contrastive, with_tfd
from t2l.model.temporal import TemporalTokens
from t2l.model.text import ClassPrompts, encode_text, pool_classes
from t2l.model.vision import embed_frames, encode_frames


class T2L(nn.Module):
    """Wraps an open_clip CLIP; the baselines are the same module with parts switched off.

    Only temporal tokens and adapters train, unless ``finetune_clip`` (ViFi-CLIP) unlocks CLIP.
    """

    def __init__(self, clip, cfg: ModelConfig):
        super().__init__()
        parts.check_supported(clip)
        self.clip, self.cfg = clip, cfg
        visual = clip.visual
        blocks = parts.image_blocks(visual)
        width = blocks[0].ln_1.normalized_shape[0]
        self.temporal = (TemporalTokens(cfg.temporal_layers or len(blocks), cfg.frames, width, parts.patch_size(visual),
                                        cfg.token_dropout) if cfg.temporal_tokens else None)
        self.spatial_adapters = (nn.ModuleList(Adapter(width, cfg.adapter_ratio) for _ in blocks)
                                 if cfg.spatial_adapters else None)
        text_width = parts.token_embedding(clip).embedding_dim
        self.text_adapters = (nn.ModuleList(Adapter(text_width, cfg.adapter_ratio) for _ in parts.text_blocks(clip))
                              if cfg.text_adapters else None)
        self.grad_checkpointing = cfg.grad_checkpointing
        self.lock_clip(not cfg.finetune_clip)

    def lock_clip(self, locked: bool = True) -> None:
        """Freeze (or unfreeze) every CLIP weight, logit scale and projections included."""
        for p in self.clip.parameters():
            p.requires_grad = not locked

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        self.grad_checkpointing = enable

    def train(self, mode: bool = True) -> "T2L":
        super().train(mode)
        if not self.cfg.finetune_clip:
            self.clip.eval()  # a frozen backbone stays in inference mode
        return self

    @property
    def logit_scale(self) -> torch.Tensor:
        return self.clip.logit_scale.exp()

    # -- video -----------------------------------------------------------------------------------
    @property
    def frozen_stem(self) -> bool:
        """Whether ``embed_frames`` never changes: then a clip's embedding can be computed once,
        and ``encode_video`` takes it in place of the pixels."""
        return not self.cfg.finetune_clip

    def embed_frames(self, video: torch.Tensor) -> torch.Tensor:
        """The frozen patch embedding (B, T, N+1, D) of ``video`` (B, T, 3, H, W)."""
        return embed_frames(self.clip.visual, video)

    def encode_frames(self, video: torch.Tensor, maps: dict | None = None) -> torch.Tensor:
        """Per-frame projected, un-normalised embeddings (B, T, E) of ``video`` (B, T, 3, H, W), or
        of its ``embed_frames``."""
        return encode_frames(self.clip.visual, video, self.temporal, self.spatial_adapters,
                             self.grad_checkpointing and self.training, maps)

    def encode_video(self, video: torch.Tensor) -> VideoFeatures:
        """Per-frame embeddings and the video embedding: their mean over frames, L2-normalised."""
        frames = self.encode_frames(video)
        return VideoFeatures(F.normalize(frames.float().mean(dim=1), dim=-1), frames)

    def attention_maps(self, video: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-layer head-averaged attention for a batch, without changing any output.

        ``spatial`` (L, B, T, N+1[+1]): each frame's CLS row (CLS, patches, temporal token if
        any); ``temporal`` (L', B, T, T): how each frame's temporal token attends over time.
        """
        maps: dict[str, list] = {"spatial": [], "temporal": []}
        with torch.no_grad():
            self.encode_frames(video, maps)
        b, t = video.shape[:2]
        out = {"spatial": torch.stack(maps["spatial"]).unflatten(1, (b, t))}
        if maps["temporal"]:
            out["temporal"] = torch.stack(maps["temporal"])
        return out

    # -- text ------------------------------------------------------------------------------------
    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        return encode_text(self.clip, tokens, self.text_adapters)

    def encode_classes(self, prompts: ClassPrompts) -> torch.Tensor:
        """Unit class embeddings (C, E), averaged over each class's prompts."""
        return pool_classes(self.encode_text(prompts.tokens), prompts)

    # -- scores and training -----------------------------------------------------------------------
    def forward(self, video: torch.Tensor, prompts: ClassPrompts) -> tuple[VideoFeatures, torch.Tensor]:
        """Video features and unit class embeddings: one call that uses every trainable part, as
        DistributedDataParallel expects."""
        return self.encode_video(video), self.encode_classes(prompts)

    def logits(self, video: VideoFeatures, classes: torch.Tensor) -> torch.Tensor:
        """Cosine similarity times CLIP's (frozen) logit scale."""
        return self.logit_scale * video.embedding.float() @ classes.float().T

    def objective(self, video: VideoFeatures, classes: torch.Tensor,
                  labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """lambda_1 * contrastive + lambda_2 * TFD (variants with TFD), and its detached parts."""
        c = contrastive(self.cfg.contrastive, self.logits(video, classes), video, classes, labels, self.logit_scale)
        return with_tfd(self.cfg.contrastive_weight * c, {"contrastive": c.detach()}, video.frames, self.cfg.tfd_weight)

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """Just the trained weights (tokens, adapters, or all of CLIP for ViFi), detached on CPU."""
        names = {n for n, p in self.named_parameters() if p.requires_grad}
        return {k: v.detach().cpu().clone() for k, v in self.state_dict().items() if k in names}
