"""T2L on open_clip: reference behaviour, variants as config, frame-count agnosticism."""

import numpy as np
import pytest
import torch

from t2l.model.config import ModelConfig, variant
from t2l.model.factory import build_model, load_trained, tokenizer_for
from t2l.model.info import parameter_counts, video_gflops
from t2l.model.losses import symmetric_kl_loss, tfd_loss
from t2l.model.temporal import TemporalTokens
from t2l.model.text import ClassPrompts

TINY = dict(backbone="t2l-tiny", frames=4)


def clip_video(batch=2, frames=4, size=64, seed=0):
    return torch.randn(batch, frames, 3, size, size, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def vit_b16():
    torch.manual_seed(0)
    return build_model(variant("t2l", backbone="ViT-B-16", frames=8))


def test_vit_b16_t8_trains_exactly_5_204_736_parameters(vit_b16):
    counts = parameter_counts(vit_b16)
    assert counts["temporal tokens"] == 12 * 8 * 768 == 73_728
    assert counts["spatial adapters"] == 3_550_464 and counts["text adapters"] == 1_580_544
    assert counts["CLIP"] == 0
    assert counts["trainable"] == 5_204_736


def test_vit_b16_costs_within_5_percent_of_clip_flops(vit_b16):
    vanilla = build_model(variant("vanilla", backbone="ViT-B-16", frames=8))
    ratio = video_gflops(vit_b16, 8) / video_gflops(vanilla, 8)
    assert 1.0 < ratio <= 1.05


def test_temporal_tokens_init_and_dropout():
    tokens = TemporalTokens(12, 8, 768, patch_size=16, dropout=0.1)
    bound = (6 / (3 * 16 * 16 + 768)) ** 0.5
    assert tokens.tokens.shape == (12, 8, 768)
    assert tokens.tokens.abs().max() <= bound and tokens.tokens.abs().max() > 0.9 * bound
    tokens.eval()
    assert torch.equal(tokens(3, 8), tokens.tokens[3])
    tokens.train()
    assert (tokens(3, 8) == 0).float().mean() > 0.05


def test_only_tokens_and_adapters_get_gradients_and_vifi_trains_all_of_clip():
    torch.manual_seed(0)
    for name, clip_trains in (("t2l", False), ("vifi", True)):
        model = build_model(variant(name, **TINY)).train()
        prompts = ClassPrompts.from_names(["a", "b", "c"], tokenizer_for(model.cfg))
        logits = model.logits(model.encode_video(clip_video()), model.encode_classes(prompts))
        (torch.nn.functional.cross_entropy(logits, torch.tensor([0, 2])) + tfd_loss(model.encode_frames(clip_video()))).backward()
        clip_grads = [p.grad is not None and p.grad.abs().sum() > 0 for p in model.clip.parameters()]
        if clip_trains:
            assert all(p.requires_grad for p in model.clip.parameters())
            assert np.mean(clip_grads) > 0.9
        else:
            assert not any(p.requires_grad or p.grad is not None for p in model.clip.parameters())
            others = [p for n, p in model.named_parameters() if not n.startswith("clip.")]
            assert others and all(p.grad is not None for p in others)
            assert model.temporal.tokens.grad.abs().sum() > 0


def test_adapters_at_init_equal_vanilla_frame_average():
    torch.manual_seed(1)
    adapters = build_model(variant("adapters", **TINY)).eval()
    vanilla = build_model(variant("vanilla", **TINY)).eval()
    vanilla.clip.load_state_dict(adapters.clip.state_dict())
    video = clip_video()
    with torch.no_grad():
        frame_average = torch.nn.functional.normalize(
            vanilla.clip.encode_image(video.flatten(0, 1)).view(2, 4, -1).mean(1), dim=-1)
        assert torch.allclose(adapters.encode_video(video).embedding, frame_average, atol=1e-5)
        assert torch.allclose(vanilla.encode_video(video).embedding, frame_average, atol=1e-5)
        tokens = tokenizer_for(adapters.cfg)(["a star moving left", "a heart growing"])
        assert torch.allclose(adapters.encode_text(tokens), vanilla.clip.encode_text(tokens), atol=1e-5)


def test_reversing_a_clip_changes_t2l_but_not_frame_averaging():
    torch.manual_seed(2)
    video = clip_video()
    reversed_video = video.flip(1)
    for name, changes in (("t2l", True), ("adapters", False), ("vanilla", False)):
        model = build_model(variant(name, **TINY)).eval()
        with torch.no_grad():
            a, b = model.encode_video(video).embedding, model.encode_video(reversed_video).embedding
        relative = ((a - b).norm() / a.norm()).item()
        assert (relative > 1e-4) if changes else (relative < 1e-6), (name, relative)



def test_a_frozen_stems_patch_embedding_stands_in_for_the_pixels():
    torch.manual_seed(3)
    video = clip_video(batch=3)
    for name in ("t2l", "adapters", "vanilla"):
        model = build_model(variant(name, **TINY)).eval()
        with torch.no_grad():
            tokens = torch.cat([model.embed_frames(video[:1]), model.embed_frames(video[1:])])  # any batching
            assert model.frozen_stem and tokens.shape == (3, 4, 65, 128)
            assert torch.equal(model.encode_video(tokens).embedding, model.encode_video(video).embedding), name
    assert not build_model(variant("vifi", **TINY)).frozen_stem  # fine-tuned CLIP: its stem changes

def test_tfd_loss_matches_a_hand_computed_value():
    e = torch.tensor([[[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]]])  # B=1, T=3, D=2
    # central differences (replicate padding): t0: (e1-e0)/2=(1,0); t1: (e2-e0)/2=(2,1.5); t2: (e2-e1)/2=(1,1.5)
    c = (1 + 0 + 2 + 1.5 + 1 + 1.5) / 6
    # unbiased variance over T: dim0 values 0,2,4 -> 4; dim1 values 1,1,4 -> 3
    v = (4 + 3) / 2
    assert tfd_loss(e).item() == pytest.approx(1 / (1 + c + v))
    assert tfd_loss(torch.ones(2, 5, 3)).item() == pytest.approx(1.0)  # static video: no diversity


def test_symmetric_kl_is_small_when_videos_match_their_class_texts():
    texts = torch.nn.functional.normalize(torch.eye(4)[[0, 1, 1, 2]], dim=-1)
    labels = torch.tensor([0, 1, 1, 2])
    good = symmetric_kl_loss(texts, texts, labels, torch.tensor(100.0))
    bad = symmetric_kl_loss(texts.roll(1, 0), texts, labels, torch.tensor(100.0))
    assert good.item() < 1e-3 < bad.item()


def test_eight_frame_model_evaluates_on_sixteen_frames():
    torch.manual_seed(3)
    model = build_model(variant("t2l", backbone="t2l-tiny", frames=8)).eval()
    with torch.no_grad():
        out = model.encode_frames(clip_video(batch=1, frames=16))
    assert out.shape == (1, 16, 128) and torch.isfinite(out).all()
    stretched = model.temporal(0, 16)
    assert torch.allclose(stretched[0], model.temporal.tokens[0, 0]) and torch.allclose(stretched[-1], model.temporal.tokens[0, -1])


def test_attention_maps_leave_outputs_unchanged():
    torch.manual_seed(4)
    model = build_model(variant("t2l", **TINY)).eval()
    video = clip_video()
    with torch.no_grad():
        before = model.encode_frames(video)
    maps = model.attention_maps(video)
    with torch.no_grad():
        assert torch.equal(before, model.encode_frames(video))
    assert maps["spatial"].shape == (4, 2, 4, 66)  # layers, B, T, CLS + 64 patches + temporal token
    assert maps["temporal"].shape == (4, 2, 4, 4)
    assert torch.allclose(maps["temporal"].sum(-1), torch.ones(4, 2, 4))


def test_gradient_checkpointing_gives_the_same_loss_and_gradients():
    torch.manual_seed(5)
    model = build_model(variant("t2l", token_dropout=0.0, **TINY)).train()
    video = clip_video()
    grads = []
    for enable in (False, True):
        model.zero_grad()
        model.set_grad_checkpointing(enable)
        tfd_loss(model.encode_frames(video)).backward()
        grads.append(model.temporal.tokens.grad.clone())
    assert torch.allclose(grads[0], grads[1], atol=1e-6)


def test_long_descriptions_are_truncated_not_fatal():
    model = build_model(variant("t2l", backbone="ViT-B-32")).eval()
    long = "a person " + " ".join(["jumps and spins around"] * 60)
    prompts = ClassPrompts.from_names(["jumping"], tokenizer_for(model.cfg), {"jumping": [long, "short text"]})
    assert prompts.tokens.shape == (2, 77)
    with torch.no_grad():
        assert model.encode_classes(prompts).shape == (1, 512)


def test_real_weights_load_by_path_and_trained_weights_restore(tmp_path):
    torch.manual_seed(6)
    source = build_model(variant("vanilla", backbone="ViT-B-16"))
    path = tmp_path / "vit-b-16.pt"
    torch.save(source.clip.state_dict(), path)
    cfg = variant("t2l", backbone="ViT-B-16", pretrained=str(path))
    model = build_model(cfg)
    for k, v in source.clip.state_dict().items():
        assert torch.equal(model.clip.state_dict()[k], v), k
    with torch.no_grad():
        model.temporal.tokens.add_(1.0)
    restored = load_trained(cfg, model.trainable_state_dict())
    assert torch.equal(restored.temporal.tokens, model.temporal.tokens)
    assert torch.equal(restored.clip.visual.proj, source.clip.visual.proj)


def test_vifi_weight_space_ensembling():
    assert variant("vifi", **TINY).ensemble_weight == 1.0  # the fine-tuned weights, ensembled as vifi_wse only
    torch.manual_seed(7)
    cfg = variant("vifi_wse", **TINY)
    base = build_model(cfg)
    finetuned = {k: v + 1.0 for k, v in base.trainable_state_dict().items()}
    torch.manual_seed(7)
    merged = load_trained(cfg, finetuned)  # same seed -> same "pretrained" CLIP
    w = cfg.ensemble_weight
    assert w == 0.5 and torch.allclose(merged.clip.visual.proj, (1 - w) * base.clip.visual.proj + w * (base.clip.visual.proj + 1))


def test_variants_are_configs_of_one_module():
    assert ModelConfig() == variant("t2l")
    assert variant("ttl").tfd_weight == 0 and variant("tfd").temporal_tokens is False
    with pytest.raises(Exception, match="unknown model variant"):
        variant("xclip")
