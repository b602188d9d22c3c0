"""Score every video of a split against its class texts (no video dropped, any number of ranks)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from t2l.frames.dataset import FrameSource, VideoClipDataset
from t2l.frames.transforms import EvalTransform
from t2l.model.t2l import T2L
from t2l.model.text import ClassPrompts
from t2l.train.distributed import Dist, gather_objects


@dataclass(frozen=True)
class Views:
    """Multi-view testing: temporal clips x spatial crops, scores averaged (1 x 1 = single view)."""

    clips: int = 1
    crops: int = 1


@dataclass
class Scores:
    logits: np.ndarray  # (N, C), averaged over views
    labels: np.ndarray  # (N,)
    embeddings: np.ndarray  # (N, E) unit video embeddings (of the last view)


class _Shard(torch.utils.data.Sampler):
    """Rank r takes items r, r+world, ...: every item exactly once across ranks, none padded."""

    def __init__(self, n: int, d: Dist):
        self.items = list(range(d.rank, n, d.world))

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


@torch.no_grad()
def score(model: T2L, rows, source: FrameSource, prompts: ClassPrompts, crop: int, resize_ratio: float,
          batch_size: int, workers: int, d: Dist = Dist(), views: Views = Views(), frames: int | None = None,
          perturb=None) -> Scores:
    """Logits of every row of ``rows`` (a canonical split frame) against ``prompts``' classes.

    ``frames`` overrides the model's frame count (e.g. 16 for a model trained on 8);
    ``perturb(clip, index)`` corrupts clips on the fly (robustness evaluation).
    """
    model.eval()
    classes = model.class_embeddings(prompts.to(d.device))
    t = frames or model.cfg.frames
    total = None
    for clip_view in range(views.clips):
        for crop_view in range(views.crops):
            transform = EvalTransform(crop, resize_ratio, crop_view, views.crops)
            ds = VideoClipDataset(rows, source, t, transform, view=clip_view, views=views.clips, perturb=perturb)
            loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, sampler=_Shard(len(ds), d),
                                                 num_workers=workers)
            part = {}
            for video, _, index in loader:
                video = video.to(d.device, non_blocking=True)
                with torch.autocast(d.device.type, enabled=d.device.type == "cuda"):
                    embedding = model.pool(model.encode_frames(video)).float()
                logits = model.logits(embedding, classes.float()).cpu().numpy()
                part.update(zip(index.tolist(), zip(logits, embedding.cpu().numpy())))
            merged = {k: v for shard in gather_objects(d, part) for k, v in shard.items()}
            view_logits = np.stack([merged[i][0] for i in range(len(ds))])
            embeddings = np.stack([merged[i][1] for i in range(len(ds))])
            total = view_logits if total is None else total + view_logits
    return Scores(total / (views.clips * views.crops), rows["label"].astype(int).to_numpy(), embeddings)
