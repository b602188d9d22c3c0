"""What a clip looks like to every model: one setting that extraction, training, evaluation and
serving share (params.yaml's ``clip`` section)."""

from __future__ import annotations

from dataclasses import dataclass

from t2l.params import Count


@dataclass(frozen=True)
class ClipSpec:
    frames: Count = 8  # frames sampled per clip (TSN segments); the models are built for this many
    crop: Count = 224  # square crop the model sees
    short_side: Count = 256  # frames are resized to this short side before cropping (and stored so by extraction)

    @property
    def resize_ratio(self) -> float:
        return self.short_side / self.crop
