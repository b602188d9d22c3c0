"""A trained model's directory: the file names every stage agrees on, and how to write and load one.

``weights.pt`` (state dict of the trained parts only) and ``model.json`` (the ModelConfig that
rebuilds the model around them) make a model; the training stage adds ``train.json`` (its
summary) and ``history.csv`` (the per-epoch curve).
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import torch

from t2l.errors import UserError
from t2l.fsio import save_torch, write_json
from t2l.model.backbone import read_state_dict
from t2l.model.config import ModelConfig
from t2l.model.factory import load_trained
from t2l.params import parse

WEIGHTS, MODEL, SUMMARY, HISTORY = "weights.pt", "model.json", "train.json", "history.csv"


def is_model_dir(path: Path) -> bool:
    return (Path(path) / MODEL).is_file() and (Path(path) / WEIGHTS).is_file()


def save_model(run_dir: Path, cfg: ModelConfig, weights: dict[str, torch.Tensor]) -> None:
    save_torch(Path(run_dir) / WEIGHTS, weights)
    write_json(Path(run_dir) / MODEL, asdict(cfg))


def model_config(run_dir: Path) -> ModelConfig:
    path = Path(run_dir) / MODEL
    if not path.is_file():
        raise UserError(f"{run_dir}: no trained model here (missing {MODEL}; run `t2l train` first)")
    return parse(ModelConfig, json.loads(path.read_text()), str(path))


def load_model(run_dir: Path, ensemble_weight: float | None = None):
    """Rebuild a trained model from ``run_dir`` (model.json + weights.pt); ``ensemble_weight``, if
    given, in place of the config's (a fine-tuned CLIP ensembled with zero-shot CLIP at that w)."""
    cfg = model_config(run_dir)
    if ensemble_weight is not None:
        cfg = replace(cfg, ensemble_weight=ensemble_weight)
    return load_trained(cfg, read_state_dict(Path(run_dir) / WEIGHTS))
