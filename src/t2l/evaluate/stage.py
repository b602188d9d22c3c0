"""The ``evaluate`` stage: score every model of a protocol on every evaluation split.

Models of protocol P are the jobs trained on P plus ``evaluate.baselines`` (untrained variants
such as vanilla CLIP). The ``robustness`` evaluation re-runs the zero-shot evaluation of its
models under perturbations. Writes ``metrics/<evaluation>.json`` and per-class / confusion CSVs
under ``reports/<evaluation>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import torch

from t2l.data.protocols.reader import Run, SplitRef, read_runs
from t2l.descriptions.read import class_descriptions
from t2l.distributed import Dist
from t2l.errors import UserError
from t2l.evaluate import aggregate, headlines, robustness
from t2l.evaluate.metrics import confusion, per_class, summary
from t2l.evaluate.perturbations import perturbation
from t2l.evaluate.probes import probe_ceilings
from t2l.evaluate.split_reports import confusion_file, per_class_file
from t2l.frames.clip_spec import ClipSpec
from t2l.frames.dataset import FrameSource
from t2l.frames.decoders import DECODERS
from t2l.fsio import write_csv, write_json
from t2l.jobs import ROBUSTNESS, Job
from t2l.model.config import ENSEMBLES, WSE, variant
from t2l.model.factory import build_model, class_prompts, tokenizer_for
from t2l.model.text import ClassPrompts
from t2l.model.trained import load_model
from t2l.params import Count, NonNegative, OneOf
from t2l.scoring import Scores, ScoreSettings, embedded, score, views


@dataclass(frozen=True)
class EvaluateConfig:
    baselines: tuple[str, ...] = ("vanilla",)  # untrained variants evaluated on every protocol
    batch_size: Count = 64
    workers: NonNegative = 2
    decoder: Annotated[str, OneOf(DECODERS)] = "archive"
    frames: NonNegative = 0  # 0: each model's own frame count; e.g. 16 evaluates 8-frame models at 16
    clips: Count = 1  # multi-view testing: temporal clips x spatial crops (1 x 1 = the paper's single view)
    crops: Count = 1
    view_average: Literal["logits", "softmax"] = "logits"  # how views combine: mean logits, or mean softmax (TC-CLIP's, ViFi-CLIP's)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"  # video encoder autocast; auto: on GPU (fp16), none on CPU
    descriptions: bool = True
    target_entities: bool = False  # zero-shot: ALT's entity corpus expanded with each target's class names (its App. B)
    probes: bool = False  # zero-shot: linear-probe ceilings of the frozen backbone on the source val split
    stem_cache_mb: NonNegative = 2048  # single view: a split's frozen patch embeddings kept for the next model sharing the stem (0: never)
    robustness: robustness.RobustnessConfig = field(default_factory=robustness.RobustnessConfig)

    def scoring(self, clip: ClipSpec) -> ScoreSettings:
        return ScoreSettings(clip.crop, clip.resize_ratio, self.batch_size, self.workers, self.clips, self.crops,
                             self.frames or None, self.view_average, self.precision)

    @property
    def views(self) -> str:
        """The views and how they combine, in words (metrics notes, MLflow's ``eval.views``)."""
        return f"{self.clips} clip(s) x {self.crops} crop(s), {self.view_average} averaged"


class Evaluator:
    def __init__(self, cfg: EvaluateConfig, clip: ClipSpec, model_fields: dict, jobs: dict[str, Job], protocols: Path,
                 models: Path, frames: Path, descriptions: Path, reports: Path, d: Dist = Dist()):
        self.cfg, self.settings, self.model_fields, self.jobs, self.d = cfg, cfg.scoring(clip), model_fields, jobs, d
        self.protocols, self.models, self.frames = Path(protocols), Path(models), Path(frames)
        self.descriptions_dir, self.reports = Path(descriptions), Path(reports)
        self.embedded, self.cache_left = {}, cfg.stem_cache_mb * 2**20

    # -- models ------------------------------------------------------------------------------
    def candidates(self, protocol: str, ensembles: bool = False) -> dict[str, callable]:
        """Variant name -> ``load(run)`` for every model evaluated on ``protocol``; with ``ensembles``
        (zero-shot) a fine-tuned variant also as ``<variant>_wse``, ensembled with CLIP in weight space."""
        found = {}
        for name, job in self.jobs.items():
            if job.protocol == protocol:
                if job.model in found:
                    raise UserError(f"jobs: two jobs train {job.model!r} on {protocol}; metrics are keyed by variant")
                found[job.model] = lambda run, name=name: load_model(self.models / protocol / name / run.name)
                if ensembles and job.model in ENSEMBLES:
                    found[job.model + WSE] = lambda run, name=name, w=ENSEMBLES[job.model]: load_model(
                        self.models / protocol / name / run.name, ensemble_weight=w)
        for base in self.cfg.baselines:
            cfg = variant(base, **self.model_fields)
            if any(getattr(cfg, part) for part in ("temporal_tokens", "spatial_adapters", "text_adapters", "finetune_clip")):
                raise UserError(f"evaluate.baselines: {base!r} has trainable parts; train it as a job instead")
            found.setdefault(base, lambda run, cfg=cfg: build_model(cfg))
        return {name: (lambda run, load=load: load(run).to(self.d.device)) for name, load in found.items()}

    # -- scoring -------------------------------------------------------------------------------
    def _prompts(self, model, ref: SplitRef) -> ClassPrompts:
        names = ref.class_names()
        descriptions = class_descriptions(self.descriptions_dir, ref.dataset, names) if self.cfg.descriptions else None
        return class_prompts(model.cfg, names, tokenizer_for(model.cfg), descriptions)

    def score(self, model, ref: SplitRef, perturb=None) -> Scores:
        prompts = self._prompts(model, ref)  # first: broken descriptions stop the run before any clip is embedded
        source = FrameSource(self.cfg.decoder, self.frames / ref.dataset)
        clips = self._embedded(model, ref, source, perturb)
        return score(model, ref.rows(), source, prompts, self.settings, self.d, perturb, clips)

    def _embedded(self, model, ref: SplitRef, source: FrameSource, perturb):
        """The split's clips as frozen patch embeddings, computed for the first model with this stem
        and kept for the others while ``stem_cache_mb`` lasts (single view only)."""
        s = self.settings
        if s.clips * s.crops > 1 or not getattr(model, "frozen_stem", False):
            return None
        frames = s.frames or model.cfg.frames
        key = (model.cfg.backbone, model.cfg.pretrained, ref.dataset, str(ref.csv), frames,
               perturb and (perturb.name, perturb.severity))
        if key not in self.embedded:
            clips = next(views(ref.rows(), source, s, frames, perturb))
            self.embedded[key] = embedded(model, clips, s.batch_size, s.workers, self.cache_left, self.d.device)
            if self.embedded[key] is not None:
                self.cache_left -= self.embedded[key].tensors[0].nbytes
        return self.embedded[key]

    def _result(self, model, ref: SplitRef, report: Path | None) -> dict:
        s = self.score(model, ref)
        names = ref.class_names()
        result = summary(s.logits, s.labels, names)
        if "within_pair" in result:  # the embedded world: how much does reversing a clip move it?
            reversed_ = self.score(model, ref, perturbation("reverse", 1))
            change = np.linalg.norm(s.embeddings - reversed_.embeddings, axis=1) / np.linalg.norm(s.embeddings, axis=1)
            result["reversal_change"] = float(change.mean())
        if report is not None and self.d.main:
            write_csv(per_class_file(report), per_class(s.logits, s.labels, names))
            write_csv(confusion_file(report), confusion(s.logits, s.labels, names))
        return result

    # -- evaluations ---------------------------------------------------------------------------
    def evaluate(self, evaluation: str, protocol: str) -> dict:
        """``evaluation`` of the models trained on ``protocol``: the protocol's own, robustness's
        (zero-shot, perturbed), or another protocol's whose runs trained on the same split files."""
        if evaluation == ROBUSTNESS:
            return self.robustness(protocol)
        runs = read_runs(self.protocols / evaluation)
        trained = trained_runs(runs, read_runs(self.protocols / protocol), evaluation)
        zero_shot = evaluation == "zero_shot"
        metrics, expanded = {}, []
        for name, load in self.candidates(protocol, ensembles=zero_shot).items():
            results, expand = {}, False
            for run in runs:
                model = load(trained[run.name])
                expand = zero_shot and self.cfg.target_entities and model.cfg.family == "alt"
                where = self.reports / evaluation / name / run.name
                results[run.name] = {e.name: self._target_result(model, e, where / e.name.replace("/", "_"), expand)
                                     for e in run.eval}
                if zero_shot and run.val is not None:
                    results[run.name]["source_val"] = self._result(model, run.val, None)
            metrics[name] = aggregate.AGGREGATORS[evaluation](runs, results)
            expanded += [name] if expand else []
        if zero_shot and self.cfg.probes:
            metrics.update(self.probes(runs))
        return {**metrics, "notes": {"std": aggregate.STD_NOTE, "frames": self.cfg.frames or "model's own",
                                     "views": self.cfg.views, **zero_shot_notes(metrics, expanded)}}

    def _target_result(self, model, ref: SplitRef, report: Path, expand: bool) -> dict:
        """``_result`` on an evaluated split; ``expand``: an ALT model aligns to its corpus plus the
        split's class names (its App. B at zero-shot; source val keeps the trained corpus)."""
        if not expand:
            return self._result(model, ref, report)
        with model.expanded_entities(ref.class_names()):
            return self._result(model, ref, report)

    def probes(self, runs: list[Run]) -> dict:
        """Linear probes on the frozen backbone (the first baseline) of each run with a val split."""
        c, base = self.cfg, variant(self.cfg.baselines[0], **self.model_fields)
        found = {}
        for run in (r for r in runs if r.val is not None):
            found.update(probe_ceilings(build_model(base).to(self.d.device), run, self.frames, c.decoder, self.settings))
        return found

    def robustness(self, protocol: str) -> dict:
        rc = self.cfg.robustness
        candidates = self.candidates(protocol, ensembles=True)  # the zero-shot evaluation, perturbed
        missing = sorted(set(rc.models) - set(candidates))
        if missing:
            raise UserError(f"evaluate.robustness.models: no {protocol} model {missing}; have {sorted(candidates)}")
        runs = read_runs(self.protocols / protocol)
        metrics = {}
        for name in rc.models:
            metrics[name] = robustness.measure(rc, self.score, runs, candidates[name])
            if self.d.main:
                write_csv(self.reports / ROBUSTNESS / f"{name}.csv", robustness.table(metrics[name]))
        return metrics


def zero_shot_notes(metrics: dict, expanded: list[str]) -> dict[str, str]:
    """What the zero-shot rows are where they are not the trained model as it was trained."""
    notes = {}
    ensembled = {name: w for name, w in ENSEMBLES.items() if name + WSE in metrics}
    if ensembled:
        weights = ", ".join(f"{name}{WSE} w = {w}" for name, w in ensembled.items())
        notes["weight_space_ensembling"] = (f"{weights}: (1 - w) CLIP + w fine-tuned weights, as TC-CLIP's zero-shot "
                                            f"protocol; {', '.join(ensembled)}: the fine-tuned weights alone")
    if expanded:
        notes["entities"] = f"{', '.join(expanded)}: entity corpus expanded with each target split's class names (ALT App. B)"
    return notes


def trained_runs(runs: list[Run], trained: list[Run], evaluation: str) -> dict[str, Run]:
    """Each run of ``evaluation`` -> the run of the models' protocol that trained on the same rows.

    A protocol's own runs map to themselves; another protocol's models are scored only where one
    of its runs trained on exactly the rows this run would train on (the same split, so the same
    model), else the evaluation stops naming the split file.
    """
    by_rows = {}
    for t in trained:
        by_rows.setdefault(split_key(t.train), t)
    found = {}
    for run in runs:
        same = next((t for t in trained if t.protocol == run.protocol and t.name == run.name), None)
        same = same or by_rows.get(split_key(run.train))
        if same is None:
            raise UserError(f"evaluations.{evaluation}: no {trained[0].protocol if trained else 'trained'} run trained on "
                            f"the rows of {run.train.csv}; train a {evaluation} job instead")
        found[run.name] = same
    return found


def split_key(ref: SplitRef) -> tuple:
    """What a model learns from a split: its dataset, its rows (path, label) and its class names."""
    rows = ref.rows()
    return ref.dataset, tuple(zip(rows["path"], rows["label"].astype(int))), tuple(ref.class_names())


def run(evaluation: str, protocol: str, evaluator: Evaluator, out: Path, summary_dir: Path) -> dict:
    """Score, then write the metrics JSON to ``out`` and its headline numbers under ``summary_dir``."""
    with torch.no_grad():
        metrics = evaluator.evaluate(evaluation, protocol)
    if evaluator.d.main:
        write_json(out, metrics)
        headlines.write(evaluation, metrics, summary_dir)
    return metrics
