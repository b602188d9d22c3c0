"""The ``track`` stage: log one pipeline execution's outputs to MLflow.

Experiment ``t2l`` (``track.experiment``) holds one parent run per execution (or the run named
by ``MLFLOW_PARENT_RUN_ID``, which the Prefect flow opens): all of params.yaml flattened,
lineage (git commit, dvc.lock and data hashes), the metrics and class-description files,
pretraining metrics, the results figure and the paper's figures; nested under it
``train/<job>/<run>`` per trained model (curves, per-epoch metrics). The evaluations go to one
experiment per protocol, ``t2l/<protocol>``, one flat run per variant and group named
``<protocol> · <variant> · <group>`` and linked to the execution by the tag
``pipeline_run_id``, so a protocol's runs table and the comparison page list its variants side
by side with their metrics (named as in :mod:`t2l.track.names`), confusion matrices and
per-class accuracy. Every run carries the tags ``kind``, ``model`` (the variant) and
``protocol``, and the params ``backbone`` and ``trainable_parameters``. The run ids and the UI
addresses go to ``out``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import mlflow
import pandas as pd

from t2l import layout
from t2l.evaluate.probes import PROBE
from t2l.evaluate.results import metrics_file, read_results
from t2l.evaluate.split_reports import per_class_file
from t2l.evaluate.stage import EvaluateConfig
from t2l.figures.outputs import Outputs
from t2l.fsio import read_json, write_json
from t2l.jobs import ROBUSTNESS, Job, clip_spec, model_fields
from t2l.model.config import ModelConfig, variant
from t2l.model.factory import build_model
from t2l.model.info import parameter_counts
from t2l.model.trained import HISTORY, MODEL, SUMMARY
from t2l.params import load, parse
from t2l.track.lineage import data_hashes, git_state
from t2l.track.links import compare_url, runs_url
from t2l.track.names import flat_metrics, flat_params, for_profile, metric_groups, run_title, split_details
from t2l.track.store import PARENT_ENV, configure, experiment_id, project_root


@dataclass(frozen=True)
class TrackConfig:
    experiment: str = "t2l"  # may name the profile: t2l-{profile}

    def experiment_name(self, params: dict) -> str:
        return for_profile(self.experiment, params, "track.experiment")


@dataclass(frozen=True)
class Inputs:
    params: Path
    models: Path
    metrics: Path
    reports: Path
    protocols: Path
    splits: Path
    figures: Path
    descriptions: Path
    lock: Path


class Tracker:
    """Logs what the pipeline wrote under ``inputs`` into the active parent run."""

    def __init__(self, cfg: TrackConfig, inputs: Inputs, client, experiment: str):
        self.cfg, self.inp, self.client, self.experiment = cfg, inputs, client, experiment
        self.params = load(inputs.params)
        self.outputs = Outputs(self.params, inputs.models, inputs.protocols, inputs.splits)
        self.runs: dict[str, str] = {}
        self.evaluations: dict[str, dict[str, dict[str, str]]] = {}  # protocol -> group -> variant -> run id
        self.experiments: dict[str, str] = {}  # protocol -> its experiment's id
        self._counts: dict[str, dict[str, int]] = {}

    # -- models --------------------------------------------------------------------------------
    def model_fields(self, protocol: str, model: str) -> dict:
        """The config ``model`` was trained with for ``protocol``, else the untrained preset's.

        Linear-probe rows score the frozen backbone of the first evaluation baseline."""
        if model.startswith(PROBE):
            model = ((self.params.get("evaluate") or {}).get("baselines") or ["vanilla"])[0]
        run_dir = self.outputs.trained_dir(protocol, model)
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
        if fields.get("family") == "tc_clip" and (fields.get("tc_clip") or {}).get("class_text") == "reference":
            text = "TC-CLIP's reference text: prompt words, then '{name}.'"
        return {"eval.frames": str(ev.frames or fields["frames"]), "eval.views": ev.views,
                "eval.crop": str(clip.crop), "eval.text": text, "eval.ensemble_weight": str(fields["ensemble_weight"])}

    # -- runs ----------------------------------------------------------------------------------
    def nested(self, name: str, tags: dict):
        run = mlflow.start_run(experiment_id=self.experiment, run_name=name, nested=True, tags=tags)
        self.runs[name] = run.info.run_id
        return run


    def log_training(self, job_name: str, job: Job, run_name: str, run_dir: Path) -> None:
        fields, summary = read_json(run_dir / MODEL), read_json(run_dir / SUMMARY)
        history = pd.read_csv(run_dir / HISTORY)
        name = f"train/{job_name}/{run_name}"
        curves = self.inp.figures / "training" / job_name / run_name / "curves.png"
        with self.nested(name, {"kind": "train", "model": job.model, "protocol": job.protocol, "job": job_name}):
            mlflow.log_params({**self.model_params(fields), **flat_params(job.train, "train_overrides.")})
            for row in history.to_dict("records"):
                mlflow.log_metrics(flat_metrics({k: v for k, v in row.items() if k != "epoch"}, "train"),
                                   step=int(row["epoch"]))
            mlflow.log_metrics(flat_metrics({"selected_epoch": summary.get("selected_epoch"),
                                             "selected_val_top1": summary.get("val_top1")}, "train"))
            if curves.is_file():
                mlflow.log_artifact(str(curves))
            for f in (HISTORY, SUMMARY, MODEL):
                mlflow.log_artifact(str(run_dir / f))

    def log_protocol(self, protocol: str, metrics: dict, parent_id: str) -> None:
        """One flat run per variant and group in the protocol's experiment (no run may be active)."""
        refs = self.outputs.refs(protocol)
        notes = {f"notes.{k}": str(v) for k, v in (metrics.get("notes") or {}).items()}
        experiment = self.experiments[protocol] = experiment_id(self.client, f"{self.cfg.experiment_name(self.params)}/{protocol}")
        for model, group, values in metric_groups(protocol, metrics):
            tags = {"kind": "evaluate", "model": model, "protocol": protocol, "group": group,
                    "pipeline_run_id": parent_id, **notes}
            dataset = self.outputs.dataset_of(protocol, group)
            with mlflow.start_run(experiment_id=experiment, run_name=run_title(protocol, model, group), tags=tags) as run:
                self.evaluations.setdefault(protocol, {}).setdefault(group, {})[model] = run.info.run_id
                fields = self.model_fields(protocol, model)
                mlflow.log_params({**self.model_params(fields), **self.evaluation_params(fields, dataset)})
                summary, details = split_details(values)
                mlflow.log_metrics(summary)
                if details:
                    mlflow.log_dict(details, "details.json")
                reports = self.inp.reports / protocol / model
                for run_name, ref in refs:
                    if group in (ref.group, ref.dataset):
                        self.log_split_report(reports / run_name / ref.name.replace("/", "_"), run_name)
                robustness = self.inp.reports / ROBUSTNESS / f"{model}.csv"
                if protocol == ROBUSTNESS and robustness.is_file():
                    mlflow.log_artifact(str(robustness))

    def links(self) -> dict:
        """The UI's runs table of each protocol's experiment and a comparison page per group."""
        return {"runs": {p: runs_url(e) for p, e in self.experiments.items()},
                "compare": {f"{p} · {g}": compare_url(list(variants.values()), [self.experiments[p]])
                            for p, groups in self.evaluations.items() for g, variants in groups.items()}}

    def log_split_report(self, report: Path, run: str) -> None:
        """Per-class CSV and confusion-matrix figure of one evaluated split, under the run's name."""
        per_class = per_class_file(report)
        figure = self.inp.figures / "confusion" / f"{report.relative_to(self.inp.reports)}.png"
        if per_class.is_file():
            mlflow.log_artifact(str(per_class), f"per_class/{run}")
        if figure.is_file():
            mlflow.log_artifact(str(figure), f"confusion/{run}")

    # -- figures -------------------------------------------------------------------------------
    def log_figures(self) -> list[str]:
        """The figures stage's execution-wide figures onto the parent run, under ``figures/``."""
        found = sorted(self.inp.figures.glob("*.png")) if self.inp.figures.is_dir() else []
        for path in found:
            mlflow.log_artifact(str(path), "figures")
        return [f"figures/{p.name}" for p in found]

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
        for name in read_results(self.params, inp.metrics):
            mlflow.log_artifact(str(metrics_file(inp.metrics, name)), "metrics")
        for dataset in self.params.get("datasets") or {}:  # this profile's datasets' class texts
            for f in sorted(inp.descriptions.glob(f"{dataset}.*json")) if inp.descriptions.is_dir() else ():
                mlflow.log_artifact(str(f), "descriptions")


