"""Which trained parameters weight decay applies to: a variant's ``decay_policy``, as each method's
reference decays them — ``layer_weights`` (T2L and its ablations), ``all`` (ViFi-CLIP's and TC-CLIP's
AdamW over every parameter), ``matrices`` (ALT, by X-CLIP's rule)."""

from __future__ import annotations

import torch
from torch import nn


def _layer_weight(name: str, p: torch.Tensor) -> bool:
    """The ``weight`` matrix of a linear or convolution layer: not a bias, norm, embedding, temporal
    token, packed attention projection (``in_proj_weight``) or bare projection (``visual.proj``)."""
    matrix = p.ndim >= 2 and name.rsplit(".", 1)[-1] == "weight" and "norm" not in name.lower() and ".ln" not in name
    return matrix and "embedding" not in name and not name.startswith("temporal.")


def _matrix(name: str, p: torch.Tensor) -> bool:
    """Any parameter of two or more dimensions but an embedding (X-CLIP's rule: biases, norms and
    positional embeddings are exempt; packed projections and ``visual.proj`` decay)."""
    return p.ndim >= 2 and "embedding" not in name


# ``ModelConfig.decay_policy`` -> which trained parameters decay
DECAY = {"layer_weights": _layer_weight, "matrices": _matrix, "all": lambda name, p: True}


def decays(model: nn.Module, policy: str) -> dict[str, bool]:
    """Whether each trained parameter of ``model`` decays under ``policy`` (a ``DECAY`` key)."""
    rule = DECAY[policy]
    return {name: rule(name, p) for name, p in model.named_parameters() if p.requires_grad}


def decay_counts(model: nn.Module) -> dict[str, int | str]:
    """A model variant's policy and how many trained parameter values decay and how many do not."""
    named = dict(model.named_parameters())
    flags = decays(model, model.cfg.decay_policy)
    decayed = sum(named[n].numel() for n, d in flags.items() if d)
    return {"policy": model.cfg.decay_policy, "decayed": decayed,
            "undecayed": sum(named[n].numel() for n in flags) - decayed}
