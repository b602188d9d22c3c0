"""Clip transforms on (T, C, H, W) tensors: one random draw per clip, applied to every frame."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageEnhance

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


def short_side_size(h: int, w: int, size: int) -> tuple[int, int]:
    """(height, width) with the short side scaled to ``size``, aspect kept."""
    s = size / min(h, w)
    return max(size, round(h * s)), max(size, round(w * s))


def resize_short(x: torch.Tensor, size: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    if min(h, w) == size:
        return x
    return F.interpolate(x, size=short_side_size(h, w, size), mode="bilinear", align_corners=False, antialias=True)


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


class TrainTransform:
    """The reference's training augmentation on PIL images (as torchvision does it there), one
    random draw per clip applied to all its frames.

    Resize the short side as for evaluation, multi-scale crop (TSN: width and height each a
    scale of the short side, at most one scale step apart, at one of five fixed positions),
    resize to ``crop``, horizontal flip (off where direction is the label), colour jitter with
    probability ``jitter_p`` (brightness, contrast, saturation, hue in random order), grayscale
    with probability ``grayscale_p``, then CLIP normalisation.
    """

    def __init__(self, crop: int, resize_ratio: float = 256 / 224, scales=(1.0, 0.875, 0.75, 0.66), flip: bool = True,
                 jitter_p: float = 0.8, jitter=(0.4, 0.4, 0.2, 0.1), grayscale_p: float = 0.2):
        self.crop, self.short = crop, int(round(crop * resize_ratio))
        self.scales, self.flip, self.jitter_p, self.jitter, self.grayscale_p = scales, flip, jitter_p, jitter, grayscale_p

    def _crop_box(self, w: int, h: int, rng: np.random.Generator) -> tuple[int, int, int, int]:
        sizes = [int(min(h, w) * s) for s in self.scales]
        pairs = [(a, b) for i, a in enumerate(sizes) for j, b in enumerate(sizes) if abs(i - j) <= 1]
        ch, cw = pairs[rng.integers(len(pairs))]
        dy, dx = (h - ch) // 2, (w - cw) // 2
        top, left = [(0, 0), (0, 2 * dx), (2 * dy, 0), (2 * dy, 2 * dx), (dy, dx)][rng.integers(5)]
        return left, top, left + cw, top + ch

    def _colour_ops(self, rng: np.random.Generator) -> list:
        ops = []
        if rng.random() < self.jitter_p:
            b, c, s, hue = self.jitter
            jitters = [lambda im, f=rng.uniform(1 - b, 1 + b): ImageEnhance.Brightness(im).enhance(f),
                       lambda im, f=rng.uniform(1 - c, 1 + c): ImageEnhance.Contrast(im).enhance(f),
                       lambda im, f=rng.uniform(1 - s, 1 + s): ImageEnhance.Color(im).enhance(f),
                       lambda im, f=rng.uniform(-hue, hue): _shift_hue(im, f)]
            ops += [jitters[i] for i in rng.permutation(4)]
        if rng.random() < self.grayscale_p:
            ops.append(lambda im: im.convert("L").convert("RGB"))
        return ops

    def __call__(self, frames: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        h, w = short_side_size(*frames.shape[1:3], self.short)
        size = (w, h)  # PIL's order
        box = self._crop_box(*size, rng)
        flip = self.flip and rng.random() < 0.5
        ops = self._colour_ops(rng)
        out = []
        for frame in frames:
            im = Image.fromarray(frame)
            if im.size != size:
                im = im.resize(size, Image.Resampling.BILINEAR)
            im = im.crop(box).resize((self.crop, self.crop), Image.Resampling.BILINEAR)
            if flip:
                im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            for op in ops:
                im = op(im)
            out.append(np.asarray(im))
        return normalize(to_tensor(np.stack(out)))


def _shift_hue(im: Image.Image, factor: float) -> Image.Image:
    """Rotate the hue channel by ``factor`` of a turn (torchvision's adjust_hue on PIL images)."""
    h, s, v = im.convert("HSV").split()
    h = Image.fromarray(((np.asarray(h, dtype=np.int16) + int(factor * 255)) % 256).astype(np.uint8), "L")
    return Image.merge("HSV", (h, s, v)).convert("RGB")
