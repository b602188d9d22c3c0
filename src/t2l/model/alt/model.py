"""ALT, "Align before Adapt": region-aware frames aligned to a text corpus, then a video decoder.

Per frame, the region-aware encoder gives X: the CLS embedding and the merged region tokens, in
the joint space. Each token is assigned its entity (Gumbel straight-through, nearest entity in
evaluation) and the frame's aligned entities become one query Q = MLP(Â S). The decoder runs
the T queries against the frames' CLS embeddings (temporal convolution, self- and cross-attention)
into the video embedding z, scored against the class embeddings of CLIP's frozen text encoder
(template ensemble) with CLIP's logit scale.

The ViT trains (at ``vit_lr_scale`` of the base rate) unless ``cfg.finetune_clip`` is off (Table
7's "Frozen"); the text tower and logit scale stay frozen. The entity embeddings are a buffer
saved with the trained weights, so a trained model carries the corpus it was trained with;
``set_entities`` swaps in another corpus, and ``expanded_entities`` adds texts for a while (the
zero-shot evaluation's target class names, App. B: ``evaluate.target_entities``).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from t2l.descriptions.corpus import read_corpus
from t2l.errors import UserError
from t2l.model import clip_parts as cp
from t2l.model.alt.alignment import QueryMLP, align
from t2l.model.alt.decoder import VideoDecoder, paper_blocks
from t2l.model.alt.entities import embed_texts, entity_text, load_entity_embeddings
from t2l.model.alt.options import ALTOptions
from t2l.model.alt.vision import encode_regions, output_tokens
from t2l.model.backbone import tokenizer
from t2l.model.family import VideoFeatures
from t2l.model.text import ClassPrompts, encode_text, pool_classes

if TYPE_CHECKING:  # config.py will hold ALTOptions: no import at run time, no cycle
    from t2l.model.config import ModelConfig

ENTITIES = "entity_embeddings"


class ALT(nn.Module):
    def __init__(self, clip, cfg: ModelConfig, options: ALTOptions):
        super().__init__()
        cp.check_supported(clip)
        self.clip, self.cfg, self.options = clip, cfg, options
        visual = clip.visual
        width = cp.output_dim(visual)
        if width % options.head_width:
            raise UserError(f"model.alt.head_width={options.head_width} does not divide the width {width} "
                            f"of backbone {cfg.backbone}")
        for p in clip.parameters():
            p.requires_grad = False
        for p in visual.parameters():
            p.requires_grad = cfg.finetune_clip
        self.register_buffer(ENTITIES, self._initial_entities(width))
        tokens = output_tokens(visual, options.r) if options.align_regions else 1
        self.query = QueryMLP(tokens, width) if options.queries != "learned" else None
        self.learned_queries = (nn.Parameter(nn.init.trunc_normal_(torch.empty(cfg.frames, width), std=0.02))
                                if options.queries == "learned" else None)
        blocks = options.decoder_blocks or paper_blocks(len(cp.image_blocks(visual)))
        self.decoder = VideoDecoder(width, width // options.head_width, blocks, options.conv_kernel)
        self.grad_checkpointing = cfg.grad_checkpointing
        self._classes: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None  # encode_classes' last answer

    def _initial_entities(self, width: int) -> torch.Tensor:
        o = self.options
        if o.entity_texts or o.corpus:
            texts = list(o.entity_texts) or [entity_text(e) for e in read_corpus(o.corpus)]
            return embed_texts(self.clip, tokenizer(self.cfg.backbone), texts)
        if not o.entities:
            return torch.zeros(0, width)  # filled by trained weights or set_entities
        cached = load_entity_embeddings(o.entities)
        if cached.backbone != self.cfg.backbone or cached.embeddings.shape[1] != width:
            raise UserError(f"model.alt.entities: {o.entities} holds {cached.backbone} embeddings of width "
                            f"{cached.embeddings.shape[1]}, the model is {self.cfg.backbone} of width {width}")
        return F.normalize(cached.embeddings.float(), dim=-1)

    def set_entities(self, embeddings: torch.Tensor) -> None:
        """Use entity embeddings S (K, E) from now on (normalised to unit rows)."""
        if embeddings.ndim != 2 or embeddings.shape[1] != cp.output_dim(self.clip.visual):
            raise UserError(f"entity embeddings must be (K, {cp.output_dim(self.clip.visual)}), "
                            f"got {tuple(embeddings.shape)}")
        self.entity_embeddings = F.normalize(embeddings.float(), dim=-1).to(self.entity_embeddings.device)

    @contextmanager
    def expanded_entities(self, texts: list[str]):
        """Within the block, S is the corpus plus ``texts`` (e.g. a zero-shot target's class names, as
        App. B expands it) embedded by the frozen text encoder; afterwards the corpus as it was."""
        saved = self.entity_embeddings
        added = embed_texts(self.clip, tokenizer(self.cfg.backbone), list(texts)).to(saved.device)
        self.set_entities(torch.cat([saved, added]))
        try:
            yield self
        finally:
            self.entity_embeddings = saved

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Trained weights bring their own corpus, whatever its size K."""
        saved = state_dict.get(prefix + ENTITIES)
        if saved is not None:
            self.entity_embeddings = torch.empty_like(saved, device=self.entity_embeddings.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        self.grad_checkpointing = enable

    def lr_scale(self, name: str) -> float:
        """Learning-rate multiplier of parameter ``name``: the ViT at ``vit_lr_scale`` (8e-6 against
        8e-5), the decoder at ``decoder_lr_scale``, the query MLP (and learned queries) at 1."""
        if name.startswith("clip.visual."):
            return self.options.vit_lr_scale
        return self.options.decoder_lr_scale if name.startswith("decoder.") else 1.0

    @property
    def logit_scale(self) -> torch.Tensor:
        return self.clip.logit_scale.exp()

    # -- video ---------------------------------------------------------------------------------
    def frame_queries(self, tokens: torch.Tensor, frames: int) -> torch.Tensor:
        """Q̂ (B, T, E) from the frames' tokens X (B*T, n, E)."""
        o = self.options
        if o.queries == "learned":
            if frames != len(self.learned_queries):
                raise UserError(f"model.alt.queries 'learned' holds {len(self.learned_queries)} queries "
                                f"(model.frames), the clip has {frames} frames")
            return self.learned_queries.expand(len(tokens) // frames, -1, -1)
        tokens = tokens if o.align_regions else tokens[:, :1]
        if o.queries == "tokens":
            aligned = F.normalize(tokens, dim=-1)
        elif len(self.entity_embeddings) == 0:
            raise UserError("model.alt.entities: the model has no entity embeddings (set model.alt.entities "
                            "or model.alt.entity_texts, or load trained weights)")
        else:
            aligned = align(tokens, self.entity_embeddings, o.tau, sample=self.training)
        return self.query(aligned.to(tokens.dtype)).unflatten(0, (-1, frames))

    def encode_video(self, video: torch.Tensor) -> VideoFeatures:
        """``video`` (B, T, 3, H, W): unit video embeddings z (B, E) and the frames' CLS embeddings (B, T, E)."""
        b, t = video.shape[:2]
        tokens = encode_regions(self.clip.visual, video.flatten(0, 1), self.options.r,
                                self.grad_checkpointing and self.training)
        frames = tokens[:, 0].unflatten(0, (b, t))
        z = self.decoder(self.frame_queries(tokens, t), frames)
        return VideoFeatures(F.normalize(z, dim=-1), frames)

    # -- classes and scores --------------------------------------------------------------------
    def encode_classes(self, prompts: ClassPrompts) -> torch.Tensor:
        """Unit class embeddings (C, E) of the frozen text encoder in float32, each class's prompts
        pooled. The tower is frozen, so the last prompt list's embeddings are kept and a repeated
        list (the same template ensemble every training step) costs nothing."""
        memo = self._classes
        if (memo is not None and memo[0].shape == prompts.tokens.shape and memo[0].device == prompts.tokens.device
                and torch.equal(memo[0], prompts.tokens) and torch.equal(memo[1], prompts.owner.to(memo[1].device))):
            return memo[2]
        with torch.no_grad(), torch.autocast(prompts.tokens.device.type, enabled=False):
            classes = pool_classes(encode_text(self.clip, prompts.tokens).float(), prompts)
        self._classes = (prompts.tokens.clone(), prompts.owner.clone(), classes)
        return classes

    def forward(self, video: torch.Tensor, prompts: ClassPrompts) -> tuple[VideoFeatures, torch.Tensor]:
        return self.encode_video(video), self.encode_classes(prompts)

    def logits(self, video: VideoFeatures, classes: torch.Tensor) -> torch.Tensor:
        """(B, C): cosine similarity of z and the classes times CLIP's (frozen) logit scale, in float32."""
        v, c = video.embedding.float(), classes.float()
        with torch.autocast(v.device.type, enabled=False):
            return self.logit_scale.float() * v @ c.T

    def objective(self, video: VideoFeatures, classes: torch.Tensor,
                  labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Eq. 10 with label smoothing; ``labels`` (B,) class indices or (B, C) mixup targets."""
        loss = F.cross_entropy(self.logits(video, classes), labels, label_smoothing=self.options.label_smoothing)
        return loss, {"contrastive": loss.detach()}

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """The trained weights (the ViT unless frozen, queries, decoder) and the entity embeddings, on CPU."""
        state = {n: p.detach().cpu().clone() for n, p in self.named_parameters() if p.requires_grad}
        return {**state, ENTITIES: self.entity_embeddings.detach().cpu().clone()}
