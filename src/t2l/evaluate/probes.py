"""Linear-probe ceilings of the frozen backbone: what its frame features allow, with and without
frame order, trained on the source train split and scored on the source val split."""

from __future__ import annotations

import numpy as np
import torch

from t2l.data.protocols.reader import Run
from t2l.evaluate.metrics import summary
from t2l.frames.dataset import FrameSource, VideoClipDataset
from t2l.frames.transforms import EvalTransform
from t2l.scoring import ScoreSettings

PROBE = "probe_"  # prefix of the probe rows in zero_shot metrics; they score the first baseline's backbone

EPOCHS, LR, WEIGHT_DECAY = 300, 1e-2, 1e-3


@torch.no_grad()
def frame_features(model, rows, source: FrameSource, settings: ScoreSettings):
    """Per-frame embeddings (N, T, E) of the frozen model, and labels (N,)."""
    model.eval()
    ds = VideoClipDataset(rows, source, model.cfg.frames, EvalTransform(settings.crop, settings.resize_ratio))
    feats, labels = [], []
    for video, label, _ in torch.utils.data.DataLoader(ds, batch_size=settings.batch_size, num_workers=settings.workers):
        feats.append(model.encode_video(video).frames)
        labels.append(label)
    return torch.cat(feats), torch.cat(labels)


def fit_predict(train: torch.Tensor, labels: torch.Tensor, test: torch.Tensor, classes: int) -> np.ndarray:
    """Logits of a linear classifier (standardised inputs, full-batch Adam) fit on ``train``."""
    torch.manual_seed(0)
    mean, std = train.mean(0), train.std(0) + 1e-6
    head = torch.nn.Linear(train.shape[1], classes)
    opt = torch.optim.Adam(head.parameters(), LR, weight_decay=WEIGHT_DECAY)
    x = (train - mean) / std
    for _ in range(EPOCHS):
        loss = torch.nn.functional.cross_entropy(head(x), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return head((test - mean) / std).numpy()


def probe_ceilings(model, run: Run, frames_root, decoder: str, settings: ScoreSettings) -> dict:
    """``probe_frame_average`` and ``probe_concatenated`` scored on the run's source val split."""
    source = FrameSource(decoder, frames_root / run.train.dataset)
    xtr, ytr = frame_features(model, run.train.rows(), source, settings)
    xva, yva = frame_features(model, run.val.rows(), source, settings)
    names = run.val.class_names()
    out = {}
    for name, view in ((f"{PROBE}frame_average", lambda x: x.mean(1)), (f"{PROBE}concatenated", lambda x: x.flatten(1))):
        with torch.enable_grad():
            logits = fit_predict(view(xtr), ytr, view(xva), len(names))
        out[name] = {"source_val": summary(logits, yva.numpy(), names)}
    return out
