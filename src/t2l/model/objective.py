"""Training objectives built from the loss terms: contrastive (CE or the reference's KL) plus TFD."""

from __future__ import annotations

import torch

from t2l.model.family import VideoFeatures
from t2l.model.losses import cross_entropy_loss, symmetric_kl_loss, tfd_loss


def contrastive(kind: str, logits: torch.Tensor, video: VideoFeatures, classes: torch.Tensor, labels: torch.Tensor,
                scale: torch.Tensor) -> torch.Tensor:
    """``ce``: each video against every class text (``logits``); ``kl``: the reference's batch loss
    between the videos and their own classes' unit embeddings ``classes`` (C, E)."""
    if kind == "kl":
        return symmetric_kl_loss(video.embedding.float(), classes.float()[labels], labels, scale)
    return cross_entropy_loss(logits.float(), labels)


def with_tfd(loss: torch.Tensor, parts: dict[str, torch.Tensor], frames: torch.Tensor | None,
             weight: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``loss + weight * TFD(frames)`` (unchanged when ``weight`` is 0), with the TFD part added."""
    if not weight or frames is None:
        return loss, parts
    t = tfd_loss(frames.float())
    return loss + weight * t, {**parts, "tfd": t.detach()}
