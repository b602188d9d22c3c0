"""ALT on open_clip: token merging in the ViT, entity alignment, the video decoder, the whole model on t2l-tiny."""

import logging
import math

import pytest
import torch
import torch.nn.functional as F

from t2l.errors import UserError
from t2l.model import clip_parts as cp
from t2l.model.alt import ALT, ALTOptions
from t2l.model.alt.alignment import QueryMLP, align, cosine_similarity, gumbel_noise, hard_assignment
from t2l.model.alt.decoder import DecoderBlock, VideoDecoder, paper_blocks
from t2l.model.alt.entities import EntityEmbeddings, embed_corpora, load_entity_embeddings, save_entity_embeddings
from t2l.model.alt.vision import encode_regions, merge_tokens, output_tokens, tome_block
from t2l.model.backbone import create_clip, tokenizer
from t2l.model.config import ModelConfig
from t2l.model.info import video_gflops
from t2l.model.text import ClassPrompts
from t2l.model.token_merging import bipartite_soft_matching, merge_weighted
from t2l.train.optim import param_groups

CFG = ModelConfig(backbone="t2l-tiny", frames=4, temporal_tokens=False, spatial_adapters=False, text_adapters=False,
                  tfd_weight=0.0, finetune_clip=True)  # what the alt variants set
ENTITY_TEXTS = ("head: the top part of the human body", "hands: the ends of the arms",
                "star: a five-pointed star shape",
                "square: a flat shape with four equal sides", "moving left: a shape sliding towards the left edge",
                "growing: a shape getting bigger", "grey background: a plain grey textured background")
TINY = ALTOptions(entity_texts=ENTITY_TEXTS, decoder_blocks=2)
NAMES = ["square moving left", "star growing", "heart rotating clockwise"]


def tiny_clip(seed: int = 0):
    torch.manual_seed(seed)
    logging.disable(logging.WARNING)
    try:
        return create_clip("t2l-tiny")
    finally:
        logging.disable(logging.NOTSET)


def tiny_model(options: ALTOptions = TINY, seed: int = 0, cfg: ModelConfig = CFG) -> ALT:
    return ALT(tiny_clip(seed), cfg, options)


def clip_video(batch=2, frames=4, seed=0):
    return torch.randn(batch, frames, 3, 64, 64, generator=torch.Generator().manual_seed(seed))


def prompts() -> ClassPrompts:
    return ClassPrompts.from_names(NAMES, tokenizer("t2l-tiny"))  # the template ensemble, five prompts per class


@pytest.fixture(scope="module")
def model():
    return tiny_model().eval()


# -- region-aware image encoder (Eq. 1-3) ----------------------------------------------------------
# CLS and four patches; head-averaged keys: CLS ~ t1 (would merge first), t2 ~ t3, t4 weakly ~ t3.
KEYS = torch.tensor([[1.0, 0.0], [1.0, 0.01], [0.0, 1.0], [0.1, 1.0], [-1.0, 0.2]])
TOKENS = torch.arange(10.0).view(1, 5, 2)


def two_heads(mean: torch.Tensor) -> torch.Tensor:
    """Keys (1, 2, L, d) of two heads that disagree but average to ``mean``."""
    offset = torch.randn(mean.shape, generator=torch.Generator().manual_seed(0))
    return torch.stack([mean + offset, mean - offset])[None]


def test_a_merge_step_matches_on_head_averaged_keys_and_never_merges_cls():
    x, size = merge_tokens(TOKENS, two_heads(KEYS), None, r=1)
    t = TOKENS[0]
    assert torch.allclose(x[0], torch.stack([t[0], t[4], t[1], (t[2] + t[3]) / 2]))  # t2 joins t3
    assert size[0, :, 0].tolist() == [1, 1, 1, 2]
    x, size = merge_tokens(TOKENS, two_heads(KEYS), None, r=2)
    assert torch.allclose(x[0], torch.stack([t[0], t[1], (t[2] + t[3] + t[4]) / 3]))  # then t4 joins t3 too
    assert size[0, :, 0].tolist() == [1, 1, 3] and torch.equal(x[0, 0], t[0])
    assert merge_tokens(TOKENS, two_heads(KEYS), None, r=10)[0].shape[1] == 3  # at most (5 - 1) // 2 merges
    same, none = merge_tokens(TOKENS, two_heads(KEYS), None, r=0)
    assert same is TOKENS and none is None


