"""TC-CLIP on open_clip: seeds, context tokens, the local-global bias, prompts, VP, the whole model on t2l-tiny."""

import logging
from dataclasses import asdict

import pytest
import torch
import torch.nn.functional as F

from t2l.errors import UserError
from t2l.model import clip_parts as cp
from t2l.model.backbone import create_clip, tokenizer
from t2l.model.config import ModelConfig, variant
from t2l.model.factory import class_prompts, load_trained
from t2l.model.info import parameter_counts, video_gflops
from t2l.model.tc_clip import TCClip, TCClipOptions
from t2l.model.tc_clip.context import local_global_bias, seed_tokens, seeds_per_frame, summarize
from t2l.model.tc_clip.prompting import VideoPromptLayer
from t2l.model.tc_clip.prompts import class_name_prompts, initial_vectors, with_prompt_slots
from t2l.model.tc_clip.text import embed, encode_state, finish, run_blocks, text_block
from t2l.model.tc_clip.vision import tc_block
from t2l.model.text import ClassPrompts

CFG = ModelConfig(backbone="t2l-tiny", frames=4)
TINY_OPTIONS = TCClipOptions(context_tokens=24)  # 4 frames x 19 seeds = 76 seeds -> 24 context tokens
NAMES = ["square moving left", "star rotating clockwise", "heart growing"]


def tiny_clip(seed: int = 0):
    torch.manual_seed(seed)
    logging.disable(logging.WARNING)
    try:
        return create_clip("t2l-tiny")
    finally:
        logging.disable(logging.NOTSET)


def tiny_model(options: TCClipOptions = TINY_OPTIONS, seed: int = 0) -> TCClip:
    return TCClip(tiny_clip(seed), CFG, options)


def clip_video(batch=2, frames=4, seed=0):
    return torch.randn(batch, frames, 3, 64, 64, generator=torch.Generator().manual_seed(seed))


def prompts() -> ClassPrompts:
    return class_name_prompts(NAMES, tokenizer("t2l-tiny"))


@pytest.fixture(scope="module")
def model():
    return tiny_model().eval()


# -- seeds, context tokens, local-global bias ---------------------------------------------------
def test_seeds_per_frame_round_down_as_the_reference():
    assert seeds_per_frame(196, 0.3) == 58 and seeds_per_frame(64, 0.3) == 19 and seeds_per_frame(4, 0.1) == 1


def test_seed_tokens_are_the_top_cls_attended_patches():
    scores = torch.tensor([[0.1, 0.5, 0.2, 0.9], [0.7, 0.0, 0.3, 0.1]])  # 1 video, 2 frames, 4 patches
    patches = torch.arange(8.0).view(2, 4, 1).expand(2, 4, 3)  # frame 0: 0..3, frame 1: 4..7
    seeds = seed_tokens(scores, patches, count=2, frames=2)
    assert seeds.shape == (1, 4, 3)
    assert seeds[0, :, 0].tolist() == [3.0, 1.0, 4.0, 6.0]  # by decreasing score, frame after frame


def test_context_tokens_are_the_seeds_merged_down_to_k_as_size_weighted_means():
    seeds = torch.tensor([[[1.0, 0.0], [1.0, 0.2], [0.0, 1.0], [0.2, 1.0]]])  # t0 ~ t1, t2 ~ t3
    assert torch.allclose(summarize(seeds, tokens=2, r=100), torch.tensor([[[1.0, 0.1], [0.1, 1.0]]]))
    assert torch.equal(summarize(seeds, tokens=8, r=100), seeds)  # fewer seeds than k: all of them


def test_local_global_bias_puts_one_value_on_frame_keys_and_another_on_context_keys():
    bias = local_global_bias(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), local=3, context=2)
    assert bias.shape == (1, 2, 1, 5)
    assert bias[0, :, 0].tolist() == [[1.0, 1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 3.0, 4.0, 4.0]]


