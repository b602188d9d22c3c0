"""Clip transforms on (T, C, H, W) tensors: one random draw per clip, applied to every frame."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

# CLIP's normalisation (open_clip.constants.OPENAI_DATASET_MEAN/STD)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 (T, H, W, 3) -> float (T, 3, H, W) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div_(255.0)


def normalize(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(CLIP_MEAN, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - mean) / std


def resize_short(x: torch.Tensor, size: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    if min(h, w) == size:
        return x
    s = size / min(h, w)
    return F.interpolate(x, size=(max(size, round(h * s)), max(size, round(w * s))), mode="bilinear",
                         align_corners=False, antialias=True)


def center_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    return x[..., top:top + size, left:left + size]


class EvalTransform:
    """Resize the short side to ``round(crop * resize_ratio)``, centre-crop, CLIP-normalise.

    The paper's setting is crop 224 with resize_ratio 256/224 (short side 256).
    """

    def __init__(self, crop: int, resize_ratio: float = 256 / 224):
        self.crop, self.short = crop, int(round(crop * resize_ratio))

    def __call__(self, frames: np.ndarray, rng: np.random.Generator | None = None) -> torch.Tensor:
        return normalize(center_crop(resize_short(to_tensor(frames), self.short), self.crop))