def test_merged_tokens_merge_again_weighted_by_their_sizes():
    size = torch.tensor([[[1.0], [1.0], [3.0], [1.0], [1.0]]])
    x, new_size = merge_tokens(TOKENS, two_heads(KEYS), size, r=1)
    assert torch.allclose(x[0, 3], (3 * TOKENS[0, 2] + TOKENS[0, 3]) / 4) and new_size[0, 3, 0] == 4


def test_proportional_attention_makes_a_token_of_size_two_count_as_its_duplicate():
    block = cp.image_blocks(tiny_clip().visual)[1]
    x = torch.randn(1, 5, 128, generator=torch.Generator().manual_seed(1))
    duplicated = torch.cat([x[:, :3], x[:, 2:3], x[:, 3:]], dim=1)
    with torch.no_grad():
        out, size = tome_block(block, x, torch.tensor([[[1.0], [1.0], [2.0], [1.0], [1.0]]]), r=0)
        plain = block(duplicated)  # open_clip's own block on six tokens
    assert torch.allclose(out, plain[:, [0, 1, 2, 4, 5]], atol=1e-5) and size[0, :, 0].tolist() == [1, 1, 2, 1, 1]


def test_a_merging_block_merges_between_attention_and_mlp():
    block = cp.image_blocks(tiny_clip().visual)[0]
    x = torch.randn(2, 65, 128, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        out, size = tome_block(block, x, None, r=8)
        attended = x + block.ls_1(block.attention(block.ln_1(x)))  # E' (Eq. 2), open_clip's attention
        keys = cp.project_qkv(block, block.ln_1(x))[1]
        merged, expected_size = merge_weighted(bipartite_soft_matching(keys.mean(1), 8, protect_first=True), attended)
        expected = merged + block.ls_2(block.mlp(block.ln_2(merged)))  # E = E'' + MLP(LN(E''))
    assert out.shape == (2, 57, 128) and torch.allclose(out, expected, atol=1e-5)
    assert torch.equal(size, expected_size) and size.sum(1).flatten().tolist() == [65, 65] and (size[:, 0] == 1).all()


def test_without_merging_the_encoder_is_clips_image_encoder():
    clip = tiny_clip().eval()
    images = torch.randn(3, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        tokens = encode_regions(clip.visual, images, r=0)
        assert tokens.shape == (3, 65, 128)
        assert torch.allclose(tokens[:, 0], clip.encode_image(images), atol=1e-5)


@pytest.mark.parametrize("checkpointing", [False, True])
def test_merged_tokens_keep_their_sizes_in_every_block_and_every_token_is_projected(checkpointing):
    visual = tiny_clip().visual
    images = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(10))
    with torch.no_grad():
        x, size, unweighted = cp.image_tokens(visual, images), None, cp.image_tokens(visual, images)
        for block in cp.image_blocks(visual):
            x, size = tome_block(block, x, size, r=8)
            unweighted = tome_block(block, unweighted, None, r=8)[0]  # proportional attention never on
        expected = visual.ln_post(x) @ visual.proj  # CLS and region tokens alike (Eq. 3)
    with torch.set_grad_enabled(checkpointing):  # the checkpointed path runs where gradients are on
        tokens = encode_regions(visual, images, r=8, grad_checkpointing=checkpointing)
    assert torch.allclose(tokens, expected, atol=1e-5)
    assert not torch.allclose(tokens, visual.ln_post(unweighted) @ visual.proj, atol=1e-3)  # the sizes matter


def test_each_block_removes_r_tokens_leaving_n_plus_1_minus_l_times_r():
    clip = tiny_clip()
    with torch.no_grad():
        tokens = encode_regions(clip.visual, torch.randn(1, 3, 64, 64), r=8)
    assert tokens.shape[1] == output_tokens(clip.visual, 8) == 65 - 4 * 8
    assert output_tokens(clip.visual, 0) == 65
    assert output_tokens(clip.visual, 16) == 65 - 16 - 16 - 16 - 8  # the last block merges half of its 16 patches


# -- alignment (Eq. 4-6) -----------------------------------------------------------------------------
def test_similarity_is_the_cosine_of_every_token_with_every_entity():
    w = cosine_similarity(torch.tensor([[3.0, 0.0], [0.0, -1.0]]), torch.tensor([[1.0, 0.0], [0.0, 2.0], [-1.0, 1.0]]))
    assert torch.allclose(w, torch.tensor([[1.0, 0.0, -1 / math.sqrt(2)], [0.0, -1.0, -1 / math.sqrt(2)]]))


def test_similarity_normalises_each_token_and_each_entity_over_the_feature_axis():
    tokens = torch.tensor([[[3.0, 0.0, 4.0], [0.0, 1.0, 0.0]]])  # (1 frame, 2 tokens, 3): rows 5, 1; columns 3, 1, 4
    entities = torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 2.0]])  # rows 1, 2.83; columns 1, 2, 2
    expected = torch.tensor([[[0.6, 8 / (5 * math.sqrt(8))], [0.0, 2 / math.sqrt(8)]]])
    assert torch.allclose(cosine_similarity(tokens, entities), expected, atol=1e-6)


