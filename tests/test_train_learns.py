"""Training learns: a short, seeded run of T2L on the tiny world's source clips brings the loss below
ln(classes) and the accuracy on those clips well above where it started, and a run whose learning
rate is 0 does neither (the check can fail)."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import fixtures_prefect  # noqa: F401  (Prefect settings before prefect is imported)
import pytest
import torch

from t2l.data.protocols.reader import read_runs
from t2l.descriptions.read import load_descriptions
from t2l.frames.clip_spec import ClipSpec
from t2l.frames.dataset import FrameSource
from t2l.model.config import variant
from t2l.model.factory import build_model, tokenizer_for
from t2l.scoring import ScoreSettings, score, top1
from t2l.train.loop import TrainConfig, Trainer

EPOCHS, LR = 20, 1e-2  # 80 optimiser steps of 4 clips: half a minute on a CPU


def fit(project: Path, lr: float, state: Path, epochs: int = EPOCHS) -> tuple[float, float, float, int]:
    """(loss of the last epoch, train-clip top-1 before, after, classes) of T2L trained at ``lr``."""
    run = replace(read_runs(project / "data/protocols/zero_shot")[0], val=None)
    torch.manual_seed(0)
    model = build_model(variant("t2l", backbone="t2l-tiny", pretrained=str(project / "models/standin/t2l-tiny.pt")))
    trainer = Trainer(model, TrainConfig(epochs=epochs, batch_size=4, lr=lr, workers=0, flip=False),
                      ClipSpec(frames=8, crop=64, short_side=64), run, project / "data/frames",
                      load_descriptions(project / "data/descriptions", [run.train.dataset]),
                      tokenizer_for(model.cfg), state)
    rows, source = run.train.rows(), FrameSource("archive", project / "data/frames" / run.train.dataset)
    accuracy = lambda: top1(score(model, rows, source, trainer.prompts, ScoreSettings(64, 1.0, 8, 0)))  # noqa: E731
    before = accuracy()
    _, _, history = trainer.fit()
    return float(history["contrastive"].iloc[-1]), before, accuracy(), len(run.train.class_names())


@pytest.mark.timeout(600)
def test_a_short_run_learns_the_source_clips_and_lr_zero_does_not(retrained, tmp_path):
    loss, before, after, classes = fit(retrained.project, LR, tmp_path / "lr/last.pt")
    assert loss < 0.7 * math.log(classes), (loss, classes)
    assert after >= max(2 * before, 2 / classes), (before, after)
    frozen_loss, frozen_before, frozen_after, _ = fit(retrained.project, 0.0, tmp_path / "lr0/last.pt", epochs=5)
    assert frozen_loss > math.log(classes) and frozen_after == frozen_before  # nothing moved
