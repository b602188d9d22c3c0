"""The ``train`` stage: one job = one model variant trained on every run of one protocol.

Writes ``<out>/<run>/weights.pt`` (state dict of the trained parts only), ``model.json`` (the
ModelConfig that rebuilds the model around them), ``train.json`` and ``history.csv`` (training
curve for ``dvc plots``). Resume state lives in ``<checkpoints>/<run>/last.pt``, outside the DVC
output, so a killed ``dvc repro`` resumes where it stopped.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from t2l.data.protocols.reader import Run, read_runs
from t2l.errors import UserError
from t2l.fsio import read_json, save_torch, write_csv, write_json
from t2l.model.config import ModelConfig, variant
from t2l.model.factory import build, load_trained, tokenizer_for
from t2l.params import build as build_config
from t2l.train.distributed import Dist
from t2l.train.loop import TrainConfig, Trainer

WEIGHTS, MODEL, SUMMARY, HISTORY = "weights.pt", "model.json", "train.json", "history.csv"


@dataclass(frozen=True)
class Job:
    protocol: str
    model: str  # variant name (t2l, ttl, tfd, adapters, vifi, ...)
    runs: tuple[str, ...] = ()  # run names of the protocol; empty = every run
    train: dict = field(default_factory=dict)  # overrides of the train section for this job


def load_descriptions(directory: Path, datasets) -> dict[str, dict[str, list[str]]]:
    """``{dataset: {class: [descriptions]}}`` for those datasets that have a descriptions file."""
    found = {}
    for ds in set(datasets):
        path = Path(directory) / f"{ds}.json"
        if path.is_file():
            found[ds] = read_json(path)
    return found


def job_runs(job: Job, protocols_dir: Path) -> list[Run]:
    runs = read_runs(Path(protocols_dir) / job.protocol)
    if not job.runs:
        return runs
    unknown = sorted(set(job.runs) - {r.name for r in runs})
    if unknown:
        raise UserError(f"jobs: protocol {job.protocol} has no run(s) {unknown}")
    return [r for r in runs if r.name in job.runs]


def train_job(job: Job, model_fields: dict, train_values: dict, protocols_dir: Path, frames_dir: Path,
              descriptions_dir: Path, out: Path, checkpoints: Path, d: Dist = Dist()) -> list[dict]:
    cfg = build_config(TrainConfig, {**train_values, **job.train}, "train")
    model_cfg = variant(job.model, **model_fields)
    summaries = []
    for run in job_runs(job, protocols_dir):
        torch.manual_seed(cfg.seed)
        model = build(model_cfg)
        if not any(p.requires_grad for p in model.parameters()):
            raise UserError(f"model {job.model!r} has nothing to train; list it under evaluate.baselines instead")
        descriptions = load_descriptions(descriptions_dir, [run.train.dataset] + ([run.val.dataset] if run.val else []))
        trainer = Trainer(model, cfg, run, frames_dir, descriptions, tokenizer_for(model_cfg),
                          Path(checkpoints) / run.name / "last.pt", d)
        summary, weights, history = trainer.fit()
        if d.main:
            target = Path(out) / run.name
            save_torch(target / WEIGHTS, weights)
            write_json(target / MODEL, asdict(model_cfg))
            write_json(target / SUMMARY, {**summary, "model": job.model})
            write_csv(target / HISTORY, history)
        summaries.append(summary)
    return summaries


def load_model(run_dir: Path):
    """Rebuild a trained model from ``run_dir`` (model.json + weights.pt)."""
    run_dir = Path(run_dir)
    if not (run_dir / MODEL).is_file():
        raise UserError(f"{run_dir}: no trained model here (missing {MODEL}; run `t2l train` first)")
    cfg = ModelConfig(**json.loads((run_dir / MODEL).read_text()))
    return load_trained(cfg, torch.load(run_dir / WEIGHTS, map_location="cpu", weights_only=True))
