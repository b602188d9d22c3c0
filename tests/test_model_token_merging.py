"""Token merging on small hand-checked tensors: which pairs merge, sizes, CLS, weighted means."""

import math

import pytest
import torch

from t2l.model.token_merging import (
    bipartite_soft_matching,
    layer_rates,
    merge_down,
    merge_steps,
    merge_weighted,
    proportional_attention,
    tokens_after,
)

# Six 2-d tokens; A = positions 0, 2, 4 and B = 1, 3, 5. Best links: t0 -> t1 (cos 0.995),
# t2 -> t3 (cos 0.981), t4 -> t5 (cos 0).
SIX = torch.tensor([[[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.2, 1.0], [-1.0, -1.0], [1.0, -1.0]]])


def test_the_r_most_similar_pairs_merge_and_the_rest_stay_in_tome_order():
    m = bipartite_soft_matching(SIX, r=2)
    assert m.merged.tolist() == [[0, 1]] and m.into.tolist() == [[0, 1]]  # t0 -> t1, t2 -> t3
    assert m.kept.tolist() == [[2]]  # t4
    merged, size = merge_weighted(m, SIX)
    assert torch.allclose(merged, torch.tensor([[[-1.0, -1.0], [1.0, 0.05], [0.1, 1.0], [1.0, -1.0]]]))
    assert size[..., 0].tolist() == [[1, 2, 2, 1]]


def test_kept_tokens_are_ordered_by_decreasing_link_similarity():
    m = bipartite_soft_matching(SIX, r=1)
    assert m.merged.tolist() == [[0]] and m.kept.tolist() == [[1, 2]]  # t2 (0.981) before t4 (0)
    out = m(SIX)
    assert torch.equal(out[0, :2], SIX[0, [2, 4]]) and torch.equal(out[0, 3:], SIX[0, [3, 5]])


def test_a_protected_cls_token_never_merges_and_stays_first():
    m = bipartite_soft_matching(SIX, r=1, protect_first=True)
    assert m.merged.tolist() == [[1]] and m.into.tolist() == [[1]]  # t2 -> t3, not t0 -> t1
    merged, size = merge_weighted(m, SIX)
    assert torch.equal(merged[0, 0], SIX[0, 0]) and torch.equal(merged[0, 1], SIX[0, 4])
    assert torch.allclose(merged[0, 3], torch.tensor([0.1, 1.0]))
    assert size[..., 0].tolist() == [[1, 1, 1, 2, 1]]
    assert bipartite_soft_matching(SIX, r=10, protect_first=True).removed == 2  # (6 - 1) // 2


def test_merged_values_are_size_weighted_means_and_sizes_add_up():
    x = torch.tensor([[[1.0, 0.0], [1.0, 0.01], [1.0, 0.02], [0.0, 1.0]]])  # t0 and t2 both join t1
    size = torch.tensor([[[3.0], [1.0], [2.0], [5.0]]])
    m = bipartite_soft_matching(x, r=2)
    assert sorted(m.into[0].tolist()) == [0, 0]
    merged, new_size = merge_weighted(m, x, size)
    assert new_size[..., 0].tolist() == [[6.0, 5.0]]
    assert torch.allclose(merged[0, 0], (3 * x[0, 0] + 1 * x[0, 1] + 2 * x[0, 2]) / 6)
    assert torch.equal(merged[0, 1], x[0, 3])


def test_each_batch_row_is_matched_on_its_own():
    x = torch.cat([SIX, SIX[:, [2, 3, 0, 1, 4, 5]]])
    m = bipartite_soft_matching(x, r=1)
    assert m.merged.tolist() == [[0], [1]]  # row 2 holds t0 at position 2
    assert torch.equal(m(x)[1], bipartite_soft_matching(x[1:], r=1)(x[1:])[0])


def test_no_merge_returns_the_tokens_unchanged():
    assert torch.equal(bipartite_soft_matching(SIX, r=0)(SIX), SIX)
    assert torch.equal(bipartite_soft_matching(SIX[:, :1], r=3)(SIX[:, :1]), SIX[:, :1])


def test_proportional_attention_weighs_a_merged_key_as_the_tokens_it_stands_for():
    q = torch.randn(1, 1, 1, 4, generator=torch.Generator().manual_seed(0))
    a, b = torch.randn(2, 4, generator=torch.Generator().manual_seed(1))
    keys_full = torch.stack([a, b, b])[None, None]
    keys_merged = torch.stack([a, b])[None, None]
    attn_full = torch.softmax(q @ keys_full.transpose(-1, -2), -1) @ keys_full
    bias = proportional_attention(torch.tensor([[[1.0], [2.0]]]))
    assert bias.shape == (1, 1, 1, 2) and bias[0, 0, 0, 1].item() == pytest.approx(math.log(2))
    attn_merged = torch.softmax(q @ keys_merged.transpose(-1, -2) + bias, -1) @ keys_merged
    assert torch.allclose(attn_full, attn_merged, atol=1e-6)


def test_merge_steps_go_by_r_then_finish_exactly_at_the_target():
    assert merge_steps(928, 96, 100) == [100] * 8 + [32]  # ViT-B/16, 16 frames, 58 seeds each
    assert merge_steps(464, 96, 100) == [100, 100, 100, 68]
    assert merge_steps(10, 3, 100) == [5, 2]  # never more than half at once
    assert merge_steps(76, 96, 100) == []
    with pytest.raises(ValueError):
        merge_steps(10, 3, 0)


def test_layer_rates_follow_tome_schedules():
    assert layer_rates(12, 100) == [100] * 12
    assert layer_rates(3, 10, inflection=-1.0) == [20, 10, 0]
    assert layer_rates(3, 10, inflection=1.0) == [0, 10, 20]


def test_merge_down_reaches_the_target_count_and_conserves_total_size():
    x = torch.randn(2, 37, 8, generator=torch.Generator().manual_seed(0))
    merged, size = merge_down(x, final=5, r=6)
    assert merged.shape == (2, 5, 8) and size.sum(dim=1).flatten().tolist() == [37.0, 37.0]
    # size-weighted means conserve the size-weighted sum of the features
    assert torch.allclose((merged * size).sum(1), x.sum(1), atol=1e-4)
    same, none = merge_down(x, final=40, r=6)
    assert same is x and none is None


def test_tokens_after_counts_what_repeated_matchings_leave():
    assert tokens_after(197, 8, 12, protect_first=True) == 101  # ViT-B/16 at 224 px, ALT's r = 8
    assert tokens_after(9, 8, 3, protect_first=True) == 2  # capped: 9 -> 5 -> 3 -> 2
    assert tokens_after(9, 8, 3) == 2 and tokens_after(6, 8, 1) == 3 and tokens_after(197, 0, 12) == 197
    x = torch.randn(1, 9, 4, generator=torch.Generator().manual_seed(0))
    for _ in range(3):
        x = bipartite_soft_matching(x, 8, protect_first=True)(x)
    assert x.shape[1] == 2
