"""Local copies of CLIP weights: what the ``weights@<name>`` stage makes and every stage loads.

An open_clip tag is downloaded once (into ``cache_dir``) and its state dict saved as one file that
DVC tracks; a checkpoint a user brings (a state dict, maybe wrapped in ``state_dict`` or with
``module.`` prefixes) is converted the same way. A sidecar ``<file>.json`` records the backbone
and whether it needs QuickGELU, so a model loading the file builds the right activation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from t2l.fsio import file_digest, save_torch, write_json
from t2l.model.backbone import create_clip


@dataclass(frozen=True)
class WeightsSpec:
    backbone: str  # open_clip model name, e.g. ViT-B-16
    pretrained: str  # open_clip tag (e.g. openai, laion2b_s34b_b88k) or a checkpoint file to convert
    cache_dir: str = ".cache/open_clip"  # where open_clip keeps downloads (outside DVC)
    quick_gelu: bool | None = None  # None: on for OpenAI's weights (tag openai)


def fetch(spec: WeightsSpec, out: Path) -> dict:
    quick = spec.pretrained == "openai" if spec.quick_gelu is None else spec.quick_gelu
    model = create_clip(spec.backbone, spec.pretrained, spec.cache_dir, quick)
    save_torch(out, model.state_dict())
    write_json(Path(out).with_suffix(".json"), {"backbone": spec.backbone, "pretrained": spec.pretrained, "quick_gelu": quick})
    return {"weights": str(out), "sha256": file_digest(out), "backbone": spec.backbone, "quick_gelu": quick}
