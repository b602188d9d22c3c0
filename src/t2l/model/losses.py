"""T2L's training objective: a contrastive term plus the Temporal Feature Diversity loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def tfd_loss(frames: torch.Tensor) -> torch.Tensor:
    """L_TFD = 1 / (1 + C + V) on un-normalised per-frame embeddings ``frames`` (B, T, D).

    C: mean over B, T, D of the central difference |e[t+1] - e[t-1]| / 2, ends replicate-padded;
    V: mean over B, D of the unbiased variance over T.
    """
    padded = torch.cat([frames[:, :1], frames, frames[:, -1:]], dim=1)
    central = ((padded[:, 2:] - padded[:, :-2]).abs() / 2).mean()
    variance = frames.var(dim=1, unbiased=True).mean() if frames.shape[1] > 1 else frames.new_zeros(())
    return 1.0 / (1.0 + central + variance)


def cross_entropy_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Each video against every class text of its dataset (the paper's Eq. 1); ``labels`` class
    indices (B,) or soft targets (B, C)."""
    return F.cross_entropy(logits, labels)


def symmetric_kl_loss(videos: torch.Tensor, texts: torch.Tensor, labels: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """The reference's loss: video<->text of the batch's own samples, same-class pairs positive.

    ``videos`` and ``texts`` (B, E) are unit vectors (``texts[i]`` encodes sample i's class).
    The target of each row is uniform over the same-class entries; KL both ways, averaged.
    """
    return multi_positive_kl_loss(videos, texts, labels[:, None] == labels[None, :], scale)


def multi_positive_kl_loss(images: torch.Tensor, texts: torch.Tensor, positive: torch.Tensor,
                           scale: torch.Tensor) -> torch.Tensor:
    """Contrastive loss with several positives: ``positive[i, j]`` says text j describes image i.

    Each image's target is uniform over the texts that describe it, each text's over the images
    it describes (every row and column needs one); KL both ways, averaged.
    """
    logits = scale * images @ texts.T
    target = positive.float()
    kl = lambda lg, t: F.kl_div(F.log_softmax(lg, dim=1), t / t.sum(dim=1, keepdim=True), reduction="batchmean")  # noqa: E731
    return (kl(logits, target) + kl(logits.T, target.T)) / 2
