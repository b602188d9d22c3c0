"""What every video-text model family implements, so training, evaluation, tracking and serving
run T2L, ViFi-CLIP, TC-CLIP and ALT through one code path.

A family is an ``nn.Module`` built from an open_clip CLIP and a ``ModelConfig``:

- ``encode_video(video (B, T, 3, H, W)) -> VideoFeatures``
- ``encode_classes(prompts: ClassPrompts) -> classes``: whatever the family computes once per
  class list (unit class embeddings (C, E) for most; TC-CLIP keeps the text state its
  video-conditional prompts finish per video). Evaluation and serving compute it once per
  class list and reuse it.
- ``logits(video: VideoFeatures, classes) -> (B, C)``
- ``objective(video: VideoFeatures, classes, labels) -> (loss, {name: detached part})``: ``labels``
  class indices (B,) or soft targets (B, C) (mixup, CutMix); one-hot targets give the indices' loss
- ``forward(video, prompts) -> (VideoFeatures, classes)``: one call that uses every trainable
  part, as DistributedDataParallel expects
- ``trainable_state_dict()``, ``set_grad_checkpointing(enable)``, ``cfg``; ``clip`` is the
  wrapped open_clip model (frozen or fine-tuned, as the family decides).
- optional: ``frozen_stem`` (True where nothing trains before the first block) and
  ``embed_frames(video) -> (B, T, N+1, D)``, which ``encode_video`` then accepts in place of
  the pixels: training and evaluation embed a clip once and reuse it (``t2l.scoring.embedded``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class VideoFeatures:
    embedding: torch.Tensor  # (B, E) unit video embeddings: what logits and retrieval use
    frames: torch.Tensor | None = None  # (B, T, E) un-normalised per-frame embeddings (TFD, probes, figures)
    context: torch.Tensor | None = None  # family state the text side conditions on (TC-CLIP's context tokens)