def test_the_assignment_is_exactly_one_hot_and_gumbel_noise_can_change_it():
    w = torch.tensor([[0.2, 0.9, -0.1]])
    noise = torch.tensor([[1.0, 0.0, 0.0]])
    assert torch.equal(hard_assignment(w, 1.0), torch.tensor([[0.0, 1.0, 0.0]]))  # nearest entity
    assert torch.equal(hard_assignment(w, 1.0, noise), torch.tensor([[1.0, 0.0, 0.0]]))  # 1.2 > 0.9
    assert torch.equal(hard_assignment(w, 0.25, noise), torch.tensor([[0.0, 1.0, 0.0]]))  # w / tau + g: 1.8 < 3.6


def test_the_straight_through_gradient_is_the_soft_assignments():
    g = torch.Generator().manual_seed(4)
    w, noise, weights = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    hard_w, soft_w = w.clone().requires_grad_(), w.clone().requires_grad_()
    (hard_assignment(hard_w, 0.5, noise) * weights).sum().backward()
    (torch.softmax(soft_w / 0.5 + noise, dim=-1) * weights).sum().backward()
    assert torch.allclose(hard_w.grad, soft_w.grad, atol=1e-7) and hard_w.grad.abs().sum() > 0


def test_gumbel_noise_is_standard_gumbel():
    torch.manual_seed(5)
    g = gumbel_noise(torch.empty(200_000))
    assert abs(g.mean().item() - 0.5772) < 0.01 and abs(g.var().item() - math.pi ** 2 / 6) < 0.03


def test_in_evaluation_each_token_becomes_its_nearest_entity_and_in_training_some_entity():
    g = torch.Generator().manual_seed(6)
    tokens, entities = torch.randn(4, 9, 16, generator=g), F.normalize(torch.randn(5, 16, generator=g), dim=-1)
    nearest = cosine_similarity(tokens, entities).argmax(-1)
    assert torch.equal(align(tokens, entities, 1.0, sample=False), entities[nearest])
    torch.manual_seed(0)
    sampled = align(tokens, entities, 1.0, sample=True)
    assert ((sampled[..., None, :] == entities).all(-1).sum(-1) == 1).all()  # every row is one entity's embedding
    assert not torch.equal(sampled, entities[nearest])


