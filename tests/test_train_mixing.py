"""Mixup and CutMix (``t2l.train.mixing``): the blend, the box, the soft targets, and every family's
loss taking soft targets (one-hot targets give the loss of class indices)."""

import logging
from dataclasses import replace

import fixtures_prefect  # noqa: F401  (Prefect settings before prefect is imported)
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from t2l.data.protocols.reader import read_runs
from t2l.frames.clip_spec import ClipSpec
from t2l.model.config import variant
from t2l.model.factory import build_model, class_prompts, tokenizer_for
from t2l.params import ParamsError, parse
from t2l.train.loop import TrainConfig, Trainer
from t2l.train.mixing import Mixing, cutmix_box

B, C = 6, 6


def batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, 2, 3, 16, 20, generator=g), torch.arange(B)  # every clip its own class


def replay(seed: int, alpha: float) -> tuple[np.ndarray, float]:
    """The permutation and Beta share a mixing call with ``default_rng(seed)`` draws first."""
    rng = np.random.default_rng(seed)
    return rng.permutation(B), float(rng.beta(alpha, alpha))


def test_mixup_blends_each_clip_with_a_permuted_one_by_the_same_share_as_its_targets():
    video, labels = batch()
    mixed, targets = Mixing(mixup=0.8)(video, labels, C, np.random.default_rng(3))
    order, lam = replay(3, 0.8)
    assert 0 < lam < 1 and not np.array_equal(order, np.arange(B))
    assert torch.allclose(mixed, lam * video + (1 - lam) * video[order])
    expected = lam * F.one_hot(labels, C).float() + (1 - lam) * F.one_hot(labels[order], C).float()
    assert torch.allclose(targets, expected) and torch.allclose(targets.sum(1), torch.ones(B))


def test_cutmix_pastes_one_box_in_every_frame_and_its_targets_share_the_area_left():
    video, labels = batch(1)
    mixed, targets = Mixing(cutmix=1.0)(video, labels, C, np.random.default_rng(5))
    order = np.random.default_rng(5).permutation(B)
    changed = (mixed != video).any(dim=(1, 2))  # (B, H, W): where any frame or channel changed
    moved = [i for i in range(B) if order[i] != i]
    box = changed[moved[0]]
    rows, cols = box.any(1).nonzero().flatten(), box.any(0).nonzero().flatten()
    top, bottom, left, right = rows.min().item(), rows.max().item() + 1, cols.min().item(), cols.max().item() + 1
    assert box[top:bottom, left:right].all() and box.sum() == (bottom - top) * (right - left)  # one solid box ...
    assert all(torch.equal(changed[i], box) for i in moved)  # ... the same for every clip
    assert torch.equal(mixed[..., top:bottom, left:right], video[order][..., top:bottom, left:right])
    lam = 1 - (bottom - top) * (right - left) / (16 * 20)
    assert torch.allclose(targets[moved[0], labels[moved[0]]], torch.tensor(lam))
    assert torch.allclose(targets.sum(1), torch.ones(B)) and ((targets > 0).sum(1) <= 2).all()


def test_a_cutmix_box_has_sides_sqrt_one_minus_lambda_and_stays_in_the_frame():
    rng = np.random.default_rng(0)
    for lam in (0.0, 0.19, 0.75, 0.99):
        for _ in range(50):
            top, bottom, left, right = cutmix_box(40, 60, lam, rng)
            assert 0 <= top <= bottom <= 40 and 0 <= left <= right <= 60
            side = np.sqrt(1 - lam)
            assert bottom - top <= int(40 * side) and right - left <= int(60 * side)
    top, bottom, left, right = cutmix_box(40, 60, 0.75, np.random.default_rng(1))  # centre away from the edges:
    assert (bottom - top, right - left) == (20, 30)  # the full box, a quarter of the frame