# -- the TC block ----------------------------------------------------------------------------------
def test_the_first_block_is_clips_own_block_on_each_frame(model):
    block = cp.image_blocks(model.clip.visual)[0]
    x = torch.randn(8, 65, 128, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out, context = tc_block(block, x, None, 4, None, model.plan, 100)
        clip_out = block(x)
    assert torch.allclose(out, clip_out, atol=1e-5)
    assert context.shape == (2, 24, 128)


def test_frames_attend_to_their_own_tokens_and_their_videos_context_with_the_bias(model):
    block = cp.image_blocks(model.clip.visual)[1]
    g = torch.Generator().manual_seed(0)
    x, context, table = torch.randn(8, 65, 128, generator=g), torch.randn(2, 24, 128, generator=g), torch.randn(4, 2, generator=g)
    with torch.no_grad():
        out, _ = tc_block(block, x, context, 4, table, None, 0)
        # explicit computation for frame 5 (video 1): keys and values = its tokens + video 1's context
        w, b = cp.qkv_weights(block)
        h = cp.attention_norm(block, torch.cat([x[5], context[1]]))
        q, k, v = (cp.split_heads(z[None], 4)[0] for z in F.linear(h, w, b).chunk(3, dim=-1))
        logits = q[:, :65] @ k.transpose(-1, -2) / 32 ** 0.5
        logits = logits + torch.cat([table[:, :1].expand(4, 65), table[:, 1:].expand(4, 24)], 1)[:, None]
        attended = cp.merge_heads((logits.softmax(-1) @ v)[None])[0]
        expected = cp.feed_forward(block, x[5] + cp.out_projection(block)(attended))
    assert torch.allclose(out[5], expected, atol=1e-5)


def test_seeds_are_chosen_by_the_cls_query_attention_averaged_over_heads(model):
    block = cp.image_blocks(model.clip.visual)[1]
    g = torch.Generator().manual_seed(2)
    x, context, table = torch.randn(4, 65, 128, generator=g), torch.randn(1, 24, 128, generator=g), torch.randn(4, 2, generator=g)
    with torch.no_grad():
        _, new_context = tc_block(block, x, context, 4, table, model.plan, 100)
        w, b = cp.qkv_weights(block)
        q, k, v = (torch.cat([cp.split_heads(F.linear(cp.attention_norm(block, x), w[rows], b[rows]), 4),
                              cp.split_heads(F.linear(cp.attention_norm(block, context), w[rows], b[rows]), 4).expand(4, -1, -1, -1)], 2)
                   for rows in (slice(0, 128), slice(128, 256), slice(256, 384)))
        bias = torch.cat([table[:, :1].expand(4, 65), table[:, 1:].expand(4, 24)], 1)[None, :, None]
        probs = torch.softmax(q[:, :, :65] @ k.transpose(-1, -2) / 32 ** 0.5 + bias, -1)  # over frame and context keys
        scores = probs[:, :, 0, 1:65].mean(1)  # the CLS row over the patches, averaged over heads
        after_attention = x + cp.out_projection(block)(cp.merge_heads(probs @ v))
        expected = cp.feed_forward(block, summarize(seed_tokens(scores, after_attention[:, 1:], 19, 4), 24, 100))
    assert torch.allclose(new_context, expected, atol=1e-5)


def test_a_large_global_bias_makes_frames_attend_to_the_context_alone(model):
    block = cp.image_blocks(model.clip.visual)[2]
    g = torch.Generator().manual_seed(1)
    x, context = torch.randn(4, 65, 128, generator=g), torch.randn(1, 24, 128, generator=g)
    with torch.no_grad():
        biased, _ = tc_block(block, x, context, 4, torch.tensor([[0.0, 60.0]] * 4), None, 0)
        w, b = cp.qkv_weights(block)
        q = cp.split_heads(F.linear(cp.attention_norm(block, x), w[:128], b[:128]), 4)
        k, v = (cp.split_heads(z, 4) for z in F.linear(cp.attention_norm(block, context), w[128:], b[128:]).chunk(2, -1))
        only_context = F.scaled_dot_product_attention(q, k.expand(4, -1, -1, -1), v.expand(4, -1, -1, -1))
        expected = cp.feed_forward(block, x + cp.out_projection(block)(cp.merge_heads(only_context)))
    assert torch.allclose(biased, expected, atol=1e-5)


def test_no_video_of_a_batch_changes_another(model):
    video = clip_video(batch=3)
    other = video.clone()
    other[1] = torch.randn(4, 3, 64, 64)
    with torch.no_grad():
        a, b = model.encode_video(video), model.encode_video(other)
        classes = model.encode_classes(prompts())
        la, lb = model.logits(a, classes), model.logits(b, classes)
    for i in (0, 2):
        assert torch.allclose(a.embedding[i], b.embedding[i], atol=1e-6)
        assert torch.allclose(a.context[i], b.context[i], atol=1e-6)
        assert torch.allclose(la[i], lb[i], atol=1e-5)
    assert not torch.allclose(la[1], lb[1], atol=1e-5)


# -- prompts and video-conditional prompting -------------------------------------------------------
def test_prompt_slots_follow_the_start_token_and_keep_the_end_token():
    tokens = torch.tensor([[9, 5, 6, 99, 0, 0], [9, 5, 6, 7, 8, 99]])
    out, ends = with_prompt_slots(tokens, torch.tensor([3, 5]), words=2, length=6)
    assert out.tolist() == [[9, 9, 9, 5, 6, 99], [9, 9, 9, 5, 6, 99]]  # the second text is cut, its end kept
    assert ends.tolist() == [5, 5]


def test_prompt_vectors_start_from_the_embeddings_of_a_photo_of_a():
    clip = tiny_clip()
    tok = tokenizer("t2l-tiny")
    ids = tok(["a photo of a"])[0, 1:5]
    vectors = initial_vectors(clip, tok, "a photo of a", 6)
    assert torch.equal(vectors[:4], clip.token_embedding.weight[ids])
    assert vectors.shape == (6, 128) and 0.005 < vectors[4:].std() < 0.05  # the extra slots: normal(0, 0.02)
    with pytest.raises(UserError, match="model.tc_clip.ctx_init"):
        initial_vectors(clip, tok, "a photo of a", 3)


def test_class_name_prompts_are_the_reference_class_texts():
    tok = tokenizer("t2l-tiny")
    built = class_name_prompts(["ApplyEyeMakeup", "riding_a_bike"], tok)
    assert torch.equal(built.tokens, tok(["Apply Eye Makeup.", "riding a bike."]))
    assert built.owner.tolist() == [0, 1] and built.num_classes == 2


def test_class_text_reference_gives_tc_clip_the_reference_text_whatever_the_descriptions():
    tok = tokenizer("t2l-tiny")
    descriptions = {name: [f"a video of {name}", f"someone shows {name}"] for name in NAMES}
    reference = variant("tc_clip", backbone="t2l-tiny", tc_clip={"class_text": "reference"})
    assert torch.equal(class_prompts(reference, NAMES, tok, descriptions).tokens, class_name_prompts(NAMES, tok).tokens)
    given = ClassPrompts.from_names(NAMES, tok, descriptions)  # the default: the stage's texts, as for every family
    for cfg in (variant("tc_clip", backbone="t2l-tiny"), variant("t2l", backbone="t2l-tiny", tc_clip={"class_text": "reference"})):
        assert torch.equal(class_prompts(cfg, NAMES, tok, descriptions).tokens, given.tokens)


def test_text_context_is_thirty_positions_or_the_backbones_if_shorter(model):
    assert model.text_length == min(30, cp.context_length(model.clip))
    tokens, ends = model._prompt_tokens(prompts())
    assert tokens.shape == (3, model.text_length)
    assert torch.equal(tokens[:, 1:5], tokens[:, :1].expand(-1, 4))


def test_the_vp_layer_starts_as_a_copy_of_the_last_text_block():
    clip = tiny_clip()
    last = cp.text_blocks(clip)[-1]
    vp = VideoPromptLayer(last, 128, "clip")
    w, b = cp.qkv_weights(last)
    assert torch.equal(torch.cat([vp.q.weight, vp.k.weight, vp.v.weight]), w)
    assert torch.equal(torch.cat([vp.q.bias, vp.k.bias, vp.v.bias]), b)
    assert torch.equal(vp.out.weight, cp.out_projection(last).weight)
    ln_1, ln_2 = cp.norms(last)
    for mine, theirs in ((vp.norm_words, ln_1), (vp.norm_video, ln_1), (vp.norm_mlp, ln_2)):
        assert torch.equal(mine.weight, theirs.weight) and torch.equal(mine.bias, theirs.bias)
    assert torch.equal(vp.mlp[0].weight, cp.mlp(last)[0].weight) and vp.mlp is not cp.mlp(last)


def test_the_vp_layer_is_cross_attention_then_an_ffn_per_video():
    clip = tiny_clip()
    last = cp.text_blocks(clip)[-1]
    vp = VideoPromptLayer(last, 128, "random").eval()
    g = torch.Generator().manual_seed(0)
    words, video = torch.randn(3, 4, 128, generator=g), torch.randn(2, 24, 128, generator=g)
    mha = torch.nn.MultiheadAttention(128, 4, batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([vp.q.weight, vp.k.weight, vp.v.weight]))
        mha.in_proj_bias.copy_(torch.cat([vp.q.bias, vp.k.bias, vp.v.bias]))
        mha.out_proj.load_state_dict(vp.out.state_dict())
        out = vp(words, video)
        for i in range(2):
            context = vp.norm_video(video[i]).expand(3, -1, -1)
            x = words + mha(vp.norm_words(words), context, context, need_weights=False)[0]
            assert torch.allclose(out[i], x + vp.mlp(vp.norm_mlp(x)), atol=1e-5)
    assert out.shape == (2, 3, 4, 128)


def test_vp_init_clip_needs_video_tokens_as_wide_as_the_text():
    with pytest.raises(UserError, match="model.tc_clip.vp_init"):
        VideoPromptLayer(cp.text_blocks(tiny_clip())[-1], 64, "clip")
    assert VideoPromptLayer(cp.text_blocks(tiny_clip())[-1], 64, "random").k.in_features == 64


def test_finishing_only_the_end_token_per_video_equals_the_last_block_on_the_whole_text(model):
    clip = model.clip
    tokens, ends = model._prompt_tokens(prompts())
    *first, last = cp.text_blocks(clip)
    words = torch.randn(2, 3, 4, 128, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        state = encode_state(clip, tokens, ends, model.prompt_vectors, torch.arange(3), 3)
        fast = finish(clip, state, words)
        x = run_blocks(clip, first, embed(clip, tokens, model.prompt_vectors), False)
        mask = cp.causal_mask(clip)[: x.shape[1], : x.shape[1]]
        for b in range(2):
            full = text_block(last, torch.cat([x[:, :1], words[b], x[:, 5:]], 1), mask)
            assert torch.allclose(fast[b], cp.project_text(clip, full[torch.arange(3), ends]), atol=1e-5)


# -- the whole model -------------------------------------------------------------------------------
def test_shapes_unit_embeddings_and_logits_on_t2l_tiny(model):
    with torch.no_grad():
        video = model.encode_video(clip_video())
        classes = model.encode_classes(prompts())
        logits = model.logits(video, classes)
    assert video.embedding.shape == (2, 128) and video.frames.shape == (2, 4, 128) and video.context.shape == (2, 24, 128)
    assert torch.allclose(video.embedding.norm(dim=-1), torch.ones(2))
    assert logits.shape == (2, 3) and logits.dtype == torch.float32


def test_eval_is_deterministic(model):
    video, p = clip_video(), prompts()
    with torch.no_grad():
        first = model.logits(model.encode_video(video), model.encode_classes(p))
        second = model.logits(model.encode_video(video), model.encode_classes(p))
    assert torch.equal(first, second)


def test_reused_class_state_gives_the_logits_of_a_fresh_forward(model):
    video, p = clip_video(), prompts()
    with torch.no_grad():
        classes = model.encode_classes(p)
        reused = [model.logits(model.encode_video(video[i:i + 1]), classes) for i in range(2)]
        fresh = model.logits(*model(video, p))
    assert torch.allclose(torch.cat(reused), fresh, atol=1e-5)


def test_several_prompts_per_class_pool_their_unit_embeddings(model):
    tok = tokenizer("t2l-tiny")
    many = ClassPrompts.build([["square moving left.", "a square moves left."], ["heart growing."]], tok)
    with torch.no_grad():
        video = model.encode_video(clip_video())
        pooled = model.condition(model.encode_classes(many), video)
        single = [model.condition(model.encode_classes(ClassPrompts.build([[t]], tok)), video)[:, 0]
                  for t in ("square moving left.", "a square moves left.")]
    assert torch.allclose(pooled[:, 0], F.normalize(single[0] + single[1], dim=-1), atol=1e-5)


def test_sixteen_and_eight_frame_clips_both_give_k_context_tokens(model):
    with torch.no_grad():
        for frames in (8, 16):
            video = model.encode_video(clip_video(batch=1, frames=frames))
            assert video.frames.shape == (1, frames, 128) and video.context.shape == (1, 24, 128)
            assert torch.isfinite(video.embedding).all()


def test_gradients_reach_clip_and_the_added_modules_but_not_the_token_embedding():
    model = tiny_model().train()
    video, classes = model(clip_video(), prompts())
    loss, parts = model.objective(video, classes, torch.tensor([0, 2]))
    loss.backward()
    assert set(parts) == {"contrastive"}
    grads = {n: p.grad for n, p in model.named_parameters()}
    assert grads["clip.token_embedding.weight"] is None and not model.clip.token_embedding.weight.requires_grad
    missing = [n for n, g in grads.items() if n != "clip.token_embedding.weight" and (g is None or not g.abs().sum() > 0)]
    assert missing == []
    assert model.local_global_bias.grad.abs().sum() > 0 and model.prompt_vectors.grad.abs().sum() > 0


def test_video_prompting_does_not_backpropagate_into_the_vision_tower():
    for stop, reaches in ((True, False), (False, True)):
        model = tiny_model(TCClipOptions(context_tokens=24, image_stop_grad=stop)).train()
        video = model.encode_video(clip_video())
        model.condition(model.encode_classes(prompts()), video).sum().backward()
        vision = cp.mlp(cp.image_blocks(model.clip.visual)[-1])[0].weight.grad
        assert (vision is not None and vision.abs().sum() > 0) == reaches
        assert model.video_prompting.q.weight.grad.abs().sum() > 0


def test_gradient_checkpointing_gives_the_same_gradients():
    grads = []
    for checkpointing in (False, True):
        model = tiny_model().train()
        model.set_grad_checkpointing(checkpointing)
        loss, _ = model.objective(*model(clip_video(), prompts()), torch.tensor([1, 0]))
        loss.backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]))
    assert torch.allclose(grads[0], grads[1], atol=1e-5)