def test_in_training_every_token_draws_its_own_gumbel_noise():
    g = torch.Generator().manual_seed(11)
    entities = F.normalize(torch.randn(6, 16, generator=g), dim=-1)
    tokens = torch.randn(16, generator=g).expand(2, 40, 16)  # 2 frames of 40 identical tokens: only noise differs
    torch.manual_seed(12)
    chosen = (align(tokens, entities, 1.0, sample=True)[..., None, :] == entities).all(-1).float().argmax(-1)  # (2, 40)
    assert len(chosen[0].unique()) > 1 and len(chosen[1].unique()) > 1  # tokens of one frame differ ...
    assert not torch.equal(chosen[0], chosen[1])  # ... and the same position in two frames too


def test_the_query_mlp_reduces_a_frames_n_by_e_matrix_to_one_query():
    mlp = QueryMLP(33, 128)
    assert mlp(torch.randn(8, 33, 128)).shape == (8, 128) and mlp.mlp[0].in_features == 33 * 128


# -- video decoder (Eq. 8-9) -------------------------------------------------------------------------
def test_the_temporal_convolution_adds_each_frames_predecessor():
    block = DecoderBlock(2, 1, 3)
    with torch.no_grad():
        block.conv.weight.zero_()
        block.conv.bias.zero_()
        block.conv.weight[:, :, 0] = torch.eye(2)  # out[t] = x[t - 1], zero before the first frame
        frames = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
        assert torch.equal(block.temporal(frames), torch.tensor([[[1.0, 2.0], [4.0, 6.0], [8.0, 10.0]]]))


def attention(mha, q, kv):
    """nn.MultiheadAttention by hand (packed q/k/v, one scaled-dot-product call)."""
    w, b = mha.in_proj_weight, mha.in_proj_bias
    width = q.shape[-1]
    queries = cp.split_heads(F.linear(q, w[:width], b[:width]), mha.num_heads)
    keys, values = (cp.split_heads(z, mha.num_heads) for z in F.linear(kv, w[width:], b[width:]).chunk(2, -1))
    return mha.out_proj(cp.merge_heads(F.scaled_dot_product_attention(queries, keys, values)))


def test_a_decoder_block_is_self_attention_then_cross_attention_to_the_convolved_frames():
    block = DecoderBlock(16, 2, 3).eval()
    g = torch.Generator().manual_seed(7)
    queries, frames = torch.randn(2, 5, 16, generator=g), torch.randn(2, 5, 16, generator=g)
    with torch.no_grad():
        out = block(queries, frames)
        x = frames + block.conv(frames.transpose(1, 2)).transpose(1, 2)  # X' = X + Conv1D(X)
        q = queries + attention(block.self_attention, block.norm_self(queries), block.norm_self(queries))  # Q' = SA(Q)
        expected = q + attention(block.cross_attention, block.norm_cross(q), block.norm_frames(x))  # CA(Q', X')
    assert torch.allclose(out, expected, atol=1e-5)


def test_every_decoder_block_convolves_the_frames_themselves_and_z_pools_the_mean():
    decoder = VideoDecoder(16, 2, 3, 3).eval()
    g = torch.Generator().manual_seed(13)
    queries, frames = torch.randn(2, 5, 16, generator=g), torch.randn(2, 5, 16, generator=g)
    with torch.no_grad():
        q = queries
        for block in decoder.blocks:
            q = block(q, frames)  # X'_i = X-hat + Conv1D_i(X-hat), not block i-1's X' (Eq. 8)
        assert torch.allclose(decoder(queries, frames), decoder.head(q.mean(dim=1)), atol=1e-6)  # Eq. 9: AvgPool_t


