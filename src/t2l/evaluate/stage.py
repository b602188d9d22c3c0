"""The ``evaluate`` stage: score every model of a protocol on every evaluation split.

Models of protocol P are the jobs trained on P plus ``evaluate.baselines`` (untrained variants
such as vanilla CLIP). ``robustness`` re-runs the zero-shot evaluation under perturbations.
Writes ``metrics/<protocol>.json`` and per-class / confusion CSVs under ``reports/<protocol>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from t2l.data.protocols.reader import Run, SplitRef, read_runs
from t2l.errors import UserError
from t2l.evaluate import aggregate
from t2l.evaluate.metrics import confusion, per_class, summary
from t2l.evaluate.perturbations import KINDS, perturbation
from t2l.evaluate.probes import probe_ceilings
from t2l.evaluate.scoring import Scores, Views, score
from t2l.frames.dataset import FrameSource
from t2l.fsio import write_csv, write_json
from t2l.model.config import variant
from t2l.model.factory import build, tokenizer_for
from t2l.model.text import ClassPrompts
from t2l.train.distributed import Dist
from t2l.train.stage import Job, load_descriptions, load_model

ROBUSTNESS = "robustness"


@dataclass(frozen=True)
class RobustnessConfig:
    models: tuple[str, ...] = ("vanilla", "t2l")
    splits: int = 0  # evaluate the first N splits of each target group; 0 = all
    perturbations: dict[str, tuple[int, ...]] = field(
        default_factory=lambda: {name: (1,) if name == "reverse" else (1, 2, 3) for name in KINDS})


@dataclass(frozen=True)
class EvaluateConfig:
    baselines: tuple[str, ...] = ("vanilla",)  # untrained variants evaluated on every protocol
    batch_size: int = 64
    workers: int = 2
    crop: int = 224
    resize_ratio: float = 256 / 224
    decoder: str = "archive"
    frames: int = 0  # 0: each model's own frame count; e.g. 16 evaluates 8-frame models at 16
    clips: int = 1  # multi-view testing: temporal clips x spatial crops (1 x 1 = the paper's single view)
    crops: int = 1
    descriptions: bool = True
    probes: bool = False  # zero-shot: linear-probe ceilings of the frozen backbone on the source val split
    robustness: RobustnessConfig = field(default_factory=RobustnessConfig)


class Evaluator:
    def __init__(self, cfg: EvaluateConfig, model_fields: dict, jobs: dict[str, Job], protocols: Path, models: Path,
                 frames: Path, descriptions: Path, reports: Path, d: Dist = Dist()):
        self.cfg, self.model_fields, self.jobs, self.d = cfg, model_fields, jobs, d
        self.protocols, self.models, self.frames = Path(protocols), Path(models), Path(frames)
        self.descriptions_dir, self.reports = Path(descriptions), Path(reports)

    # -- models ------------------------------------------------------------------------------
    def candidates(self, protocol: str) -> dict[str, callable]:
        """Variant name -> ``load(run)`` for every model evaluated on ``protocol``."""
        found = {}
        for name, job in self.jobs.items():
            if job.protocol == protocol:
                if job.model in found:
                    raise UserError(f"jobs: two jobs train {job.model!r} on {protocol}; metrics are keyed by variant")
                found[job.model] = lambda run, name=name: load_model(self.models / protocol / name / run.name)
        for base in self.cfg.baselines:
            cfg = variant(base, **self.model_fields)
            if any(getattr(cfg, part) for part in ("temporal_tokens", "spatial_adapters", "text_adapters", "finetune_clip")):
                raise UserError(f"evaluate.baselines: {base!r} has trainable parts; train it as a job instead")
            found.setdefault(base, lambda run, cfg=cfg: build(cfg))
        return found

    # -- scoring -------------------------------------------------------------------------------
    def _prompts(self, model, ref: SplitRef) -> ClassPrompts:
        descriptions = load_descriptions(self.descriptions_dir, [ref.dataset]).get(ref.dataset) \
            if self.cfg.descriptions else None
        return ClassPrompts.from_names(ref.class_names(), tokenizer_for(model.cfg), descriptions)

    def score(self, model, ref: SplitRef, perturb=None) -> Scores:
        c = self.cfg
        return score(model, ref.rows(), FrameSource(c.decoder, self.frames / ref.dataset), self._prompts(model, ref),
                     c.crop, c.resize_ratio, c.batch_size, c.workers, self.d, Views(c.clips, c.crops),
                     c.frames or None, perturb)

    def _result(self, model, ref: SplitRef, report: Path | None) -> dict:
        s = self.score(model, ref)
        names = ref.class_names()
        result = summary(s.logits, s.labels, names)
        if "within_pair" in result:  # the embedded world: how much does reversing a clip move it?
            reversed_ = self.score(model, ref, perturbation("reverse", 1))
            change = np.linalg.norm(s.embeddings - reversed_.embeddings, axis=1) / np.linalg.norm(s.embeddings, axis=1)
            result["reversal_change"] = float(change.mean())
        if report is not None and self.d.main:
            write_csv(report.with_suffix(".per_class.csv"), per_class(s.logits, s.labels, names))
            write_csv(report.with_suffix(".confusion.csv"), confusion(s.logits, s.labels, names))
        return result

    # -- protocols -----------------------------------------------------------------------------
    def evaluate(self, protocol: str) -> dict:
        if protocol == ROBUSTNESS:
            return self.robustness()
        if protocol not in aggregate.AGGREGATORS:
            raise UserError(f"unknown protocol {protocol!r}; known: {', '.join([*aggregate.AGGREGATORS, ROBUSTNESS])}")
        runs = read_runs(self.protocols / protocol)
        metrics = {}
        for name, load in self.candidates(protocol).items():
            results = {}
            for run in runs:
                model = load(run).to(self.d.device)
                slug = lambda ref: self.reports / protocol / name / run.name / ref.name.replace("/", "_")  # noqa: E731
                results[run.name] = {e.name: self._result(model, e, slug(e)) for e in run.eval}
                if protocol == "zero_shot" and run.val is not None:
                    results[run.name]["source_val"] = self._result(model, run.val, None)
            metrics[name] = aggregate.AGGREGATORS[protocol](runs, results)
        if protocol == "zero_shot" and self.cfg.probes:
            metrics.update(self.probes(runs))
        return {**metrics, "notes": {"std": aggregate.STD_NOTE, "frames": self.cfg.frames or "model's own",
                                     "views": f"{self.cfg.clips} clip(s) x {self.cfg.crops} crop(s)"}}

    def probes(self, runs: list[Run]) -> dict:
        """Linear probes on the frozen backbone (the first baseline) of each run with a val split."""
        c, base = self.cfg, variant(self.cfg.baselines[0], **self.model_fields)
        found = {}
        for run in (r for r in runs if r.val is not None):
            found.update(probe_ceilings(build(base).to(self.d.device), run, self.frames, c.decoder, c.crop,
                                        c.resize_ratio, c.batch_size, c.workers))
        return found

    def robustness(self) -> dict:
        """Zero-shot top-1 per perturbation and severity, and the relative drop from clean."""
        runs: list[Run] = read_runs(self.protocols / "zero_shot")
        rc = self.cfg.robustness
        candidates = self.candidates("zero_shot")
        missing = sorted(set(rc.models) - set(candidates))
        if missing:
            raise UserError(f"evaluate.robustness.models: no zero-shot model {missing}; have {sorted(candidates)}")
        metrics = {}
        for name in rc.models:
            per_group: dict[str, dict] = {}
            for run in runs:
                model = candidates[name](run).to(self.d.device)
                for e in _first_splits(run.eval, rc.splits):
                    top1 = lambda p=None: float((lambda s: (s.logits.argmax(1) == s.labels).mean())(self.score(model, e, p)))  # noqa: E731
                    g = per_group.setdefault(e.group, {"clean": []})
                    g["clean"].append(top1())
                    for pert, severities in rc.perturbations.items():
                        for sev in severities:
                            g.setdefault((pert, sev), []).append(top1(perturbation(pert, sev)))
            metrics[name] = {group: _robustness_summary(g) for group, g in per_group.items()}
            if self.d.main:
                write_csv(self.reports / ROBUSTNESS / f"{name}.csv", _robustness_table(metrics[name]))
        return metrics


def _first_splits(refs, n: int) -> list:
    """The first ``n`` splits of each group (all when ``n`` is 0), in protocol order."""
    seen: dict[str, int] = {}
    kept = []
    for e in refs:
        seen[e.group] = seen.get(e.group, 0) + 1
        if not n or seen[e.group] <= n:
            kept.append(e)
    return kept


def _robustness_table(summary: dict) -> pd.DataFrame:
    """One row per group, perturbation and severity (severity 0: clean), for ``dvc plots``."""
    rows = []
    for group, g in summary.items():
        rows.append({"group": group, "perturbation": "clean", "severity": 0, "top1": g["clean_top1"], "relative_drop": 0.0})
        for pert, levels in g.items():
            if pert != "clean_top1":
                rows += [{"group": group, "perturbation": pert, "severity": int(s[1:]), **v} for s, v in levels.items()]
    return pd.DataFrame(rows)


def _robustness_summary(g: dict) -> dict:
    clean = float(np.mean(g.pop("clean")))
    out = {"clean_top1": clean}
    for (pert, sev), values in g.items():
        top1 = float(np.mean(values))
        out.setdefault(pert, {})[f"s{sev}"] = {"top1": top1,
                                               "relative_drop": (clean - top1) / clean if clean > 0 else 0.0}
    return out


def run(protocol: str, evaluator: Evaluator, out: Path) -> dict:
    with torch.no_grad():
        metrics = evaluator.evaluate(protocol)
    if evaluator.d.main:
        write_json(out, metrics)
    return metrics
