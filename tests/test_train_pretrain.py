"""The stand-in CLIP's pretraining on a few rendered frames: image tower first, then the text
tower aligned to it with the image tower locked; the weights file loads as real CLIP weights do."""

from dataclasses import replace

import torch

from t2l.data.synth.world import SynthConfig
from t2l.model.backbone import create_clip
from t2l.train.pretrain import PretrainConfig, run

TINY = PretrainConfig(steps=2, image_steps=3, lock_image=True, batch_size=8, images=64, held_out=16, group_size=4,
                      checkpoint_every=1, workers=1)


def pretrain(tmp_path, cfg: PretrainConfig, name: str) -> dict[str, torch.Tensor]:
    out = tmp_path / name
    metrics = run(cfg, SynthConfig(workers=1), out / "t2l-tiny.pt", out / "metrics.json", out / "last.pt")
    assert metrics["image_steps"] == cfg.image_steps and 0 <= metrics["shape_accuracy"] <= 1
    assert not (out / "last.pt").exists()  # a finished run leaves no checkpoint
    return create_clip("t2l-tiny", str(out / "t2l-tiny.pt")).state_dict()


def test_the_locked_image_tower_is_the_first_phases_and_the_text_tower_learns(tmp_path):
    short, longer = pretrain(tmp_path, TINY, "a"), pretrain(tmp_path, replace(TINY, steps=4), "b")
    visual = [k for k in short if k.startswith("visual.")]
    text = [k for k in short if k.startswith(("transformer.", "token_embedding", "ln_final", "text_projection"))]
    assert visual and text
    assert all(torch.equal(short[k], longer[k]) for k in visual)  # contrastive steps never touched it
    assert any(not torch.equal(short[k], longer[k]) for k in text)
    unlocked = pretrain(tmp_path, replace(TINY, lock_image=False), "c")
    assert any(not torch.equal(short[k], unlocked[k]) for k in visual)
