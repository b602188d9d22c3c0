"""Mixup and CutMix, as TC-CLIP's and ViFi-CLIP's references blend a training batch: each clip mixed
with another of its micro-batch (a random permutation), and soft targets (B, C) that mix the
one-hot labels by the same share.

Mixup: ``x = lam x + (1 - lam) x[perm]``, ``lam ~ Beta(a, a)``. CutMix: one box, the same in every
frame, pasted from ``x[perm]``: sides ``sqrt(1 - lam)`` of the frame's, ``lam ~ Beta(a, a)``,
centre uniform over the frame, clipped at its edges; ``lam`` is then the share of the frame left
(``1 - box area / frame area``). With both on, a batch is CutMix with probability
``switch_prob``, else mixup. The targets sum to 1; each family's loss applies its own label
smoothing to them (the references smooth before mixing, which gives the same targets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Mixing:
    mixup: float = 0.0  # Beta(a, a) of mixup's share; 0: off
    cutmix: float = 0.0  # Beta(a, a) of CutMix's share; 0: off
    switch_prob: float = 0.5  # both on: the chance a batch is CutMix rather than mixup

    @property
    def enabled(self) -> bool:
        return self.mixup > 0 or self.cutmix > 0

    def __call__(self, video: torch.Tensor, labels: torch.Tensor, num_classes: int,
                 rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``video`` (B, T, 3, H, W) and class indices ``labels`` (B,) -> mixed clips and soft targets (B, C)."""
        order = torch.as_tensor(rng.permutation(len(video)), device=video.device)
        if self.cutmix > 0 and (self.mixup <= 0 or rng.random() < self.switch_prob):
            video, lam = cutmix(video, order, cutmix_box(*video.shape[-2:], rng.beta(self.cutmix, self.cutmix), rng))
        else:
            lam = float(rng.beta(self.mixup, self.mixup))
            video = lam * video + (1 - lam) * video[order]
        targets = F.one_hot(labels, num_classes).float()
        return video, lam * targets + (1 - lam) * targets[order]


def cutmix_box(height: int, width: int, lam: float, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` of a box with sides ``sqrt(1 - lam)`` of the frame's, its centre
    uniform over the frame, clipped at the edges."""
    side = math.sqrt(1.0 - lam)
    h, w = int(height * side), int(width * side)
    y, x = int(rng.integers(height)), int(rng.integers(width))
    return max(y - h // 2, 0), min(y + h // 2, height), max(x - w // 2, 0), min(x + w // 2, width)


def cutmix(video: torch.Tensor, order: torch.Tensor, box: tuple[int, int, int, int]) -> tuple[torch.Tensor, float]:
    """``video`` with ``box`` of every frame taken from ``video[order]``, and the share of each frame left."""
    top, bottom, left, right = box
    mixed = video.clone()
    mixed[..., top:bottom, left:right] = video[order][..., top:bottom, left:right]
    height, width = video.shape[-2:]
    return mixed, 1.0 - (bottom - top) * (right - left) / (height * width)