def test_the_decoder_pools_t_queries_into_one_video_embedding():
    decoder = VideoDecoder(128, 2, 3, 3)
    assert decoder(torch.randn(3, 4, 128), torch.randn(3, 4, 128)).shape == (3, 128) and len(decoder.blocks) == 3


def test_reversing_a_clip_changes_z_unlike_frame_averaging():
    decoder = VideoDecoder(32, 2, 2, 3).eval()
    g = torch.Generator().manual_seed(8)
    queries, frames = torch.randn(1, 6, 32, generator=g), torch.randn(1, 6, 32, generator=g)
    with torch.no_grad():
        z, reversed_z = decoder(queries, frames), decoder(queries.flip(1), frames.flip(1))
        assert not torch.allclose(z, reversed_z, atol=1e-3)
        assert torch.allclose(frames.mean(1), frames.flip(1).mean(1))
        for block in decoder.blocks:  # without the convolution, attention and pooling are blind to order
            block.conv.weight.zero_()
        assert torch.allclose(decoder(queries, frames), decoder(queries.flip(1), frames.flip(1)), atol=1e-5)


# -- entities ----------------------------------------------------------------------------------------
def test_entity_texts_are_embedded_by_the_frozen_text_encoder_as_unit_rows(model):
    with torch.no_grad():
        expected = F.normalize(model.clip.encode_text(tokenizer("t2l-tiny")(list(ENTITY_TEXTS))), dim=-1)
    assert model.entity_embeddings.shape == (7, 128) and torch.allclose(model.entity_embeddings, expected, atol=1e-5)


def test_cached_entity_embeddings_round_trip_and_feed_the_model(tmp_path):
    (tmp_path / "corpus.json").write_text('[{"unit": "star", "kind": "object", "description": "a star shape"},'
                                          ' {"unit": "growing", "description": "getting bigger"}]')
    torch.save(tiny_clip().state_dict(), tmp_path / "clip.pt")
    cached = embed_corpora([tmp_path / "corpus.json"], "t2l-tiny", str(tmp_path / "clip.pt"))
    save_entity_embeddings(tmp_path / "entities.pt", cached)
    loaded = load_entity_embeddings(tmp_path / "entities.pt")
    assert loaded.texts[0] == "star: a star shape" and loaded.backbone == "t2l-tiny"
    assert loaded.entities[1] == {"unit": "growing", "kind": "", "description": "getting bigger"}
    assert loaded.texts[1] == "growing: getting bigger" and torch.equal(loaded.embeddings, cached.embeddings)
    from_file = tiny_model(ALTOptions(entities=str(tmp_path / "entities.pt"), decoder_blocks=1))
    from_texts = tiny_model(ALTOptions(entity_texts=tuple(loaded.texts), decoder_blocks=1))
    assert torch.allclose(from_file.entity_embeddings, from_texts.entity_embeddings, atol=1e-6)


def test_entity_embeddings_of_another_backbone_are_refused(tmp_path):
    save_entity_embeddings(tmp_path / "b16.pt", EntityEmbeddings(["a", "b"], torch.randn(2, 512), "ViT-B-16"))
    with pytest.raises(UserError, match="model.alt.entities"):
        tiny_model(ALTOptions(entities=str(tmp_path / "b16.pt")))
    with pytest.raises(UserError, match="no such entity embeddings file"):
        tiny_model(ALTOptions(entities=str(tmp_path / "missing.pt")))


def test_a_model_without_entities_says_which_option_to_set():
    bare = tiny_model(ALTOptions(decoder_blocks=1)).eval()
    assert bare.entity_embeddings.shape == (0, 128)
    with pytest.raises(UserError, match="model.alt.entities"):
        bare.encode_video(clip_video())