def test_with_both_on_a_batch_is_cutmix_at_the_switch_probability():
    video, labels = batch(2)

    def is_cutmix(mixing: Mixing, seed: int) -> bool:
        mixed, _ = mixing(video, labels, C, np.random.default_rng(seed))
        return bool((mixed == video).all(dim=(0, 1, 2)).any())  # some pixel untouched in every clip: a box

    both = [is_cutmix(Mixing(mixup=0.8, cutmix=1.0, switch_prob=0.5), s) for s in range(200)]
    assert 0.35 < np.mean(both) < 0.65
    assert all(is_cutmix(Mixing(cutmix=1.0), s) for s in range(20))
    assert not any(is_cutmix(Mixing(mixup=0.8), s) for s in range(20))
    assert not Mixing().enabled and Mixing(cutmix=1.0).enabled


@pytest.mark.parametrize("field, value", [("mixup", -0.1), ("cutmix", -1), ("mixup_switch_prob", 1.5)])
def test_the_params_parser_checks_the_mixing_options(field, value):
    with pytest.raises(ParamsError, match=f"train.{field}"):
        parse(TrainConfig, {field: value}, "train")
    assert TrainConfig().mixup == TrainConfig().cutmix == 0.0  # off unless a profile turns them on


# -- every family's loss on soft targets ----------------------------------------------------------
NAMES = ["square moving left", "star growing", "heart rotating clockwise"]
TINY = {"t2l": {}, "t2l_kl": {"contrastive": "kl"}, "vifi": {}, "tc_clip": {"tc_clip": {"context_tokens": 24}},
        "alt": {"alt": {"entity_texts": ("star: a star", "square: four sides"), "decoder_blocks": 1}}}


@pytest.mark.parametrize("name", sorted(TINY))
def test_each_familys_loss_takes_soft_targets_and_one_hot_ones_give_the_class_index_loss(name):
    torch.manual_seed(0)
    logging.disable(logging.WARNING)
    try:
        model = build_model(variant(name.removesuffix("_kl"), backbone="t2l-tiny", frames=4, **TINY[name])).eval()
    finally:
        logging.disable(logging.NOTSET)
    video = torch.randn(4, 4, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    labels = torch.tensor([0, 2, 2, 1])  # two clips of one class: the kl loss's same-class positives
    with torch.no_grad():
        features, classes = model(video, class_prompts(model.cfg, NAMES, tokenizer_for(model.cfg)))
        hard, _ = model.objective(features, classes, labels)
        one_hot, _ = model.objective(features, classes, F.one_hot(labels, 3).float())
        mixed, _ = model.objective(features, classes, 0.6 * F.one_hot(labels, 3).float()
                                   + 0.4 * F.one_hot(labels[[1, 0, 3, 2]], 3).float())
    assert torch.allclose(hard, one_hot, atol=1e-6) and torch.isfinite(mixed) and not torch.isclose(mixed, hard)


@pytest.mark.timeout(600)
def test_training_mixes_its_batches_from_pixels(retrained, tmp_path):
    project = retrained.project
    run = replace(read_runs(project / "data/protocols/zero_shot")[0], val=None)
    histories = {}
    for mixup in (0.0, 0.8):
        torch.manual_seed(0)
        model = build_model(variant("t2l", backbone="t2l-tiny", pretrained=str(project / "models/standin/t2l-tiny.pt")))
        cfg = TrainConfig(epochs=1, batch_size=4, workers=0, flip=False, augment=False, mixup=mixup, cutmix=mixup)
        trainer = Trainer(model, cfg, ClipSpec(frames=8, crop=64, short_side=64), run, project / "data/frames", {},
                          tokenizer_for(model.cfg), tmp_path / f"{mixup}/last.pt")
        histories[mixup] = trainer.fit()[2]
        assert (trainer.inputs is None) == (mixup > 0)  # mixing blends pixels: no frozen-stem cache then
    assert np.isfinite(histories[0.8]["loss"]).all() and histories[0.8]["loss"][0] != histories[0.0]["loss"][0]
