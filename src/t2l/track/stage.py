"""The ``track`` stage: log one pipeline execution's outputs to MLflow.

One parent run per execution (or the run named by ``MLFLOW_PARENT_RUN_ID``, which the Prefect
flow opens) holds all of params.yaml flattened, lineage (git commit, dvc.lock and data hashes),
the metrics and class-description files, pretraining metrics and the paper's figures. Nested
under it: ``train/<job>/<run>`` per trained model (curves, per-epoch metrics) and
``<protocol>/<group>/<variant>`` per evaluated model and group (metrics named as in
:mod:`t2l.track.names`, confusion matrices, per-class accuracy). Every nested run carries the
tags ``kind``, ``model`` (the variant) and ``protocol``, and the params ``backbone`` and
``trainable_parameters``. The run ids go to ``out`` for ``t2l register``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import mlflow
import pandas as pd
import torch

from t2l import layout
from t2l.data.protocols.reader import read_runs
from t2l.evaluate.probes import PROBE
from t2l.evaluate.stage import EvaluateConfig
from t2l.frames.dataset import FrameSource
from t2l.frames.transforms import EvalTransform
from t2l.fsio import read_json, write_json
from t2l.jobs import ROBUSTNESS, Job, clip_spec, jobs, model_fields, trained_on
from t2l.model.config import ModelConfig, variant
from t2l.model.factory import build_model
from t2l.model.info import parameter_counts
from t2l.model.trained import HISTORY, MODEL, SUMMARY, load_model
from t2l.params import load, parse
from t2l.track import figures, plots
from t2l.track.lineage import data_hashes, git_state
from t2l.track.names import flat_metrics, flat_params, metric_groups
from t2l.track.store import PARENT_ENV, configure, experiment_id, project_root

FIG3 = {"ttl": "ttl: without TFD", "t2l": "t2l: with TFD"}  # paper Fig. 3 compares these two
FIG4 = ("vanilla", "t2l")  # paper Fig. 4: CLIP's attention vs T2L's


@dataclass(frozen=True)
class FigureConfig:
    videos: int = 6  # target videos in the t-SNE plot (Fig. 3), the first also in Fig. 4; 0 = no figures
    perplexity: float = 10.0
    seed: int = 0


@dataclass(frozen=True)
class TrackConfig:
    experiment: str = "t2l"
    figures: FigureConfig = field(default_factory=FigureConfig)


@dataclass(frozen=True)
class Inputs:
    params: Path
    models: Path
    metrics: Path
    reports: Path
    protocols: Path
    splits: Path
    frames: Path
    descriptions: Path
    lock: Path


class Tracker:
    """Logs what the pipeline wrote under ``inputs`` into the active parent run."""

    def __init__(self, cfg: TrackConfig, inputs: Inputs, experiment: str):
        self.cfg, self.inp, self.experiment = cfg, inputs, experiment
        self.params = load(inputs.params)
        self.jobs = jobs(self.params)
        self.runs: dict[str, str] = {}
        self._counts: dict[str, dict[str, int]] = {}

    # -- models --------------------------------------------------------------------------------
    @cached_property
    def trained(self) -> list[tuple[str, Job, str, Path]]:
        """``(job, spec, run name, run dir)`` of every trained model on disk, in params order."""
        found = []
        for name, job in self.jobs.items():
            base = self.inp.models / job.protocol / name
            for m in sorted(base.rglob(MODEL)) if base.is_dir() else ():
                found.append((name, job, m.parent.relative_to(base).as_posix(), m.parent))
        return found

    def scores(self, evaluation: str) -> str:
        """The protocol whose models ``evaluation`` scored."""
        return trained_on(self.params, evaluation)

    def trained_dir(self, protocol: str, model: str) -> Path | None:
        """The first run directory of ``model`` trained on ``protocol`` (or the protocol it scores)."""
        return next((d for _, job, _, d in self.trained
                     if job.protocol == self.scores(protocol) and job.model == model), None)

    def model_fields(self, protocol: str, model: str) -> dict:
        """The config ``model`` was trained with for ``protocol``, else the untrained preset's.

        Linear-probe rows score the frozen backbone of the first evaluation baseline."""
        if model.startswith(PROBE):
            model = ((self.params.get("evaluate") or {}).get("baselines") or ["vanilla"])[0]
        run_dir = self.trained_dir(protocol, model)
        return read_json(run_dir / MODEL) if run_dir else asdict(variant(model, **model_fields(self.params)))

    def model_params(self, fields: dict) -> dict[str, str]:
        """Config, backbone and parameter counts (counted at random init: no weights needed)."""
        key = json.dumps({**fields, "pretrained": None}, sort_keys=True)
        if key not in self._counts:
            logging.disable(logging.WARNING)  # open_clip warns that it loaded no pretrained weights
            try:
                self._counts[key] = parameter_counts(build_model(parse(ModelConfig, {**fields, "pretrained": None}, "model")))
            finally:
                logging.disable(logging.NOTSET)
        c = self._counts[key]
        return {**flat_params(fields, "model."), "backbone": fields["backbone"],
                "trainable_parameters": str(c["trainable"]), "total_parameters": str(c["total"])}

    @cached_property
    def evaluate_cfg(self) -> EvaluateConfig:
        return parse(EvaluateConfig, self.params.get("evaluate") or {}, "evaluate")

    def evaluation_params(self, fields: dict, dataset: str) -> dict[str, str]:
        """How an evaluation saw its clips and classes: frames, views, crop, class texts, ensembling."""
        ev, clip = self.evaluate_cfg, clip_spec(self.params)
        described = self.inp.descriptions / f"{dataset}.json"
        backend = (self.params.get("describe") or {}).get("backend", "")
        text = (f"descriptions: {described.name} ({backend})" if ev.descriptions and described.is_file()
                else "class names")
        return {"eval.frames": str(ev.frames or fields["frames"]), "eval.views": f"{ev.clips} clips x {ev.crops} crops",
                "eval.crop": str(clip.crop), "eval.text": text, "eval.ensemble_weight": str(fields["ensemble_weight"])}

    # -- nested runs ---------------------------------------------------------------------------
    def nested(self, name: str, tags: dict):
        run = mlflow.start_run(experiment_id=self.experiment, run_name=name, nested=True, tags=tags)
        self.runs[name] = run.info.run_id
        return run

    def log_training(self, job_name: str, job: Job, run_name: str, run_dir: Path) -> None:
        fields, summary = read_json(run_dir / MODEL), read_json(run_dir / SUMMARY)
        history = pd.read_csv(run_dir / HISTORY)
        name = f"train/{job_name}/{run_name}"
        with self.nested(name, {"kind": "train", "model": job.model, "protocol": job.protocol, "job": job_name}):
            mlflow.log_params({**self.model_params(fields), **flat_params(job.train, "train_overrides.")})
            for row in history.to_dict("records"):
                mlflow.log_metrics(flat_metrics({k: v for k, v in row.items() if k != "epoch"}, "train"),
                                   step=int(row["epoch"]))
            mlflow.log_metrics(flat_metrics({"selected_epoch": summary.get("selected_epoch"),
                                             "selected_val_top1": summary.get("val_top1")}, "train"))
            mlflow.log_figure(plots.training_curves(history, name), "curves.png")
            for f in (HISTORY, SUMMARY, MODEL):
                mlflow.log_artifact(str(run_dir / f))

    def log_protocol(self, protocol: str, metrics: dict) -> None:
        protocol_dir = self.inp.protocols / self.scores(protocol)
        refs = [(r.name, e) for r in read_runs(protocol_dir) for e in r.eval] if protocol_dir.is_dir() else []
        notes = {f"notes.{k}": str(v) for k, v in (metrics.get("notes") or {}).items()}
        for model, group, values in metric_groups(protocol, metrics):
            tags = {"kind": "evaluate", "model": model, "protocol": protocol, "group": group, **notes}
            dataset = next((e.dataset for _, e in refs if group in (e.group, e.dataset)), group)
            with self.nested(f"{protocol}/{group}/{model}", tags):
                fields = self.model_fields(protocol, model)
                mlflow.log_params({**self.model_params(fields), **self.evaluation_params(fields, dataset)})
                mlflow.log_metrics(values)
                reports = self.inp.reports / protocol / model
                for run, ref in refs:
                    if group in (ref.group, ref.dataset):
                        self.log_split_report(reports / run / ref.name.replace("/", "_"), run,
                                              f"{protocol}/{model}/{run}/{ref.name}")
                robustness = self.inp.reports / ROBUSTNESS / f"{model}.csv"
                if protocol == ROBUSTNESS and robustness.is_file():
                    mlflow.log_artifact(str(robustness))

    def log_split_report(self, stem: Path, run: str, title: str) -> None:
        """Per-class CSV and confusion-matrix PNG of one evaluated split, under the run's name."""
        per_class, confusion = stem.with_suffix(".per_class.csv"), stem.with_suffix(".confusion.csv")
        if per_class.is_file():
            mlflow.log_artifact(str(per_class), f"per_class/{run}")
        if per_class.is_file() and confusion.is_file():
            classes = pd.read_csv(per_class).sort_values("label")["class_name"].tolist()
            fig = plots.confusion_matrix(pd.read_csv(confusion), classes, title)
            mlflow.log_figure(fig, f"confusion/{run}/{stem.name}.png")

    # -- figures -------------------------------------------------------------------------------
    def log_figures(self) -> list[str]:
        """Fig. 3 and Fig. 4 on the first target split of the zero-shot protocol, when its models exist."""
        dirs = {m: self.trained_dir("zero_shot", m) for m in FIG3}
        protocol_dir = self.inp.protocols / "zero_shot"
        if not self.cfg.figures.videos or not any(dirs.values()) or not protocol_dir.is_dir():
            return []
        ev = self.evaluate_cfg
        ref = read_runs(protocol_dir)[0].eval[0]
        rows = figures.pick_rows(ref.rows(), self.cfg.figures.videos)
        source = FrameSource(ev.decoder, self.inp.frames / ref.dataset)
        clip = clip_spec(self.params)
        transform = EvalTransform(clip.crop, clip.resize_ratio)
        models = {m: load_model(d) for m, d in dirs.items() if d}
        models.setdefault("vanilla", build_model(variant("vanilla", **model_fields(self.params))))
        logged, embeddings = [], {}
        with torch.no_grad():
            for m, model in models.items():
                video = figures.clips(rows, source, transform, model.cfg.frames)
                if m in FIG3:
                    embeddings[FIG3[m]] = model.eval().encode_video(video).frames.numpy()
                if m in FIG4:
                    grid = model.clip.visual.grid_size[0]
                    fig = figures.attention_figure(model.eval().attention_maps(video[:1]), video[0], grid,
                                                   f"{m}: attention over the frames of {rows['path'].iloc[0]}")
                    logged.append(f"figures/fig4_attention_{m}.png")
                    mlflow.log_figure(fig, logged[-1])
        fc = self.cfg.figures
        fig = figures.tsne_figure(embeddings, rows["class_name"].tolist(), fc.perplexity, fc.seed)
        mlflow.log_figure(fig, "figures/fig3_tsne_frames.png")
        return [*logged, "figures/fig3_tsne_frames.png"]

    # -- the parent run ------------------------------------------------------------------------
    def log_parent(self) -> None:
        inp = self.inp
        git = git_state(project_root(inp.params.parent))
        mlflow.set_tags({"kind": "pipeline", "mlflow.source.git.commit": git["commit"], "git.dirty": git["dirty"]})
        mlflow.log_params({**flat_params(self.params), **data_hashes(inp.splits, inp.protocols, inp.lock)})
        standin = inp.params.parent / layout.STANDIN / "metrics.json"
        if self.params.get("standin") and standin.is_file():  # the embedded default's stand-in CLIP
            mlflow.log_metrics(flat_metrics(read_json(standin), "standin"))
        for f in (inp.params, inp.lock):
            if f.is_file():
                mlflow.log_artifact(str(f))
        for directory, name in ((inp.metrics, "metrics"), (inp.descriptions, "descriptions")):
            for f in sorted(directory.glob("*.json")) if directory.is_dir() else ():
                mlflow.log_artifact(str(f), name)


def run(cfg: TrackConfig, inputs: Inputs, out: Path) -> dict:
    """Log everything under one parent run; write ``{experiment_id, parent_run_id, runs}`` to ``out``."""
    client = configure(inputs.params.resolve().parent)
    experiment = experiment_id(client, cfg.experiment)
    parent_id = os.environ.get(PARENT_ENV) or None
    if parent_id:
        experiment = client.get_run(parent_id).info.experiment_id
    tracker = Tracker(cfg, inputs, experiment)
    name = None if parent_id else "pipeline"
    with mlflow.start_run(run_id=parent_id, experiment_id=experiment, run_name=name) as parent:
        tracker.log_parent()
        for job_name, job, run_name, run_dir in tracker.trained:
            tracker.log_training(job_name, job, run_name, run_dir)
        for path in sorted(inputs.metrics.glob("*.json")) if inputs.metrics.is_dir() else ():
            tracker.log_protocol(path.stem, read_json(path))
        logged_figures = tracker.log_figures()
    summary = {"experiment_id": experiment, "parent_run_id": parent.info.run_id, "runs": tracker.runs,
               "figures": logged_figures}
    write_json(out, summary)
    return summary
