"""TSN-style segment sampling of T frame indices from a clip of n frames."""

from __future__ import annotations

import numpy as np


def segment_indices(n: int, t: int, rng: np.random.Generator | None = None, view: int = 0, views: int = 1) -> np.ndarray:
    """Split [0, n) into ``t`` equal segments and take one index per segment.

    Training (``rng`` given): a random offset inside each segment. Evaluation: the segment
    centre, or for multi-view testing view ``view`` of ``views`` evenly spaced offsets. A clip
    shorter than ``t`` repeats frames (several segments fall on the same frame).
    """
    if n < 1:
        raise ValueError("a clip needs at least one frame")
    seg = n / t
    start = seg * np.arange(t)
    offset = rng.uniform(0.0, seg, t) if rng is not None else seg * (view + 0.5) / views
    return np.minimum((start + offset).astype(np.int64), n - 1)
