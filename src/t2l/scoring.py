"""Score every video of a split against its class texts (no video dropped, any number of ranks): what
training's validation and every evaluation run, so it sits below both."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from t2l.distributed import Dist, gather_objects
from t2l.frames.dataset import FrameSource, VideoClipDataset
from t2l.frames.transforms import EvalTransform
from t2l.model.text import ClassPrompts


@dataclass(frozen=True)
class ScoreSettings:
    """How clips are read, batched and scored; multi-view testing is ``clips`` temporal clips x
    ``crops`` spatial crops (1 x 1 = the paper's single view), combined by ``view_average``:
    ``logits``, their mean; ``softmax``, the log of the mean softmax (TC-CLIP's and ViFi-CLIP's
    references rank by the summed softmax; with one view it ranks as the logits do)."""

    crop: int = 224
    resize_ratio: float = 256 / 224
    batch_size: int = 64
    workers: int = 2
    clips: int = 1
    crops: int = 1
    frames: int | None = None  # None: the model's own frame count (e.g. 16 for a model trained on 8)
    view_average: str = "logits"  # logits | softmax
    precision: str = "auto"  # the video encoder's autocast (``autocast``)


@dataclass
class Scores:
    logits: np.ndarray  # (N, C): the views' mean logits, or log mean softmax (``ScoreSettings.view_average``)
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


def autocast(precision: str, device: torch.device):
    """The video encoder's autocast: ``auto``, CUDA's default half type on a GPU and none on a CPU;
    ``fp32``, none; ``bf16`` or ``fp16`` on any device."""
    if precision == "fp32" or (precision == "auto" and device.type != "cuda"):
        return nullcontext()
    return torch.autocast(device.type, dtype={"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision))


def combine_views(view_logits: list[np.ndarray], how: str) -> np.ndarray:
    """One (N, C) score matrix from each view's logits: their mean (``logits``), or the log of their
    mean softmax (``softmax``, in float64 so that no probability underflows to 0)."""
    if how == "logits":
        return sum(view_logits[1:], view_logits[0]) / len(view_logits)
    probabilities = []
    for logits in view_logits:
        shifted = np.exp(logits.astype(np.float64) - logits.max(axis=1, keepdims=True))
        probabilities.append(shifted / shifted.sum(axis=1, keepdims=True))
    return np.log(sum(probabilities) / len(probabilities)).astype(np.float32)


def views(rows, source: FrameSource, settings: ScoreSettings, frames: int, perturb=None):
    """One dataset of ``rows``' clips per view (``settings.clips`` x ``settings.crops``)."""
    for clip_view in range(settings.clips):
        for crop_view in range(settings.crops):
            transform = EvalTransform(settings.crop, settings.resize_ratio, crop_view, settings.crops)
            yield VideoClipDataset(rows, source, frames, transform, view=clip_view, views=settings.clips, perturb=perturb)


@torch.no_grad()
def embedded(model, clips: torch.utils.data.Dataset, batch_size: int, workers: int, limit_bytes: int,
             device: torch.device) -> torch.utils.data.TensorDataset | None:
    """``clips`` (items ``(video, label, index)``) as ``(model.embed_frames(video), label, index)``
    held on the CPU: a frozen stem's output computed once for every later pass over the same
    clips (training without augmentation, validation, several models on one split). None where
    the model's stem trains or the tokens would take over ``limit_bytes``."""
    if not getattr(model, "frozen_stem", False) or len(clips) == 0 or limit_bytes <= 0:
        return None
    one = model.embed_frames(clips[0][0][None].to(device))
    if one.numel() * one.element_size() * len(clips) > limit_bytes:
        return None
    tokens = torch.empty((len(clips), *one.shape[1:]), dtype=one.dtype)
    labels = torch.empty(len(clips), dtype=torch.long)
    # its own generator: embedding draws nothing from the global RNG, so a resumed run that embeds
    # at a later epoch stays bit-identical to one that never stopped
    loader = torch.utils.data.DataLoader(clips, batch_size=batch_size, num_workers=workers, generator=torch.Generator())
    for video, label, index in tqdm(loader, desc=f"embed {len(clips)} clips", leave=False):
        tokens[index] = model.embed_frames(video.to(device)).cpu()
        labels[index] = label
    return torch.utils.data.TensorDataset(tokens, labels, torch.arange(len(clips)))


@torch.no_grad()
def score(model: nn.Module, rows, source: FrameSource, prompts: ClassPrompts, settings: ScoreSettings,
          d: Dist = Dist(), perturb=None, clips: torch.utils.data.Dataset | None = None) -> Scores:
    """Logits of every row of ``rows`` (a canonical split frame) against ``prompts``' classes;
    ``perturb`` (a ``t2l.evaluate.perturbations.Perturbation``) corrupts clips on the fly;
    ``clips``: the single view's clips already read (e.g. as ``embed_frames`` tokens)."""
    model.eval()
    classes = model.encode_classes(prompts.to(d.device))
    t = settings.frames or model.cfg.frames
    all_views = [clips] if clips is not None else list(views(rows, source, settings, t, perturb))
    view_logits = []
    for view, ds in enumerate(all_views):
        loader = torch.utils.data.DataLoader(ds, batch_size=settings.batch_size, sampler=_Shard(len(ds), d),
                                             num_workers=settings.workers if clips is None else 0)
        part = {}
        which = f" view {view + 1}/{len(all_views)}" if len(all_views) > 1 else ""
        for video, _, index in tqdm(loader, desc=f"score {len(ds)} clips{which}", disable=not d.main, leave=False):
            video = video.to(d.device, non_blocking=True)
            with autocast(settings.precision, d.device):
                features = model.encode_video(video)
            logits = model.logits(features, classes).float().cpu().numpy()
            part.update(zip(index.tolist(), zip(logits, features.embedding.float().cpu().numpy())))
        merged = {k: v for shard in gather_objects(d, part) for k, v in shard.items()}
        view_logits.append(np.stack([merged[i][0] for i in range(len(ds))]))
        embeddings = np.stack([merged[i][1] for i in range(len(ds))])
    return Scores(combine_views(view_logits, settings.view_average), rows["label"].astype(int).to_numpy(), embeddings)


def top1(s: Scores) -> float:
    return float((s.logits.argmax(1) == s.labels).mean())
