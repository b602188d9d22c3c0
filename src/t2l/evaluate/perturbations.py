"""Distribution shifts applied on the fly, in the spirit of UCF-101-P / HMDB-51-P and UCF-101-O.

Each perturbation has severities 1..3 and may change the sampled frame indices (temporal) and
the decoded uint8 frames (spatial, occlusion). Random choices come from a per-video generator.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image, ImageFilter

from t2l.errors import UserError

Frames = np.ndarray  # (T, H, W, 3) uint8
SEVERITIES = (1, 2, 3)


def _noise(f: Frames, s: int, rng) -> Frames:
    return np.clip(f + rng.normal(0, 255 * 0.04 * s, f.shape), 0, 255).astype(np.uint8)


def _per_frame(f: Frames, op: Callable[[Image.Image], Image.Image]) -> Frames:
    return np.stack([np.asarray(op(Image.fromarray(x))) for x in f])


def _blur(f: Frames, s: int, rng) -> Frames:
    radius = 0.5 * s * f.shape[1] / 64
    return _per_frame(f, lambda im: im.filter(ImageFilter.GaussianBlur(radius)))


def _jpeg(f: Frames, s: int, rng) -> Frames:
    def compress(im):
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=(30, 15, 5)[s - 1])
        return Image.open(buf).convert("RGB")
    return _per_frame(f, compress)


def _brightness(f: Frames, s: int, rng) -> Frames:
    return np.clip(f.astype(np.float32) + 255 * 0.15 * s, 0, 255).astype(np.uint8)


def _contrast(f: Frames, s: int, rng) -> Frames:
    mean = f.reshape(len(f), -1).mean(1)[:, None, None, None]
    return np.clip(mean + (f - mean) * (0.6, 0.4, 0.25)[s - 1], 0, 255).astype(np.uint8)


def _patch(f: Frames, s: int, rng, moving: bool) -> Frames:
    t, h, w, _ = f.shape
    side = int(round(min(h, w) * (0.2, 0.3, 0.4)[s - 1]))
    start = rng.integers(0, [h - side + 1, w - side + 1])
    end = rng.integers(0, [h - side + 1, w - side + 1]) if moving else start
    out = f.copy()
    for i in range(t):
        y, x = np.rint(start + (end - start) * (i / max(1, t - 1))).astype(int)
        out[i, y:y + side, x:x + side] = 128
    return out


def _drop(idx: np.ndarray, n: int, s: int, rng) -> np.ndarray:
    """Dropped frames show the last frame that arrived (a stalled stream)."""
    keep = rng.random(len(idx)) >= 0.25 * s
    keep[0] = True
    return idx[np.maximum.accumulate(np.where(keep, np.arange(len(idx)), 0))]


def _freeze(idx: np.ndarray, n: int, s: int, rng) -> np.ndarray:
    length = max(2, int(round(len(idx) * 0.25 * s)))
    start = rng.integers(0, len(idx) - length + 1)
    out = idx.copy()
    out[start:start + length] = idx[start]
    return out


def _shuffle(idx: np.ndarray, n: int, s: int, rng) -> np.ndarray:
    window = min(len(idx), 2 ** s)
    out = idx.copy()
    for a in range(0, len(idx), window):
        out[a:a + window] = rng.permutation(out[a:a + window])
    return out


def _speed(idx: np.ndarray, n: int, s: int, rng) -> np.ndarray:
    """Slow motion: the clip's duration shows only the first 3/4, 1/2, 1/4 of the action."""
    return np.minimum((idx * (0.75, 0.5, 0.25)[s - 1]).astype(np.int64), n - 1)


@dataclass(frozen=True)
class Perturbation:
    name: str
    kind: str  # spatial | temporal | occlusion
    severity: int
    pixels: Callable | None = None
    timing: Callable | None = None

    def indices(self, idx: np.ndarray, n: int, rng) -> np.ndarray:
        return self.timing(idx, n, self.severity, rng) if self.timing else idx

    def frames(self, frames: Frames, rng) -> Frames:
        return self.pixels(frames, self.severity, rng) if self.pixels else frames


KINDS: dict[str, tuple[str, dict]] = {
    "gaussian_noise": ("spatial", {"pixels": _noise}),
    "blur": ("spatial", {"pixels": _blur}),
    "jpeg": ("spatial", {"pixels": _jpeg}),
    "brightness": ("spatial", {"pixels": _brightness}),
    "contrast": ("spatial", {"pixels": _contrast}),
    "frame_drop": ("temporal", {"timing": _drop}),
    "freeze": ("temporal", {"timing": _freeze}),
    "shuffle": ("temporal", {"timing": _shuffle}),
    "reverse": ("temporal", {"timing": lambda idx, n, s, rng: idx[::-1].copy()}),
    "speed": ("temporal", {"timing": _speed}),
    "static_occlusion": ("occlusion", {"pixels": lambda f, s, rng: _patch(f, s, rng, moving=False)}),
    "moving_occlusion": ("occlusion", {"pixels": lambda f, s, rng: _patch(f, s, rng, moving=True)}),
}


def perturbation(name: str, severity: int) -> Perturbation:
    if name not in KINDS:
        raise UserError(f"unknown perturbation {name!r}; known: {', '.join(KINDS)}")
    if severity not in SEVERITIES:
        raise UserError(f"{name}: severity must be 1, 2 or 3, got {severity!r}")
    kind, fns = KINDS[name]
    return Perturbation(name, kind, severity, **fns)