def test_bf16_autocast_runs_and_stays_close_to_float32(model):
    video, p = clip_video(), prompts()
    with torch.no_grad():
        exact = model.logits(*model(video, p))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            mixed = model.logits(*model(video, p))
    assert mixed.dtype == torch.float32 and (mixed - exact).abs().max() < 0.1 * exact.abs().max()


def test_soft_labels_and_label_smoothing_follow_cross_entropy(model):
    with torch.no_grad():
        video, classes = model(clip_video(), prompts())
        logits = model.logits(video, classes)
        hard, _ = model.objective(video, classes, torch.tensor([0, 2]))
        soft, _ = model.objective(video, classes, torch.tensor([[1.0, 0, 0], [0, 0.5, 0.5]]))
    assert torch.isclose(hard, F.cross_entropy(logits, torch.tensor([0, 2]), label_smoothing=0.1))
    assert torch.isclose(soft, F.cross_entropy(logits, torch.tensor([[1.0, 0, 0], [0, 0.5, 0.5]]), label_smoothing=0.1))


def test_without_context_tokens_the_video_is_clips_frame_average_and_vp_reads_the_frames():
    model = tiny_model(TCClipOptions(context_tokens=0)).eval()
    assert model.local_global_bias is None and model.plan is None
    video = clip_video()
    with torch.no_grad():
        features = model.encode_video(video)
        frame_average = F.normalize(model.clip.encode_image(video.flatten(0, 1)).view(2, 4, -1).mean(1), dim=-1)
        logits = model.logits(features, model.encode_classes(prompts()))
    assert torch.allclose(features.embedding, frame_average, atol=1e-5)
    assert torch.equal(features.context, features.frames) and logits.shape == (2, 3)


