"""AdamW with decoupled weight decay on weight matrices only, and warmup + cosine schedule."""

from __future__ import annotations

import math

import torch
from torch import nn


def param_groups(model: nn.Module, weight_decay: float, lr: float, token_lr_scale: float = 1.0) -> list[dict]:
    """Weight decay on weight matrices; none on biases, norms, embeddings, tokens, scales.
    Temporal tokens get their own group at ``lr * token_lr_scale``."""
    decay, no_decay, tokens = [], [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        leaf = name.rsplit(".", 1)[-1]
        matrix = p.ndim >= 2 and leaf == "weight" and "norm" not in name.lower() and ".ln" not in name
        if name.startswith("temporal."):
            tokens.append(p)
        else:
            (decay if matrix and "embedding" not in name else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay, "lr": lr}, {"params": no_decay, "weight_decay": 0.0, "lr": lr}]
    if tokens:
        groups.append({"params": tokens, "weight_decay": 0.0, "lr": lr * token_lr_scale})
    return groups


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
