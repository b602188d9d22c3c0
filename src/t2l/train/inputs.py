"""What a training run learns from besides its parameters, as digests.

They are part of a checkpoint's identity: a checkpoint written for other inputs (a re-trained
backbone at the same path, re-extracted frames, new split files or class descriptions) is never
resumed, even when every parameter is unchanged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from t2l.data.protocols.reader import Run
from t2l.frames.extract import MANIFEST
from t2l.fsio import file_digest
from t2l.model.text import ClassPrompts


def input_digests(pretrained: str | None, run: Run, frames_root: Path, prompts: list[ClassPrompts]) -> dict[str, str]:
    """sha256 of the local backbone weights, the split files, the frame manifests and the prompts."""
    files = {"train_split": run.train.csv, "train_classes": run.train.classes,
             "train_frames": frames_root / run.train.dataset / MANIFEST}
    if run.val is not None:
        files |= {"val_split": run.val.csv, "val_frames": frames_root / run.val.dataset / MANIFEST}
    if pretrained and Path(pretrained).is_file():  # an open_clip tag is already in the model config
        files["pretrained"] = Path(pretrained)
    digests = {name: file_digest(path) for name, path in files.items() if Path(path).is_file()}
    tokens = hashlib.sha256()
    for p in prompts:
        tokens.update(p.tokens.numpy().tobytes() + p.owner.numpy().tobytes())
    digests["prompts"] = tokens.hexdigest()
    return digests