def test_without_video_prompting_classes_are_shared_unit_embeddings():
    model = tiny_model(TCClipOptions(context_tokens=24, video_prompting=False, n_ctx=0)).eval()
    assert model.video_prompting is None and model.prompt_vectors is None
    with torch.no_grad():
        features, classes = model(clip_video(), prompts())
        plain = F.normalize(model.clip.encode_text(prompts().tokens), dim=-1)  # causal: positions after the end do not count
    assert classes.shape == (3, 128) and torch.allclose(classes, plain, atol=1e-5)
    assert features.context is None and model.logits(features, classes).shape == (2, 3)


def test_lr_scale_is_ten_for_prompt_vectors_and_the_vp_layer_only(model):
    scales = {n: model.lr_scale(n) for n, _ in model.named_parameters()}
    tenfold = sorted(n for n, s in scales.items() if s == 10.0)
    assert tenfold[0] == "prompt_vectors" and all(n.startswith("video_prompting.") for n in tenfold[1:])
    assert scales["local_global_bias"] == 1.0 and scales["clip.logit_scale"] == 1.0
    assert set(scales.values()) == {1.0, 10.0}


def test_weight_space_ensembling_interpolates_clip_and_keeps_the_added_modules(tmp_path):
    torch.save(tiny_clip(seed=0).state_dict(), tmp_path / "clip.pt")
    cfg = variant("tc_clip_wse", backbone="t2l-tiny", frames=4, pretrained=str(tmp_path / "clip.pt"),
                  tc_clip=asdict(TINY_OPTIONS))
    trained = tiny_model(seed=1).trainable_state_dict()
    assert "clip.token_embedding.weight" not in trained
    merged = load_trained(cfg, trained).state_dict()
    zero_shot = tiny_clip(seed=0).state_dict()
    zero_shot = {f"clip.{k}": v for k, v in zero_shot.items()}
    w = "clip.visual.transformer.resblocks.1.attn.in_proj_weight"
    assert torch.allclose(merged[w], 0.3 * zero_shot[w] + 0.7 * trained[w])
    assert torch.allclose(merged["clip.logit_scale"], 0.3 * zero_shot["clip.logit_scale"] + 0.7 * trained["clip.logit_scale"])
    for name in ("prompt_vectors", "local_global_bias", "video_prompting.q.weight"):
        assert torch.equal(merged[name], trained[name])
    with pytest.raises(UserError, match="unexpected keys"):
        load_trained(cfg, {**trained, "clip.nope": torch.zeros(1)})


