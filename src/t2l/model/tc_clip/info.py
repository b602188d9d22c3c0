"""TC-CLIP's trainable parameters and video-encoder FLOPs (torch's FLOP counter)."""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from t2l.model.tc_clip.model import TCClip

PARTS = {"clip.": "CLIP", "prompt_vectors": "prompt vectors", "video_prompting.": "video prompting",
         "local_global_bias": "local-global bias"}


def parameter_counts(model: TCClip) -> dict[str, int]:
    """Trainable parameters per part, plus ``trainable`` and ``total``."""
    counts = {label: 0 for label in PARTS.values()}
    for name, p in model.named_parameters():
        if p.requires_grad:
            counts[next(label for prefix, label in PARTS.items() if name.startswith(prefix))] += p.numel()
    counts["trainable"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    counts["total"] = sum(p.numel() for p in model.parameters())
    return counts


def video_gflops(model: TCClip, frames: int) -> float:
    """GFLOPs (2 per multiply-add) of ``encode_video`` on one clip at the backbone's image size."""
    video = torch.zeros(1, frames, 3, *model.clip.visual.image_size)
    was_training = model.training
    model.eval()
    try:
        with FlopCounterMode(display=False) as counter:  # grad mode on: its module tracker needs it
            model.encode_video(video)
    finally:
        model.train(was_training)
    return counter.get_total_flops() / 1e9
