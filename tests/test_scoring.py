"""Scoring (``t2l.scoring``), the path validation and evaluation share: every family under bf16
autocast on a CPU, and how the views of a clip combine."""

import logging

import numpy as np
import pandas as pd
import pytest
import torch

from t2l.model.config import variant
from t2l.model.factory import build_model, class_prompts, tokenizer_for
from t2l.scoring import ScoreSettings, combine_views, score

NAMES = ["square moving left", "star growing", "heart rotating clockwise"]
ENTITIES = ("star: a five-pointed star shape", "square: a flat shape with four equal sides",
            "moving left: a shape sliding towards the left edge")
TINY = {"t2l": {}, "vifi": {}, "tc_clip": {"tc_clip": {"context_tokens": 24}},
        "alt": {"alt": {"entity_texts": ENTITIES, "decoder_blocks": 1}}}


def tiny_model(name: str):
    torch.manual_seed(0)
    logging.disable(logging.WARNING)
    try:
        return build_model(variant(name, backbone="t2l-tiny", frames=4, **TINY[name])).eval()
    finally:
        logging.disable(logging.NOTSET)


@pytest.mark.parametrize("name", sorted(TINY))
def test_every_family_scores_under_bf16_autocast_on_a_cpu(name):
    model = tiny_model(name)
    video = torch.randn(3, 4, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    clips = torch.utils.data.TensorDataset(video, torch.tensor([0, 1, 2]), torch.arange(3))
    rows = pd.DataFrame({"label": [0, 1, 2]})
    prompts = class_prompts(model.cfg, NAMES, tokenizer_for(model.cfg))
    exact, mixed = (score(model, rows, None, prompts, ScoreSettings(batch_size=2, workers=0, precision=p), clips=clips)
                    for p in ("fp32", "bf16"))
    assert mixed.logits.dtype == np.float32 and mixed.logits.shape == (3, 3) and np.isfinite(mixed.logits).all()
    assert not np.array_equal(mixed.logits, exact.logits)  # the video encoder did run in bf16 ...
    assert np.abs(mixed.logits - exact.logits).max() < 0.1 * np.abs(exact.logits).max()  # ... and close to fp32


def test_views_combine_as_mean_logits_or_as_the_log_of_the_mean_softmax():
    spike, steady = np.array([[20.0, 0.0, 0.0]], np.float32), np.array([[-5.0, 2.0, 0.0]], np.float32)
    views = [spike, steady, steady]
    assert np.allclose(combine_views(views, "logits"), [[10 / 3, 4 / 3, 0.0]]) and combine_views(views, "logits").argmax() == 0
    probabilities = [np.exp(v) / np.exp(v).sum() for v in views]
    softmax = combine_views(views, "softmax")
    assert np.allclose(softmax, np.log(sum(probabilities) / 3), atol=1e-6) and softmax.argmax() == 1  # consistency wins
    one = combine_views([steady], "softmax")  # one view: log-probabilities, ranked and spread as the logits
    assert np.allclose(one, steady - np.log(np.exp(steady).sum()), atol=1e-6) and np.isclose(one.std(), steady.std())
    assert np.array_equal(combine_views([steady], "logits"), steady) and combine_views([steady], "logits").dtype == np.float32
    tiny = combine_views([np.array([[200.0, 0.0]], np.float32)], "softmax")
    assert np.isfinite(tiny).all()  # exp(-200) does not underflow to log(0)