def test_trained_weights_carry_their_corpus_whatever_its_size(model):
    other = tiny_model(ALTOptions(entity_texts=ENTITY_TEXTS[:2], decoder_blocks=2)).eval()  # the same frozen CLIP
    video = clip_video()
    with torch.no_grad():
        assert not torch.allclose(other.encode_video(video).embedding, model.encode_video(video).embedding, atol=1e-4)
        other.load_state_dict(model.trainable_state_dict(), strict=False)
        assert torch.equal(other.entity_embeddings, model.entity_embeddings)
        assert torch.allclose(other.encode_video(video).embedding, model.encode_video(video).embedding, atol=1e-6)


def test_set_entities_swaps_the_corpus():
    m = tiny_model().eval()
    video = clip_video()
    with torch.no_grad():
        before = m.encode_video(video).embedding
        m.set_entities(torch.randn(3, 128) * 5)
        after = m.encode_video(video).embedding
    assert torch.allclose(m.entity_embeddings.norm(dim=-1), torch.ones(3)) and not torch.allclose(before, after)
    with pytest.raises(UserError, match=r"\(K, 128\)"):
        m.set_entities(torch.randn(3, 64))


def test_a_zero_shot_target_expands_the_corpus_by_its_class_names_for_a_block_only(model):
    saved = model.entity_embeddings
    video = clip_video()
    with torch.no_grad():
        before = model.encode_video(video).embedding
        with model.expanded_entities(NAMES) as expanded:
            added = F.normalize(model.clip.encode_text(tokenizer("t2l-tiny")(NAMES)), dim=-1)
            assert expanded.entity_embeddings.shape == (7 + 3, 128)
            assert torch.allclose(expanded.entity_embeddings[:7], saved, atol=1e-7)
            assert torch.allclose(expanded.entity_embeddings[7:], added, atol=1e-5)
        assert model.entity_embeddings is saved  # afterwards the trained corpus, exactly
        assert torch.equal(model.encode_video(video).embedding, before)


def test_m_is_four_decoder_blocks_on_vit_b_and_six_on_vit_l():
    assert paper_blocks(12) == 4 and paper_blocks(24) == 6  # ViT-B/16, ViT-L/14 (Sec. 3.4)
    assert len(tiny_model(ALTOptions(entity_texts=ENTITY_TEXTS)).decoder.blocks) == 4  # 0: the backbone's M
    assert len(tiny_model(ALTOptions(entity_texts=ENTITY_TEXTS, decoder_blocks=6)).decoder.blocks) == 6


# -- the whole model -----------------------------------------------------------------------------------
def test_shapes_unit_embeddings_and_logits_on_t2l_tiny(model):
    with torch.no_grad():
        video = model.encode_video(clip_video())
        logits = model.logits(video, model.encode_classes(prompts()))
    assert video.embedding.shape == (2, 128) and video.frames.shape == (2, 4, 128)
    assert torch.allclose(video.embedding.norm(dim=-1), torch.ones(2)) and logits.shape == (2, 3)
    assert logits.dtype == torch.float32 and model.query.tokens == 33


def test_the_decoder_reads_each_frames_cls_embedding():
    m = tiny_model(ALTOptions(r=0, align_regions=False, entity_texts=ENTITY_TEXTS, decoder_blocks=2)).eval()
    video = clip_video()
    with torch.no_grad():
        features = m.encode_video(video)
        cls = m.clip.encode_image(video.flatten(0, 1)).unflatten(0, (2, 4))  # r = 0: CLIP's own image embeddings
        queries = m.frame_queries(encode_regions(m.clip.visual, video.flatten(0, 1), 0), 4)
        z = m.decoder(queries, cls)
    assert torch.allclose(features.frames, cls, atol=1e-5)
    assert torch.allclose(features.embedding, F.normalize(z, dim=-1), atol=1e-5)


def test_eval_is_deterministic_and_training_samples_assignments():
    m = tiny_model()
    video = clip_video()
    with torch.no_grad():
        m.eval()
        assert torch.equal(m.encode_video(video).embedding, m.encode_video(video).embedding)
        m.train()
        assert not torch.equal(m.encode_video(video).embedding, m.encode_video(video).embedding)


