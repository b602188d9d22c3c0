"""AdamW with decoupled weight decay on the parameters the model's decay policy names, and warmup +
cosine schedule."""

from __future__ import annotations

import math

import torch
from torch import nn

from t2l.model.decay import decays


def param_groups(model: nn.Module, weight_decay: float, lr: float, token_lr_scale: float = 1.0,
                 decay_policy: str = "layer_weights") -> list[dict]:
    """Weight decay on the parameters ``decay_policy`` names (t2l.model.decay; ``layer_weights``, T2L's
    and the stand-in's: layer weight matrices, none on biases, norms, embeddings, tokens, scales).

    Learning rates: temporal tokens at ``lr * token_lr_scale``; a family that scales some of its
    parameters (``model.lr_scale(name)``, e.g. TC-CLIP's 10x on prompt vectors and the VP layer)
    gets those at ``lr`` times its scale. One group per (decay, scale), in first-seen order.
    """
    groups: dict[tuple[bool, float], list] = {}
    scale_of = getattr(model, "lr_scale", lambda name: 1.0)
    decayed = decays(model, decay_policy)
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        scale = scale_of(name) * (token_lr_scale if name.startswith("temporal.") else 1.0)
        groups.setdefault((decayed[name], scale), []).append(p)
    return [{"params": params, "weight_decay": weight_decay if decay else 0.0, "lr": lr * scale}
            for (decay, scale), params in groups.items()]


def adamw(model: nn.Module, lr: float, weight_decay: float, betas=(0.9, 0.98), eps: float = 1e-8,
          token_lr_scale: float = 1.0, decay_policy: str = "layer_weights") -> torch.optim.AdamW:
    groups = param_groups(model, weight_decay, lr, token_lr_scale, decay_policy)
    return torch.optim.AdamW(groups, lr=lr, betas=tuple(betas), eps=eps)


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