def test_parameter_counts_and_gflops(model):
    counts = parameter_counts(model)
    vocab = model.clip.token_embedding.weight.numel()
    assert counts["prompt vectors"] == 4 * 128 and counts["local-global bias"] == 3 * 4 * 2
    assert counts["CLIP"] == sum(p.numel() for p in model.clip.parameters()) - vocab
    assert counts["trainable"] == counts["total"] - vocab
    frame_wise = tiny_model(TCClipOptions(context_tokens=0, video_prompting=False, n_ctx=0))
    assert 1.0 < video_gflops(model, 4) / video_gflops(frame_wise, 4) < 1.5


@pytest.mark.parametrize("field, value", [("n_ctx", -1), ("vp_init", "copy"), ("seed_ratio", 0.0), ("tome_r", 0),
                                          ("tome_d", 2.0), ("context_tokens", -1), ("label_smoothing", 1.0),
                                          ("class_text", "names")])
def test_bad_options_are_user_errors_naming_the_field(field, value):
    with pytest.raises(UserError, match=f"model.tc_clip.{field}"):
        TCClipOptions(**{field: value})


def test_a_schedule_that_leaves_a_block_without_merging_is_refused():
    with pytest.raises(UserError, match="model.tc_clip.tome_r"):
        tiny_model(TCClipOptions(context_tokens=24, tome_r=2, tome_d=1.0))


