"""TC-CLIP (Kim et al., ECCV 2024): temporal contextualization in the vision tower and
video-conditional prompting in the text tower, on a fully fine-tuned open_clip CLIP.

``classes`` (what ``encode_classes`` returns and ``logits`` reads): without VP the unit class
embeddings (C, E); with VP the ``ClassState`` of every prompt, finished per video by
``condition`` into unit class embeddings (B, C, E). ``forward`` returns them finished, so that
the VP layer runs inside the call DistributedDataParallel wraps; ``logits`` takes either form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from t2l.errors import UserError
from t2l.model import clip_parts as cp
from t2l.model.backbone import tokenizer
from t2l.model.family import VideoFeatures
from t2l.model.tc_clip.context import seeds_per_frame
from t2l.model.tc_clip.options import TCClipOptions
from t2l.model.tc_clip.prompting import VideoPromptLayer
from t2l.model.tc_clip.prompts import initial_vectors, with_prompt_slots
from t2l.model.tc_clip.text import ClassState, encode_state, encode_texts, finish, pool_per_video
from t2l.model.tc_clip.vision import Contextualization, encode_video
from t2l.model.text import ClassPrompts, pool_classes
from t2l.model.token_merging import layer_rates

if TYPE_CHECKING:  # config.py holds TCClipOptions: no import at run time, no cycle
    from t2l.model.config import ModelConfig

ADDED = ("prompt_vectors", "video_prompting.", "local_global_bias")  # parameters TC-CLIP adds to CLIP


class TCClip(nn.Module):
    """Every CLIP weight trains except the token embedding (the reference keeps class-name
    embeddings as fixed buffers), plus the prompt vectors, the VP layer and the local-global bias."""

    def __init__(self, clip, cfg: ModelConfig, options: TCClipOptions):
        super().__init__()
        cp.check_supported(clip)
        self.clip, self.cfg, self.options = clip, cfg, options
        blocks = cp.image_blocks(clip.visual)
        self.text_length = min(options.text_context, cp.context_length(clip))
        if self.text_length < options.n_ctx + 2:
            raise UserError(f"model.tc_clip.n_ctx={options.n_ctx} leaves no room for text in "
                            f"{self.text_length} positions of backbone {cfg.backbone}")
        self.plan = self._contextualization(len(blocks)) if options.context_tokens else None
        self.prompt_vectors = None
        if options.n_ctx:
            vectors = initial_vectors(clip, tokenizer(cfg.backbone), options.ctx_init, options.n_ctx)
            self.prompt_vectors = nn.Parameter(vectors)
        self.video_prompting = (VideoPromptLayer(cp.text_blocks(clip)[-1], cp.output_dim(clip.visual), options.vp_init)
                                if options.video_prompting else None)
        self.local_global_bias = None
        if self.plan is not None and options.local_global_bias:
            table = torch.empty(len(blocks) - 1, cp.heads(blocks[0]), 2)
            self.local_global_bias = nn.Parameter(nn.init.trunc_normal_(table, std=0.02))
        cp.token_embedding(clip).weight.requires_grad_(False)
        self.grad_checkpointing = cfg.grad_checkpointing

    def _contextualization(self, layers: int) -> Contextualization:
        o = self.options
        rates = layer_rates(layers, o.tome_r, o.tome_d)
        if min(rates) < 1:
            raise UserError(f"model.tc_clip.tome_r={o.tome_r} with tome_d={o.tome_d} gives a block no merging "
                            f"(per-block r {rates}): raise tome_r or bring tome_d towards 0")
        rows, columns = cp.grid(self.clip.visual)
        return Contextualization(seeds_per_frame(rows * columns, o.seed_ratio), o.context_tokens, tuple(rates))

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        self.grad_checkpointing = enable

    def lr_scale(self, name: str) -> float:
        """Learning-rate multiplier of parameter ``name`` (a name of ``named_parameters()``): the
        reference's lr_10x on the prompt vectors and the VP layer, 1 elsewhere (local-global bias too)."""
        return self.options.lr_10x if name == "prompt_vectors" or name.startswith("video_prompting.") else 1.0

    @staticmethod
    def is_added(name: str) -> bool:
        """Whether parameter ``name`` belongs to a module TC-CLIP adds (no zero-shot CLIP value)."""
        return name.startswith(ADDED)

    # -- video ---------------------------------------------------------------------------------
    def encode_video(self, video: torch.Tensor) -> VideoFeatures:
        """``video`` (B, T, 3, H, W): unit embeddings (B, E), per-frame embeddings (B, T, E) and
        the tokens VP conditions on: the last block's projected context tokens (B, k, E), or the
        frames' projected CLS tokens without temporal contextualization."""
        frames, context = encode_video(self.clip.visual, video, self.plan, self.local_global_bias,
                                       last_context=self.video_prompting is not None,
                                       grad_checkpointing=self.grad_checkpointing and self.training)
        if self.video_prompting is not None and context is None:
            context = frames
        return VideoFeatures(F.normalize(frames.mean(dim=1), dim=-1), frames, context)

    # -- classes -------------------------------------------------------------------------------
    def _prompt_tokens(self, prompts: ClassPrompts) -> tuple[torch.Tensor, torch.Tensor]:
        ends = cp.end_positions(self.clip, prompts.tokens)
        return with_prompt_slots(prompts.tokens, ends, self.options.n_ctx, self.text_length)

    def encode_classes(self, prompts: ClassPrompts) -> torch.Tensor | ClassState:
        """Unit class embeddings (C, E), or with VP the state each video finishes (``condition``)."""
        tokens, ends = self._prompt_tokens(prompts)
        checkpointing = self.grad_checkpointing and self.training
        if self.video_prompting is None:
            return pool_classes(encode_texts(self.clip, tokens, ends, self.prompt_vectors, checkpointing), prompts)
        return encode_state(self.clip, tokens, ends, self.prompt_vectors, prompts.owner, prompts.num_classes,
                            checkpointing)

    def condition(self, classes: ClassState, video: VideoFeatures) -> torch.Tensor:
        """Unit class embeddings (B, C, E), each video's prompt words attending to its own tokens. The
        tokens take the words' precision: scoring encodes the classes outside autocast, the video in it."""
        tokens = (video.context.detach() if self.options.image_stop_grad else video.context).to(classes.words.dtype)
        texts = finish(self.clip, classes, self.video_prompting(classes.words, tokens))
        return pool_per_video(texts, classes.owner, classes.num_classes)

    # -- scores --------------------------------------------------------------------------------
    def forward(self, video: torch.Tensor, prompts: ClassPrompts) -> tuple[VideoFeatures, torch.Tensor]:
        """Video features and class embeddings ((C, E), or (B, C, E) with VP) in one call."""
        features, classes = self.encode_video(video), self.encode_classes(prompts)
        return features, self.condition(classes, features) if isinstance(classes, ClassState) else classes

    def logits(self, video: VideoFeatures, classes: torch.Tensor | ClassState) -> torch.Tensor:
        """(B, C): cosine similarity times CLIP's (trained) logit scale, in float32."""
        if isinstance(classes, ClassState):
            classes = self.condition(classes, video)
        v, c = video.embedding.float(), classes.float()
        with torch.autocast(v.device.type, enabled=False):
            similarity = torch.einsum("be,bce->bc", v, c) if c.dim() == 3 else v @ c.T
            return self.clip.logit_scale.float().exp() * similarity

    def objective(self, video: VideoFeatures, classes: torch.Tensor | ClassState,
                  labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Label-smoothed cross-entropy over the class list; ``labels`` (B,) class indices or
        (B, C) class probabilities (mixup/cutmix targets)."""
        loss = F.cross_entropy(self.logits(video, classes), labels, label_smoothing=self.options.label_smoothing)
        return loss, {"contrastive": loss.detach()}

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """Every trained weight (all of CLIP but the token embedding, plus the added modules), detached on CPU."""
        return {n: p.detach().cpu().clone() for n, p in self.named_parameters() if p.requires_grad}
