"""The ``train`` stage: one job = one model variant trained on every run of one protocol.

Writes ``<out>/<run>/`` as ``t2l.model.trained`` lays it out (weights, model config, summary,
per-epoch history): the same bytes for the same inputs, wherever and however fast it ran.
Resume state lives in ``<checkpoints>/<run>/last.pt``, outside the DVC output, so a killed
``dvc repro`` resumes where it stopped; the measured throughput per epoch goes beside it
(``timing.csv``).
"""

from __future__ import annotations

from pathlib import Path

import torch

from t2l.data.protocols.reader import Run, read_runs
from t2l.descriptions.read import load_descriptions
from t2l.distributed import Dist
from t2l.errors import UserError
from t2l.frames.clip_spec import ClipSpec
from t2l.fsio import write_csv, write_json
from t2l.jobs import Job
from t2l.model.config import variant
from t2l.model.factory import build_model, tokenizer_for
from t2l.model.trained import HISTORY, SUMMARY, save_model
from t2l.params import parse
from t2l.train.loop import MEASURED, TrainConfig, Trainer

TIMING = "timing.csv"  # measured clips/s per epoch, beside the resume state (not a DVC output)


def job_runs(job: Job, protocols_dir: Path) -> list[Run]:
    runs = read_runs(Path(protocols_dir) / job.protocol)
    if not job.runs:
        return runs
    unknown = sorted(set(job.runs) - {r.name for r in runs})
    if unknown:
        raise UserError(f"jobs: protocol {job.protocol} has no run(s) {unknown}")
    return [r for r in runs if r.name in job.runs]


def run(job: Job, model_fields: dict, train_values: dict, clip: ClipSpec, protocols_dir: Path, frames_dir: Path,
        descriptions_dir: Path, out: Path, checkpoints: Path, d: Dist = Dist()) -> list[dict]:
    cfg = parse(TrainConfig, {**train_values, **job.train}, "train")
    model_cfg = variant(job.model, **model_fields)
    summaries = []
    for protocol_run in job_runs(job, protocols_dir):
        torch.manual_seed(cfg.seed)
        model = build_model(model_cfg)
        if not any(p.requires_grad for p in model.parameters()):
            raise UserError(f"model {job.model!r} has nothing to train; list it under evaluate.baselines instead")
        datasets = [protocol_run.train.dataset] + ([protocol_run.val.dataset] if protocol_run.val else [])
        trainer = Trainer(model, cfg, clip, protocol_run, frames_dir, load_descriptions(descriptions_dir, datasets),
                          tokenizer_for(model_cfg), Path(checkpoints) / protocol_run.name / "last.pt", d)
        summary, weights, history = trainer.fit()
        if d.main:
            target = Path(out) / protocol_run.name
            save_model(target, model_cfg, weights)
            write_json(target / SUMMARY, {**summary, "model": job.model})
            write_csv(target / HISTORY, history.drop(columns=list(MEASURED)))
            write_csv(Path(checkpoints) / protocol_run.name / TIMING, history[["epoch", *MEASURED]])
        summaries.append(summary)
    return summaries