def test_reversing_the_frames_of_a_clip_changes_its_embedding(model):
    video = clip_video(batch=1)
    with torch.no_grad():
        assert not torch.allclose(model.encode_video(video).embedding, model.encode_video(video.flip(1)).embedding,
                                  atol=1e-4)


def test_no_video_of_a_batch_changes_another(model):
    video = clip_video(batch=3)
    other = video.clone()
    other[1] = torch.randn(4, 3, 64, 64)
    with torch.no_grad():
        a, b = model.encode_video(video).embedding, model.encode_video(other).embedding
    assert torch.allclose(a[[0, 2]], b[[0, 2]], atol=1e-6) and not torch.allclose(a[1], b[1], atol=1e-4)


def test_classes_are_the_frozen_text_encoders_template_ensemble_and_can_be_reused(model):
    p = prompts()
    video = clip_video()
    with torch.no_grad():
        classes = model.encode_classes(p)
        unit = F.normalize(model.clip.encode_text(p.tokens), dim=-1)
        ensemble = F.normalize(torch.stack([unit[p.owner == c].mean(0) for c in range(3)]), dim=-1)
        reused = torch.cat([model.logits(model.encode_video(video[i:i + 1]), classes) for i in range(2)])
        fresh = model.logits(*model(video, p))
    assert len(p.tokens) == 15 and torch.allclose(classes, ensemble, atol=1e-5)
    assert torch.allclose(reused, fresh, atol=1e-5)
    assert model.encode_classes(prompts()) is classes  # the same prompts again: kept, not recomputed
    one = ClassPrompts.build([["a heart."]], tokenizer("t2l-tiny"))
    assert torch.allclose(model.encode_classes(one), F.normalize(model.clip.encode_text(one.tokens), dim=-1), atol=1e-5)


def test_gradients_reach_the_vit_the_query_mlp_and_the_decoder_only():
    m = tiny_model().train()
    loss, parts = m.objective(*m(clip_video(), prompts()), torch.tensor([0, 2]))
    loss.backward()
    assert set(parts) == {"contrastive"}
    for name, p in m.named_parameters():
        trains = name.startswith(("clip.visual.", "query.", "decoder."))
        assert p.requires_grad == trains, name
        assert (p.grad is not None and p.grad.abs().sum() > 0) == trains, name
    assert "clip.logit_scale" not in m.trainable_state_dict() and "entity_embeddings" in m.trainable_state_dict()


def test_a_frozen_vit_trains_only_the_added_modules():
    m = tiny_model(cfg=ModelConfig(backbone="t2l-tiny", frames=4, temporal_tokens=False, spatial_adapters=False,
                                   text_adapters=False, tfd_weight=0.0)).train()
    m.objective(*m(clip_video(), prompts()), torch.tensor([0, 1]))[0].backward()
    assert all(p.grad is None for p in m.clip.parameters())
    assert not any(k.startswith("clip.") for k in m.trainable_state_dict())


def test_gradient_checkpointing_gives_the_same_gradients():
    grads = []
    for checkpointing in (False, True):
        m = tiny_model().train()
        m.set_grad_checkpointing(checkpointing)
        torch.manual_seed(9)  # the same Gumbel noise
        m.objective(*m(clip_video(batch=1), prompts()), torch.tensor([1]))[0].backward()
        grads.append(torch.cat([p.grad.flatten() for p in m.parameters() if p.grad is not None]))
    assert torch.allclose(grads[0], grads[1], atol=1e-5)


def test_bf16_autocast_runs_and_stays_close_to_float32(model):
    video, p = clip_video(batch=1), prompts()
    with torch.no_grad():
        exact = model.logits(*model(video, p))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            mixed = model.logits(*model(video, p))
    scale = model.logit_scale  # logits are cosines times this: bf16 keeps every cosine within 0.01
    assert mixed.dtype == torch.float32 and (mixed - exact).abs().max() < 0.01 * scale