def run(cfg: TrackConfig, inputs: Inputs, out: Path, logged: Path | None = None) -> dict:
    """Log the execution; write ``{experiment_id, parent_run_id, runs, evaluations, ui}`` to ``out``
    and, to ``logged``, what was logged without the ids (the same for the same inputs)."""
    client = configure(inputs.params.resolve().parent)
    experiment = experiment_id(client, cfg.experiment_name(load(inputs.params)))
    parent_id = os.environ.get(PARENT_ENV) or None
    if parent_id:
        experiment = client.get_run(parent_id).info.experiment_id
    tracker = Tracker(cfg, inputs, client, experiment)
    name = None if parent_id else "pipeline"
    evaluations = read_results(tracker.params, inputs.metrics)
    with mlflow.start_run(run_id=parent_id, experiment_id=experiment, run_name=name) as parent:
        tracker.log_parent()
        for job_name, job, run_name, run_dir in tracker.outputs.trained:
            tracker.log_training(job_name, job, run_name, run_dir)
        logged_figures = tracker.log_figures()
    for protocol, metrics in evaluations.items():
        tracker.log_protocol(protocol, metrics, parent.info.run_id)
    summary = {"experiment_id": experiment, "parent_run_id": parent.info.run_id, "runs": tracker.runs,
               "evaluations": tracker.evaluations, "figures": logged_figures,
               "ui": {"pipeline": runs_url(experiment), **tracker.links()}}
    write_json(out, summary)
    if logged is not None:
        write_json(logged, {"experiment": cfg.experiment_name(tracker.params), "runs": sorted(tracker.runs), "figures": logged_figures,
                            "evaluations": {p: {g: sorted(v) for g, v in groups.items()}
                                            for p, groups in tracker.evaluations.items()}})
    return summary
