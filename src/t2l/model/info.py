"""Parameter counts and FLOPs of a model (torch's FLOP counter)."""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

# readable names of the families' parts (top-level submodules); others keep their attribute name
PART_NAMES = {"temporal": "temporal tokens", "spatial_adapters": "spatial adapters", "text_adapters": "text adapters",
              "clip": "CLIP"}


def parameter_counts(model: torch.nn.Module) -> dict[str, int]:
    """Trainable parameters per part (top-level submodule), plus ``trainable`` and ``total``."""
    counts = {PART_NAMES.get(attr, attr): sum(p.numel() for p in part.parameters() if p.requires_grad)
              for attr, part in model.named_children()}
    counts["trainable"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    counts["total"] = sum(p.numel() for p in model.parameters())
    return counts


def video_gflops(model: torch.nn.Module, frames: int) -> float:
    """GFLOPs (torch's counter: 2 per multiply-add) of the video encoder on one clip."""
    size = model.clip.visual.image_size
    video = torch.zeros(1, frames, 3, *size)
    was_training = model.training
    model.eval()
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # the fused kernel escapes the counter
    try:
        with FlopCounterMode(display=False) as counter:  # grad mode on: its module tracker needs it
            model.encode_video(video)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    model.train(was_training)
    return counter.get_total_flops() / 1e9