def test_soft_labels_and_label_smoothing_follow_cross_entropy(model):
    with torch.no_grad():
        video, classes = model(clip_video(), prompts())
        logits = model.logits(video, classes)
        hard, _ = model.objective(video, classes, torch.tensor([0, 2]))
        soft, _ = model.objective(video, classes, torch.tensor([[1.0, 0, 0], [0, 0.5, 0.5]]))
    assert torch.isclose(hard, F.cross_entropy(logits, torch.tensor([0, 2]), label_smoothing=0.1))
    assert torch.isclose(soft, F.cross_entropy(logits, torch.tensor([[1.0, 0, 0], [0, 0.5, 0.5]]), label_smoothing=0.1))
    assert torch.allclose(logits, model.clip.logit_scale.exp() * video.embedding @ classes.T, atol=1e-4)


def test_the_vit_learns_at_a_tenth_of_the_base_rate():
    m = tiny_model(ALTOptions(entity_texts=ENTITY_TEXTS[:2], decoder_blocks=1, decoder_lr_scale=10.0))
    rates = {id(p): g["lr"] for g in param_groups(m, 0.001, 8e-5) for p in g["params"]}
    named = dict(m.named_parameters())
    assert rates[id(named["clip.visual.conv1.0.weight"])] == pytest.approx(8e-6)
    assert rates[id(named["query.mlp.0.weight"])] == pytest.approx(8e-5)
    assert rates[id(named["decoder.blocks.0.conv.weight"])] == pytest.approx(8e-4)  # the few-shot recipe


def test_learned_queries_replace_the_aligned_ones_and_need_no_entities():
    m = tiny_model(ALTOptions(queries="learned", decoder_blocks=1)).train()
    assert m.query is None and m.learned_queries.shape == (4, 128)
    m.objective(*m(clip_video(), prompts()), torch.tensor([0, 1]))[0].backward()
    assert m.learned_queries.grad.abs().sum() > 0
    with pytest.raises(UserError, match="model.alt.queries"):
        m.encode_video(clip_video(frames=6))


def test_token_queries_skip_the_entities_and_cls_only_alignment_reads_one_token():
    tokens_only = tiny_model(ALTOptions(queries="tokens", decoder_blocks=1)).eval()
    cls_only = tiny_model(ALTOptions(entity_texts=ENTITY_TEXTS, align_regions=False, decoder_blocks=1)).eval()
    assert cls_only.query.tokens == 1 and tokens_only.query.tokens == 33
    with torch.no_grad():
        for m in (tokens_only, cls_only):
            assert m.encode_video(clip_video()).embedding.shape == (2, 128)


def test_merging_more_tokens_costs_fewer_flops():
    flops = [video_gflops(tiny_model(ALTOptions(r=r, entity_texts=ENTITY_TEXTS, decoder_blocks=1)), 4)
             for r in (0, 4, 8)]
    assert flops[0] > flops[1] > flops[2] > 0.6 * flops[0]


@pytest.mark.parametrize("field, value", [("r", -1), ("tau", 0.0), ("queries", "random"), ("decoder_blocks", -1),
                                          ("conv_kernel", 2), ("vit_lr_scale", 0.0), ("label_smoothing", 1.0)])
def test_bad_options_name_their_field(field, value):
    with pytest.raises(UserError, match=f"model.alt.{field}"):
        ALTOptions(**{field: value})
    with pytest.raises(UserError, match="model.alt.corpus must be empty when model.alt.entities or entity_texts"):
        ALTOptions(entities="x.pt", entity_texts=("a",))
    with pytest.raises(UserError, match="one source of entities"):
        ALTOptions(entity_texts=("a",), corpus="c.json")
    with pytest.raises(UserError, match="model.alt.head_width"):
        tiny_model(ALTOptions(queries="tokens", head_width=48))
