"""TC-CLIP's text prompts: learnable prompt words before every class text.

Reference (``trainers/tc_clip_prompt_learner.py``): the text is ``"<start> a photo of a <class
name>. <end>"`` in 30 positions, and the embeddings of the four words after the start token
are replaced by learnable vectors initialised from those words' token embeddings.
"""

from __future__ import annotations

import re

import torch

from t2l.errors import UserError
from t2l.model import clip_parts as cp
from t2l.model.text import ClassPrompts


def with_prompt_slots(tokens: torch.Tensor, ends: torch.Tensor, words: int, length: int
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """``tokens`` (P, context) with ``words`` slots after the start token, cut to ``length``
    positions, and the new end positions (P,). A text that no longer fits keeps its end token
    in the last position. The slots hold the start id (their embeddings are replaced)."""
    start = tokens[:, :1]
    out = torch.cat([start, start.expand(-1, words), tokens[:, 1:]], dim=1)[:, :length].clone()
    cut = ends + words > length - 1
    out[cut, length - 1] = tokens[cut, ends[cut]]
    return out, (ends + words).clamp(max=length - 1)


def initial_vectors(clip, tokenizer, text: str, count: int) -> torch.Tensor:
    """(count, D) prompt vectors: the token embeddings of ``text``'s tokens, then normal(0, 0.02)
    for the remaining slots (all of them for an empty ``text``)."""
    ids = tokenizer([text])
    words = ids[0, 1:cp.end_positions(clip, ids)[0]]
    if len(words) > count:
        raise UserError(f"model.tc_clip.ctx_init {text!r} has {len(words)} tokens, "
                        f"more than model.tc_clip.n_ctx={count}")
    embedding = cp.token_embedding(clip)
    with torch.no_grad():
        given = embedding(words).float()
    extra = torch.empty(count - len(words), embedding.embedding_dim).normal_(std=0.02)
    return torch.cat([given, extra])


def class_name_prompts(names: list[str], tokenizer) -> ClassPrompts:
    """The reference's class texts, one per class: ``"{name}."``, CamelCase split into words (as
    for UCF101) and underscores as spaces; TC-CLIP adds its prompt words in front."""
    clean = [re.sub(r"([A-Z])", r" \1", name).strip().replace("_", " ") for name in names]
    return ClassPrompts.build([[f"{name}."] for name in clean], tokenizer)