# -- clip_parts additions --------------------------------------------------------------------------
def test_clip_parts_end_positions_and_project_text_are_what_text_pool_reads():
    clip = tiny_clip()
    tokens = prompts().tokens
    x = torch.randn(*tokens.shape, 128)
    ends = cp.end_positions(clip, tokens)
    assert torch.allclose(cp.project_text(clip, x[torch.arange(len(x)), ends]), cp.text_pool(clip, x, tokens))
    assert torch.equal(cp.text_positions(clip, 5), clip.positional_embedding[:5])
    assert cp.output_dim(clip.visual) == 128


def test_clip_parts_attention_norm_and_add_attention_compose_the_blocks_first_half():
    block = cp.text_blocks(tiny_clip())[0]
    x = torch.randn(2, 7, 128)
    with torch.no_grad():
        ours = cp.feed_forward(block, cp.add_attention(block, x, cp.self_attention(block, cp.attention_norm(block, x))))
        assert torch.allclose(ours, block(x), atol=1e-5)
    ln_1, ln_2 = cp.norms(block)
    assert ln_1 is block.ln_1 and ln_2 is block.ln_2 and cp.mlp(block) is block.mlp


def test_clip_parts_queries_and_keys_values_alone_are_the_packed_projections_thirds():
    block = cp.image_blocks(tiny_clip().visual)[0]
    h = torch.randn(2, 5, 128)
    q, k, v = cp.project_qkv(block, h)
    k2, v2 = cp.project_keys_values(block, h)
    assert torch.allclose(cp.project_queries(block, h), q) and torch.allclose(k2, k) and torch.allclose(v2, v)
