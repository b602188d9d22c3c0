"""Fine-grained visual-semantic alignment (Sec. 3.2, Eq. 4-6): each visual token to one text
entity, and a frame's aligned entities to one query.

``w_ij = cos(x_i, s_j)``; ``A = softmax_j(w_ij / tau + g_j)`` with g ~ Gumbel(0, 1) i.i.d. per
token and entity; ``Â = one_hot(argmax A) + A - sg(A)``: exactly one-hot forward, the soft
assignment's gradient backward (straight-through). Without noise (evaluation) the assignment is
the deterministic nearest entity by cosine similarity. Computed in float32, autocast off, so
that the argmax does not depend on the training precision.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def cosine_similarity(tokens: torch.Tensor, entities: torch.Tensor) -> torch.Tensor:
    """w (…, K): cosine similarity of every token (…, E) with every entity embedding (K, E)."""
    return F.normalize(tokens.float(), dim=-1) @ F.normalize(entities.float(), dim=-1).T


def gumbel_noise(like: torch.Tensor) -> torch.Tensor:
    """i.i.d. Gumbel(0, 1) samples shaped as ``like``: -log(Exp(1))."""
    return -torch.empty_like(like).exponential_().log()


def hard_assignment(similarity: torch.Tensor, tau: float, noise: torch.Tensor | None = None) -> torch.Tensor:
    """Â (…, K) of Eq. 5 from w (…, K); ``noise`` the Gumbel samples g of Eq. 4 (None: none)."""
    logits = similarity / tau if noise is None else similarity / tau + noise
    soft = logits.softmax(dim=-1)
    hard = torch.zeros_like(soft).scatter_(-1, soft.argmax(dim=-1, keepdim=True), 1.0)
    return hard + (soft - soft.detach())  # soft - sg(soft) is exactly zero: the forward value is one-hot


def align(tokens: torch.Tensor, entities: torch.Tensor, tau: float, sample: bool) -> torch.Tensor:
    """Â S (…, E): each token replaced by the embedding of its assigned entity (``entities`` (K, E));
    ``sample``: draw Gumbel noise (training), else the nearest entity."""
    with torch.autocast(tokens.device.type, enabled=False):
        w = cosine_similarity(tokens, entities)
        return hard_assignment(w, tau, gumbel_noise(w) if sample else None) @ entities.float()


class QueryMLP(nn.Module):
    """Q = MLP(Â S) (Eq. 6): a frame's n token embeddings (…, n, E), flattened, to one query (…, E).

    The paper's MLP "reduces the dimensions from (N + 1 - L r) x d to 1 x d"; read literally, it
    takes the whole flattened matrix (which is what makes ALT-B/16's 124.6 M parameters add up).
    """

    def __init__(self, tokens: int, width: int):
        super().__init__()
        self.tokens = tokens
        self.mlp = nn.Sequential(nn.Linear(tokens * width, width), nn.GELU(), nn.Linear(width, width))

    def forward(self, aligned: torch.Tensor) -> torch.Tensor:
        return self.mlp(aligned.flatten(-2))
