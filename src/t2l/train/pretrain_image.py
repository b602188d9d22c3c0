"""The stand-in's first phase: its image tower learns to name each attribute of a frame (one
linear head per attribute, discarded afterwards), the way CLIP-style "locked-image tuning"
(Zhai et al., LiT, 2022) starts from an image model trained with labels. The contrastive phase
then aligns the text tower to it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from t2l.data.synth.captions import ATTRIBUTES
from t2l.train.optim import warmup_cosine


def attribute_codes(attributes: pd.DataFrame, values: dict[str, tuple[str, ...]]) -> dict[str, torch.Tensor]:
    """Each image's value index per attribute, in ``values`` order."""
    return {a: torch.as_tensor(pd.Categorical(attributes[a], categories=values[a]).codes.astype(np.int64))
            for a in ATTRIBUTES}


def train_image_tower(model, images: torch.Tensor, codes: dict[str, torch.Tensor], values: dict, steps: int,
                      batch_size: int, lr: float, weight_decay: float, warmup: float, augment,
                      generator: torch.Generator) -> None:
    """``steps`` of attribute classification on ``model.visual`` (summed cross-entropies)."""
    heads = nn.ModuleDict({a: nn.Linear(model.visual.output_dim, len(values[a])) for a in ATTRIBUTES})
    optimizer = torch.optim.AdamW([*model.visual.parameters(), *heads.parameters()], lr=lr, weight_decay=weight_decay)
    scheduler = warmup_cosine(optimizer, steps, warmup)
    bar = tqdm(range(steps), desc="pretrain image tower")
    for _ in bar:
        idx = torch.randint(0, len(images), (batch_size,), generator=generator)
        features = model.encode_image(augment(images[idx], generator))
        loss = sum(F.cross_entropy(heads[a](features), codes[a][idx]) for a in ATTRIBUTES)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        bar.set_postfix(loss=f"{loss.item():.3f}")
