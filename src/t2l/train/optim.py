"""AdamW with decoupled weight decay on weight matrices only, and warmup + cosine schedule."""

from __future__ import annotations

import math

import torch
from torch import nn


def param_groups(model: nn.Module, weight_decay: float, lr: float, token_lr_scale: float = 1.0) -> list[dict]:
    """Weight decay on weight matrices; none on biases, norms, embeddings, tokens, scales.

    Learning rates: temporal tokens at ``lr * token_lr_scale``; a family that scales some of its
    parameters (``model.lr_scale(name)``, e.g. TC-CLIP's 10x on prompt vectors and the VP layer)
    gets those at ``lr`` times its scale. One group per (decay, scale), in first-seen order.
    """
    groups: dict[tuple[bool, float], list] = {}
    scale_of = getattr(model, "lr_scale", lambda name: 1.0)
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        leaf = name.rsplit(".", 1)[-1]
        tokens = name.startswith("temporal.")
        matrix = p.ndim >= 2 and leaf == "weight" and "norm" not in name.lower() and ".ln" not in name
        decay = matrix and "embedding" not in name and not tokens
        scale = scale_of(name) * (token_lr_scale if tokens else 1.0)
        groups.setdefault((decay, scale), []).append(p)
    return [{"params": params, "weight_decay": weight_decay if decay else 0.0, "lr": lr * scale}
            for (decay, scale), params in groups.items()]


def adamw(model: nn.Module, lr: float, weight_decay: float, betas=(0.9, 0.98), eps: float = 1e-8,
          token_lr_scale: float = 1.0) -> torch.optim.AdamW:
    return torch.optim.AdamW(param_groups(model, weight_decay, lr, token_lr_scale), lr=lr, betas=tuple(betas), eps=eps)


def warmup_cosine(optimizer: torch.optim.Optimizer, total_steps: int, warmup_fraction: float,
                  min_ratio: float = 0.0) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup over the first ``warmup_fraction`` of steps, then cosine to ``min_ratio``."""
    warmup = max(1, int(round(total_steps * warmup_fraction)))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
