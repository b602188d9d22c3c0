"""What a clip looks like to every model: one setting that extraction, training, evaluation and
serving share (params.yaml's ``clip`` section)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClipSpec:
    frames: int = 8  # frames sampled per clip (TSN segments); the models are built for this many
    crop: int = 224  # square crop the model sees
    short_side: int = 256  # frames are resized to this short side before cropping (and stored so by extraction)

    @property
    def resize_ratio(self) -> float:
        return self.short_side / self.crop
