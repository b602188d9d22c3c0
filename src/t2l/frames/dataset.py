"""A torch Dataset of sampled, transformed clips read through one of the decoders."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch

from t2l.frames import archive
from t2l.frames.decoders import make_decoder
from t2l.frames.sampling import segment_indices


class FrameSource:
    """Where a split row's frames come from: frame archives (default) or the raw videos."""

    def __init__(self, decoder: str, root: str | Path):
        self.decoder, self.root = make_decoder(decoder), Path(root)

    def file(self, rel: str) -> str:
        return str(archive.archive_path(self.root, rel) if self.decoder.name == "archive" else self.root / rel)

    def read(self, rel: str, choose) -> np.ndarray:
        return self.decoder.read(self.file(rel), choose)


class VideoClipDataset(torch.utils.data.Dataset):
    """Rows of a canonical split -> ``(clip (T, 3, H, W), label, row index)``.

    Training draws random segment offsets from a generator seeded by (seed, epoch, index), so a
    resumed run or any number of loader workers sees the same clips. ``perturb`` (robustness
    evaluation) may change the sampled indices and the decoded frames, seeded per row.
    """

    def __init__(self, split: pd.DataFrame, source: FrameSource, num_frames: int,
                 transform: Callable[[np.ndarray, np.random.Generator | None], torch.Tensor],
                 train: bool = False, seed: int = 0, view: int = 0, views: int = 1, perturb=None):
        self.paths = split["path"].tolist()
        self.labels = split["label"].astype(int).tolist()
        self.source, self.num_frames, self.transform = source, num_frames, transform
        self.train, self.seed, self.view, self.views, self.epoch = train, seed, view, views, 0
        self.perturb = perturb

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.paths)

    def _indices(self, n: int, rng, perturb_rng) -> np.ndarray:
        idx = segment_indices(n, self.num_frames, rng, self.view, self.views)
        return self.perturb.indices(idx, n, perturb_rng) if self.perturb else idx

    def __getitem__(self, i: int):
        rng = np.random.default_rng([self.seed, self.epoch, i]) if self.train else None
        perturb_rng = np.random.default_rng([self.seed, i, 7]) if self.perturb else None
        frames = self.source.read(self.paths[i], lambda n: self._indices(n, rng, perturb_rng))
        if self.perturb:
            frames = self.perturb.frames(frames, perturb_rng)
        return self.transform(frames, rng), self.labels[i], i
