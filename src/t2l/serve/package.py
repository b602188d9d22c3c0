"""Package a trained run directory (weights.pt + model.json) as the T2L pyfunc.

Artifacts: the run's state dict, its model.json with the QuickGELU choice made explicit, the
CLIP weights the config points at — the file itself, or for an open_clip tag (e.g. ``openai``)
the state dict of the downloaded model — so the packaged model loads offline, and the text
evaluation encoded each class with (t2l.serve.evaluation_text), so it answers as evaluated.
"""

from __future__ import annotations

import importlib.metadata
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import mlflow
import torch

from t2l.errors import UserError
from t2l.frames.clip_spec import ClipSpec
from t2l.fsio import read_json, write_json
from t2l.model.backbone import create_clip, needs_quick_gelu
from t2l.model.trained import MODEL
from t2l.model.trained import WEIGHTS as WEIGHTS_FILE
from t2l.serve.artifacts import CLASS_TEXT, CLIP, CONFIG, WEIGHTS
from t2l.serve.signature import signature

CODE = Path(__file__).with_name("model_code.py")
# What the pyfunc imports besides t2l itself (which must be installed where the model is served).
REQUIREMENTS = ("torch", "torchvision", "open_clip_torch", "decord", "numpy", "pandas", "pillow", "pyyaml",
                "ffmpeg-python", "mlflow")


def serving_config(clip: ClipSpec, top_k: int) -> dict:
    """The pyfunc's model_config: the pipeline's clip spec (crop, resize) and the default top-k."""
    return {"crop": clip.crop, "resize_ratio": clip.resize_ratio, "top_k": top_k}


def requirements() -> list[str]:
    return [f"{d}=={importlib.metadata.version(d).split('+')[0]}" for d in REQUIREMENTS]


def _artifacts(run_dir: Path, class_text: dict, tmp: Path) -> dict[str, str]:
    fields = read_json(run_dir / MODEL)
    pretrained = fields.get("pretrained")
    if not pretrained:
        raise UserError(f"{run_dir / MODEL}: the model has randomly initialised CLIP weights; nothing to package")
    quick_gelu = fields.get("quick_gelu")
    quick_gelu = needs_quick_gelu(pretrained, quick_gelu)  # create_clip's rule, made explicit
    clip = Path(pretrained)
    if not clip.is_file():  # an open_clip tag: store the weights it downloads
        clip = tmp / "clip.pt"
        model = create_clip(fields["backbone"], pretrained, fields.get("cache_dir"), quick_gelu)
        torch.save(model.state_dict(), clip)
    write_json(tmp / MODEL, {**fields, "pretrained": None, "cache_dir": None, "quick_gelu": quick_gelu})
    write_json(tmp / "class_text.json", class_text)
    return {WEIGHTS: str(run_dir / WEIGHTS_FILE), CONFIG: str(tmp / MODEL), CLIP: str(clip),
            CLASS_TEXT: str(tmp / "class_text.json")}


# No input example: it would carry a whole video inside the model. The signature is explicit.
NO_EXAMPLE = ".*input example was not provided"


@contextmanager
def _options(run_dir: Path, config: dict, class_text: dict) -> Iterator[dict]:
    """What log_model and save_model need, with the artifacts staged in a temporary directory."""
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", NO_EXAMPLE)
        yield {"python_model": str(CODE), "artifacts": _artifacts(Path(run_dir), class_text, Path(tmp)),
               "model_config": config, "signature": signature(config["top_k"]), "pip_requirements": requirements()}


def log(run_dir: Path, config: dict, class_text: dict, name: str = "model") -> mlflow.models.model.ModelInfo:
    """Log the pyfunc into the active run; ``class_text`` from t2l.serve.evaluation_text."""
    with _options(run_dir, config, class_text) as options:
        return mlflow.pyfunc.log_model(name=name, **options)


def save(run_dir: Path, config: dict, class_text: dict, path: Path) -> Path:
    """Write the pyfunc to the directory ``path`` (which must not exist)."""
    with _options(run_dir, config, class_text) as options:
        mlflow.pyfunc.save_model(path=str(path), **options)
    return path
