"""Parameter counts and FLOPs of a model of any family (torch's FLOP counter)."""

from __future__ import annotations

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

# readable names of the families' parts (first component of a parameter name); others keep theirs
PART_NAMES = {"temporal": "temporal tokens", "spatial_adapters": "spatial adapters", "text_adapters": "text adapters",
              "clip": "CLIP", "prompt_vectors": "prompt vectors", "video_prompting": "video prompting",
              "local_global_bias": "local-global bias", "query": "aligned queries", "learned_queries": "learned queries",
              "decoder": "video decoder"}


def parameter_counts(model: torch.nn.Module) -> dict[str, int]:
    """Trainable parameters per part, plus ``trainable`` and ``total``."""
    counts: dict[str, int] = {}
    for name, p in model.named_parameters():
        part = name.split(".")[0]
        part = PART_NAMES.get(part, part)
        counts[part] = counts.get(part, 0) + (p.numel() if p.requires_grad else 0)
    counts["trainable"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    counts["total"] = sum(p.numel() for p in model.parameters())
    return counts


def stand_in_entities(model: torch.nn.Module, count: int) -> int:
    """The entities an ALT model aligns to (K; 0 for other families). One built without a corpus
    gets ``count`` random unit entity embeddings, so that it runs and its cost can be counted: no
    parameter depends on K, the alignment's FLOPs grow with it."""
    entities = getattr(model, "entity_embeddings", None)
    if entities is None:
        return 0
    if len(entities) == 0:
        model.set_entities(torch.randn(count, entities.shape[1], generator=torch.Generator().manual_seed(0)))
    return len(model.entity_embeddings)


def video_gflops(model: torch.nn.Module, frames: int) -> float:
    """GFLOPs (torch's counter: 2 per multiply-add) of the video encoder on one clip."""
    size = model.clip.visual.image_size
    video = torch.zeros(1, frames, 3, *size)
    was_training = model.training
    model.eval()
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # the fused kernels escape the counter:
    try:  # attention is counted through its matrix products
        with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:  # grad mode on: its module tracker needs it
            model.encode_video(video)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    model.train(was_training)
    return counter.get_total_flops() / 1e9
