"""The ``register`` stage: log the chosen model as a pyfunc, register it, and gate promotion.

Every new model version gets the alias ``challenger``. It becomes ``champion`` only when it beats
the current champion on the gate metrics of ``params.yaml``'s ``register.metrics`` (no metric
worse, at least one better; ``max``: higher is better, ``min``: lower is better), or when there
is no champion yet. The decision and its reason are tags of the version (``promotion``,
``promotion_reason``) and of the pipeline's parent run. Metrics of both models are read from
their own pipeline runs: the nested evaluation runs tagged with the model's variant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from t2l.errors import UserError
from t2l.fsio import file_digest, read_json, write_json
from t2l.jobs import Job, clip_spec
from t2l.layout import DESCRIPTIONS, SPLITS
from t2l.model.trained import MODEL, WEIGHTS
from t2l.params import load, parse
from t2l.serve import package
from t2l.serve.evaluation_text import evaluation_text
from t2l.track.names import for_profile
from t2l.track.store import configure

CHAMPION, CHALLENGER = "champion", "challenger"
MODES = ("max", "min")


@dataclass(frozen=True)
class RegisterConfig:
    job: str = "zs-t2l"  # key of params.yaml's jobs section: the model to register ...
    run: str = "main"  # ... and which of its protocol runs
    name: str = "t2l-{backbone}"  # registered model name, one per backbone (and profile: t2l-{profile}-{backbone})
    metrics: dict[str, str] = field(default_factory=lambda: {"zero_shot/synthetic_target/top1_mean": "max"})
    top_k: int = 5  # default number of classes the served model returns

    def model_name(self, backbone: str, params: dict) -> str:
        return for_profile(self.name, params, "register.name", backbone=backbone)

    def __post_init__(self):
        bad = {m: d for m, d in self.metrics.items() if d not in MODES}
        if not self.metrics or bad:
            raise UserError(f"register.metrics: needs at least one 'metric: max|min'; got {bad or 'none'}")


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str

    @property
    def outcome(self) -> str:
        return "promoted" if self.promote else "rejected"


def decide(challenger: dict[str, float], champion: dict[str, float] | None, gate: dict[str, str],
           champion_name: str = "champion") -> Decision:
    """Promote when no gate metric is worse than the champion's and at least one is better."""
    missing = [m for m in gate if not math.isfinite(challenger.get(m, math.nan))]
    if missing:
        return Decision(False, f"challenger lacks gate metric(s) {', '.join(missing)}")
    if champion is None:
        return Decision(True, "no champion yet")
    better, worse, same = [], [], []
    for metric, mode in gate.items():
        new, old = challenger[metric], champion.get(metric, math.nan)
        text = f"{metric}: {new:.4f} vs {old:.4f} ({champion_name})"
        if not math.isfinite(old) or (new > old if mode == "max" else new < old):
            better.append(text)
        elif new == old:
            same.append(text)
        else:
            worse.append(text)
    if worse:
        return Decision(False, "worse on " + "; ".join(worse))
    if not better:
        return Decision(False, "does not beat the champion: equal on " + "; ".join(same))
    return Decision(True, "better on " + "; ".join(better) + ("; equal on " + "; ".join(same) if same else ""))


def variant_metrics(client: MlflowClient, parent_run_id: str, model: str) -> dict[str, float]:
    """Every metric of the evaluation runs of variant ``model`` that pipeline execution
    ``parent_run_id`` logged: tagged ``pipeline_run_id`` in any experiment, or nested under it
    (how stores written before the per-protocol experiments hold them)."""
    experiments = [e.experiment_id for e in client.search_experiments()]
    variant = f"tags.kind = 'evaluate' and tags.model = '{model}'"
    runs = client.search_runs(experiments, f"tags.pipeline_run_id = '{parent_run_id}' and {variant}")
    runs += client.search_runs([client.get_run(parent_run_id).info.experiment_id],
                               f"tags.`mlflow.parentRunId` = '{parent_run_id}' and {variant}")
    return {k: v for r in runs for k, v in r.data.metrics.items()}


def _champion(client: MlflowClient, name: str):
    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:  # no registered model or no champion alias yet
        return None


def run(cfg: RegisterConfig, params_path: Path, tracked: Path, models: Path, out: Path,
        packaged: Path | None = None, splits: Path = Path(SPLITS), descriptions: Path = Path(DESCRIPTIONS)) -> dict:
    params = load(params_path)
    jobs = params.get("jobs") or {}
    if cfg.job not in jobs:
        raise UserError(f"register.job: params.yaml's jobs has no {cfg.job!r}; jobs: {', '.join(jobs)}")
    job = parse(Job, jobs[cfg.job], f"jobs.{cfg.job}")
    run_dir = models / job.protocol / cfg.job / cfg.run
    if not (run_dir / MODEL).is_file():
        raise UserError(f"{run_dir}: no trained model (register.job / register.run)")
    if not tracked.is_file():
        raise UserError(f"{tracked}: no tracked pipeline run; run `t2l track` first")
    track = read_json(tracked)
    source_run = track["runs"].get(f"train/{cfg.job}/{cfg.run}")
    if source_run is None:
        raise UserError(f"{tracked}: no tracked run train/{cfg.job}/{cfg.run}; run `t2l track` first")
    client = configure(params_path.resolve().parent)
    name = cfg.model_name(read_json(run_dir / MODEL)["backbone"], params)
    parent = track["parent_run_id"]

    with mlflow.start_run(run_id=source_run):
        info = package.log(run_dir, package.serving_config(clip_spec(params), cfg.top_k),
                           evaluation_text(params, splits, descriptions))
    scores = variant_metrics(client, parent, job.model)
    version = mlflow.register_model(info.model_uri, name, tags={
        "model": job.model, "job": cfg.job, "parent_run_id": parent,
        **{f"metric.{m}": str(scores.get(m)) for m in cfg.metrics}})
    client.set_registered_model_alias(name, CHALLENGER, version.version)

    champion = _champion(client, name)
    champion_scores = (variant_metrics(client, champion.tags["parent_run_id"], champion.tags["model"])
                       if champion is not None else None)
    decision = decide(scores, champion_scores, cfg.metrics, f"champion v{champion.version}" if champion else "")
    client.set_model_version_tag(name, version.version, "promotion", decision.outcome)
    client.set_model_version_tag(name, version.version, "promotion_reason", decision.reason)
    if decision.promote:
        client.set_registered_model_alias(name, CHAMPION, version.version)
    client.set_tag(parent, "registry.version", f"{name}/{version.version}")
    client.set_tag(parent, "registry.promotion", decision.outcome)
    client.set_tag(parent, "registry.promotion_reason", decision.reason)
    now_champion = version.version if decision.promote else champion.version if champion else None
    result = {"name": name, "version": int(version.version), "model_uri": f"models:/{name}/{version.version}",
              "promoted": decision.promote, "reason": decision.reason,
              "champion": int(now_champion) if now_champion else None}
    write_json(out, result)
    if packaged is not None:  # what was registered, without the version and the decision
        write_json(packaged, {"name": name, "job": cfg.job, "run": cfg.run,
                              "weights_sha256": file_digest(run_dir / WEIGHTS)})
    return result
