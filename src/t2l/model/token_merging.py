"""Token merging (ToMe, Bolya et al., ICLR 2023): bipartite soft matching, size-weighted merges.

One matching step splits the tokens (N, L, C) by alternating positions into set A (even
positions) and set B (odd), links each A token to its most cosine-similar B token, and merges
the ``r`` A tokens with the strongest links into their B partners. The result is the A tokens
that stay, then every B token (with whatever merged into it): L - r tokens.

Sizes (N, L, 1) count the original tokens each token stands for; merges average features
weighted by size and add sizes up. Two uses:

- summarising a set of tokens down to k (TC-CLIP's context tokens): ``merge_down``;
- merging inside ViT blocks (ALT): ``bipartite_soft_matching(keys, r, protect_first=True)`` keeps
  the CLS token unmerged and first, ``merge_weighted`` carries sizes from block to block,
  ``proportional_attention(size)`` is the log-size bias to add to attention logits, and
  ``tokens_after`` says how many tokens the blocks leave.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Matching:
    """The outcome of one bipartite soft matching (indices per batch row, int64)."""

    kept: torch.Tensor  # (N, |A| - r): positions within A of the tokens that stay, in output order
    merged: torch.Tensor  # (N, r): positions within A of the tokens that merge
    into: torch.Tensor  # (N, r): the position within B each merged token joins

    @property
    def removed(self) -> int:
        return self.merged.shape[1]

    def __call__(self, x: torch.Tensor, reduce: str = "sum") -> torch.Tensor:
        """Apply the matching to ``x`` (N, L, C): (N, L - r, C), the kept A tokens then all of B,
        each B token reduced (``torch.scatter_reduce``: sum, mean, amax...) with its merged A tokens."""
        if self.removed == 0:
            return x
        a, b = x[:, ::2], x[:, 1::2]
        width = x.shape[-1]
        kept = a.gather(1, self.kept[..., None].expand(-1, -1, width))
        moving = a.gather(1, self.merged[..., None].expand(-1, -1, width))
        b = b.scatter_reduce(1, self.into[..., None].expand(-1, -1, width), moving, reduce=reduce)
        return torch.cat([kept, b], dim=1)


def bipartite_soft_matching(metric: torch.Tensor, r: int, protect_first: bool = False) -> Matching:
    """Match the tokens of ``metric`` (N, L, C) by cosine similarity and pick ``r`` merges.

    ``r`` is capped at half the mergeable tokens; ``r <= 0`` merges nothing. Kept tokens are
    ordered by decreasing similarity of their best link, as ToMe does; with
    ``protect_first`` the first token (CLS) never merges and kept tokens keep their positional
    order, so CLS stays first.
    """
    n, length = metric.shape[:2]
    r = min(r, (length - int(protect_first)) // 2)
    if r <= 0:
        nothing = torch.empty(n, 0, dtype=torch.long, device=metric.device)
        return Matching(torch.arange((length + 1) // 2, device=metric.device).expand(n, -1), nothing, nothing)
    with torch.no_grad():
        unit = metric.float() / metric.float().norm(dim=-1, keepdim=True)
        scores = unit[:, ::2] @ unit[:, 1::2].transpose(1, 2)  # (N, |A|, |B|)
        if protect_first:
            scores[:, 0, :] = -torch.inf
        best, partner = scores.max(dim=-1)
        order = best.argsort(dim=-1, descending=True)  # torch's unstable sort, as ToMe: same ties broken the same way
        kept, merged = order[:, r:], order[:, :r]
        if protect_first:
            kept = kept.sort(dim=-1).values
        return Matching(kept, merged, partner.gather(1, merged))


def tokens_after(length: int, r: int, steps: int, protect_first: bool = False) -> int:
    """Tokens left of ``length`` after ``steps`` matchings of ``r`` each, with the cap
    ``bipartite_soft_matching`` applies (at most half the mergeable tokens per step)."""
    for _ in range(steps if r > 0 else 0):
        length -= min(r, (length - int(protect_first)) // 2)
    return length


def merge_weighted(matching: Matching, x: torch.Tensor, size: torch.Tensor | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Merge ``x`` (N, L, C) as size-weighted means; returns the merged tokens and their sizes
    (N, L - r, 1). ``size`` None: every token counts one. Sizes stay float32 under autocast."""
    if size is None:
        size = torch.ones(*x.shape[:2], 1, device=x.device)
    total = matching(x * size, reduce="sum")
    size = matching(size, reduce="sum")
    return (total / size).to(x.dtype), size


def proportional_attention(size: torch.Tensor) -> torch.Tensor:
    """log(size) of the keys (N, L, 1) as an additive bias (N, 1, 1, L) for attention logits
    (N, heads, queries, L): a token standing for s tokens weighs as s of them."""
    return size.log()[:, None, None, :, 0]


def merge_steps(start: int, final: int, r: int) -> list[int]:
    """Tokens removed per matching to go from ``start`` tokens down to ``final``: steps of ``r``
    (at most half the tokens each), then whatever is left in steps of at most half."""
    if r < 1:
        raise ValueError(f"a merge step must remove at least one token, got r={r}")
    steps, count = [], start
    for _ in range(max(0, (start - final) // r)):
        steps.append(min(r, count // 2))
        count -= steps[-1]
    while count > final:
        steps.append(min(count - final, count // 2))
        count -= steps[-1]
    return steps


def layer_rates(layers: int, r: int, inflection: float = 0.0) -> list[int]:
    """ToMe's per-layer r: constant for ``inflection`` 0, decreasing over depth for -1 ... up to
    increasing for +1, always averaging ``r``."""
    low = int(r * (1.0 - inflection))
    high = 2 * r - low
    step = (high - low) / (layers - 1) if layers > 1 else 0.0
    return [int(low + step * i) for i in range(layers)]


def merge_down(x: torch.Tensor, final: int, r: int, size: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Repeated size-weighted matchings of ``x`` (N, L, C) on its own features, ``merge_steps``
    apart, down to ``final`` tokens (fewer input tokens stay as they are)."""
    for step in merge_steps(x.shape[1], final, r):
        x, size = merge_weighted(bipartite_soft_matching(x, step), x, size)
    return x, size
