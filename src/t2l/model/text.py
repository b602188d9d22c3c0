"""The text encoder with adapters, and class prompts (descriptions or a template ensemble)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from t2l.descriptions.wording import NAME_PROMPTS
from t2l.model import clip_parts as parts


def encode_text(clip, tokens: torch.Tensor, adapters: nn.ModuleList | None = None) -> torch.Tensor:
    """Projected text embeddings (N, E) of ``tokens`` (N, context), adapters after each attention."""
    x, mask = parts.text_tokens(clip, tokens), parts.causal_mask(clip)
    for i, block in enumerate(parts.text_blocks(clip)):
        x = x + block.ls_1(parts.self_attention(block, block.ln_1(x), mask))
        if adapters is not None:
            x = adapters[i](x)
        x = parts.feed_forward(block, x)
    return parts.text_pool(clip, x, tokens)


def class_texts(names: list[str], descriptions: dict[str, list[str]] | None = None) -> list[list[str]]:
    """Each class's prompts: its descriptions where given, else the template ensemble over its name."""
    return [list((descriptions or {}).get(n) or [t.format(n) for t in NAME_PROMPTS]) for n in names]


@dataclass
class ClassPrompts:
    """Every prompt of every class, tokenised: ``owner[i]`` is the class of prompt ``i``."""

    tokens: torch.Tensor  # (P, context)
    owner: torch.Tensor  # (P,)
    num_classes: int

    @classmethod
    def build(cls, texts: list[list[str]], tokenizer) -> "ClassPrompts":
        """``texts[c]`` are the prompts of class ``c``; open_clip's tokenizer truncates long ones."""
        if any(not t for t in texts):
            raise ValueError("every class needs at least one prompt")
        flat = [s for group in texts for s in group]
        owner = torch.tensor([c for c, group in enumerate(texts) for _ in group])
        return cls(tokenizer(flat), owner, len(texts))

    @classmethod
    def from_names(cls, names: list[str], tokenizer, descriptions: dict[str, list[str]] | None = None) -> "ClassPrompts":
        """Descriptions where given, else the template ensemble over the class name."""
        return cls.build(class_texts(names, descriptions), tokenizer)

    def sample(self, rng: np.random.Generator) -> "ClassPrompts":
        """One randomly chosen prompt per class (training draws a fresh one each step)."""
        owner = self.owner.numpy()
        pick = [rng.choice(np.flatnonzero(owner == c)) for c in range(self.num_classes)]
        return ClassPrompts(self.tokens[pick], self.owner[pick], self.num_classes)

    def to(self, device) -> "ClassPrompts":
        return ClassPrompts(self.tokens.to(device), self.owner.to(device), self.num_classes)


def pool_classes(embeddings: torch.Tensor, prompts: ClassPrompts) -> torch.Tensor:
    """Unit class embeddings (C, E): the mean of each class's unit prompt embeddings."""
    unit = F.normalize(embeddings, dim=-1)
    sums = torch.zeros(prompts.num_classes, unit.shape[-1], dtype=unit.dtype, device=unit.device)
    sums.index_add_(0, prompts.owner.to(unit.device), unit)
    return F.normalize(sums, dim=-1)
