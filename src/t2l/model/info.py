"""Parameter counts and FLOPs of a model (torch's FLOP counter)."""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from t2l.model.t2l import T2L

PARTS = {"temporal": "temporal tokens", "spatial_adapters": "spatial adapters", "text_adapters": "text adapters",
         "clip": "CLIP"}


def parameter_counts(model: T2L) -> dict[str, int]:
    """Trainable parameters per part, plus ``trainable`` and ``total``."""
    counts = {name: sum(p.numel() for p in getattr(model, attr).parameters() if p.requires_grad)
              for attr, name in PARTS.items() if getattr(model, attr) is not None}
    counts["trainable"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    counts["total"] = sum(p.numel() for p in model.parameters())
    return counts


def video_gflops(model: T2L, frames: int) -> float:
    """GFLOPs (torch's counter: 2 per multiply-add) of the video encoder on one clip."""
    size = model.clip.visual.image_size
    video = torch.zeros(1, frames, 3, *size)
    was_training = model.training
    model.eval()
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # the fused kernel escapes the counter
    try:
        with FlopCounterMode(display=False) as counter:  # grad mode on: its module tracker needs it
            model.encode_frames(video)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    model.train(was_training)
    return counter.get_total_flops() / 1e9
