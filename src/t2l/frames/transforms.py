"""Clip transforms on (T, C, H, W) tensors: one random draw per clip, applied to every frame."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF

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


def square_crop(x: torch.Tensor, size: int, position: int = 0, positions: int = 1) -> torch.Tensor:
    """A ``size`` square: centred on the short side, at ``position`` of ``positions`` evenly
    spaced places along the long side (1 position: the centre crop; 3: left/centre/right)."""
    h, w = x.shape[-2:]
    frac = 0.5 if positions == 1 else position / (positions - 1)
    top = (h - size) // 2 if h <= w else int(round((h - size) * frac))
    left = (w - size) // 2 if w < h else int(round((w - size) * frac))
    return x[..., top:top + size, left:left + size]


class EvalTransform:
    """Resize the short side to ``round(crop * resize_ratio)``, crop, CLIP-normalise.

    The paper's setting is crop 224 with resize_ratio 256/224 (short side 256) and the centre
    crop; multi-view testing takes crop ``position`` of ``positions`` along the long side.
    """

    def __init__(self, crop: int, resize_ratio: float = 256 / 224, position: int = 0, positions: int = 1):
        self.crop, self.short = crop, int(round(crop * resize_ratio))
        self.position, self.positions = position, positions

    def __call__(self, frames: np.ndarray, rng: np.random.Generator | None = None) -> torch.Tensor:
        x = resize_short(to_tensor(frames), self.short)
        return normalize(square_crop(x, self.crop, self.position, self.positions))


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


class TrainTransform:
    """The reference's training augmentation, one random draw per clip for all its frames.

    Resize the short side as for evaluation, multi-scale crop (TSN: width and height each a
    scale of the short side, at most one scale step apart, at one of five fixed positions),
    resize to ``crop``, horizontal flip (off where direction is the label), colour jitter with
    probability ``jitter_p``, grayscale with probability ``grayscale_p``, CLIP normalisation.
    """

    def __init__(self, crop: int, resize_ratio: float = 256 / 224, scales=(1.0, 0.875, 0.75, 0.66), flip: bool = True,
                 jitter_p: float = 0.8, jitter=(0.4, 0.4, 0.2, 0.1), grayscale_p: float = 0.2):
        self.crop, self.short = crop, int(round(crop * resize_ratio))
        self.scales, self.flip, self.jitter_p, self.jitter, self.grayscale_p = scales, flip, jitter_p, jitter, grayscale_p

    def _multiscale_crop(self, x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        h, w = x.shape[-2:]
        sizes = [int(min(h, w) * s) for s in self.scales]
        pairs = [(a, b) for i, a in enumerate(sizes) for j, b in enumerate(sizes) if abs(i - j) <= 1]
        ch, cw = pairs[rng.integers(len(pairs))]
        dy, dx = (h - ch) // 2, (w - cw) // 2
        top, left = [(0, 0), (0, 2 * dx), (2 * dy, 0), (2 * dy, 2 * dx), (dy, dx)][rng.integers(5)]
        return _resize(x[..., top:top + ch, left:left + cw], self.crop)

    def _colour(self, x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        if rng.random() < self.jitter_p:
            b, c, s, hue = self.jitter
            ops = [(TF.adjust_brightness, rng.uniform(1 - b, 1 + b)), (TF.adjust_contrast, rng.uniform(1 - c, 1 + c)),
                   (TF.adjust_saturation, rng.uniform(1 - s, 1 + s)), (TF.adjust_hue, rng.uniform(-hue, hue))]
            for i in rng.permutation(4):
                op, factor = ops[i]
                x = op(x, float(factor))
        if rng.random() < self.grayscale_p:
            x = TF.rgb_to_grayscale(x, num_output_channels=3)
        return x.clamp(0, 1)

    def __call__(self, frames: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        x = self._multiscale_crop(resize_short(to_tensor(frames), self.short), rng)
        if self.flip and rng.random() < 0.5:
            x = x.flip(-1)
        return normalize(self._colour(x, rng))
