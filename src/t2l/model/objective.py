"""Training objectives built from the loss terms: contrastive (CE or the reference's KL) plus TFD."""

from __future__ import annotations

import torch

from t2l.model.family import VideoFeatures
from t2l.model.losses import cross_entropy_loss, multi_positive_kl_loss, symmetric_kl_loss, tfd_loss


def contrastive(kind: str, logits: torch.Tensor, video: VideoFeatures, classes: torch.Tensor, labels: torch.Tensor,
                scale: torch.Tensor) -> torch.Tensor:
    """``ce``: each video against every class text (``logits``); ``kl``: the reference's batch loss
    between the videos and their own classes' unit embeddings ``classes`` (C, E).

    ``labels``: class indices (B,) or soft targets (B, C) (mixup, CutMix). With soft targets the
    ``kl`` batch's text of clip j is its larger share's class, and it describes video i by video
    i's share of that class (for one-hot targets: the same-class pairs, as with indices)."""
    if kind == "kl":
        if labels.ndim == 2:
            own = labels.argmax(dim=1)
            return multi_positive_kl_loss(video.embedding.float(), classes.float()[own], labels.float()[:, own], scale)
        return symmetric_kl_loss(video.embedding.float(), classes.float()[labels], labels, scale)
    return cross_entropy_loss(logits.float(), labels)


def with_tfd(loss: torch.Tensor, parts: dict[str, torch.Tensor], frames: torch.Tensor | None,
             weight: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``loss + weight * TFD(frames)`` (unchanged when ``weight`` is 0), with the TFD part added."""
    if not weight or frames is None:
        return loss, parts
    t = tfd_loss(frames.float())
    return loss + weight * t, {**parts, "tfd": t.detach()}
