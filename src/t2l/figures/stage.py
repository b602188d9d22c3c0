"""The ``figures`` stage: every figure of one pipeline execution, as PNG files under ``out``.

``results.png`` (every evaluation's headline per variant, std bars, chance line),
``training.png`` (all trained runs' loss and val top-1) and ``training/<job>/<run>/curves.png``
(one run's curves), ``robustness.png`` (each variant clean and under each shift, side by side),
``confusion/<evaluation>/<variant>/<run>/<split>.png``, and the T2L paper's Fig. 3 (t-SNE of
per-frame embeddings, without and with TFD) and Fig. 4 (attention over a clip's frames). ``dvc
plots show`` renders them; ``t2l track`` logs them to MLflow.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from t2l.data.protocols.reader import read_runs
from t2l.evaluate import headlines, split_reports
from t2l.evaluate.report import LABELS, VARIANT_ORDER
from t2l.evaluate.results import read_results
from t2l.evaluate.stage import EvaluateConfig
from t2l.figures import paper, plots
from t2l.figures.outputs import Outputs
from t2l.frames.dataset import FrameSource
from t2l.frames.transforms import EvalTransform
from t2l.jobs import ROBUSTNESS, clip_spec, model_fields
from t2l.model.config import variant
from t2l.model.factory import build_model
from t2l.model.trained import HISTORY, load_model
from t2l.params import parse

FIG3 = {"ttl": "ttl: without TFD", "t2l": "t2l: with TFD"}  # paper Fig. 3 compares these two
FIG4 = ("vanilla", "t2l")  # paper Fig. 4: CLIP's attention vs T2L's


@dataclass(frozen=True)
class FigureConfig:
    videos: int = 6  # target videos in the t-SNE plot (Fig. 3), the first also in Fig. 4; 0 = no paper figures
    perplexity: float = 10.0
    seed: int = 0


def save(fig: Figure, path: Path, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    written.append(path)


def robustness_groups(metrics: dict) -> dict[str, dict[str, dict[str, float]]]:
    """``{group: {variant: {condition: top-1 %}}}``: clean, then ``<shift> <severity>``."""
    groups: dict[str, dict[str, dict[str, float]]] = {}
    for name, by_group in metrics.items():
        for group, values in by_group.items() if name != "notes" and isinstance(by_group, dict) else ():
            row = {"clean": 100 * values["clean_top1"]}
            row.update({f"{kind} {s}": 100 * v["top1"] for kind, shifts in values.items() if isinstance(shifts, dict)
                        for s, v in shifts.items() if isinstance(v, dict) and "top1" in v})
            groups.setdefault(group, {})[name] = row
    return groups


class Figures:
    def __init__(self, cfg: FigureConfig, params: dict, outputs: Outputs, metrics: Path, reports: Path, frames: Path,
                 out: Path):
        self.cfg, self.params, self.outputs, self.out = cfg, params, outputs, out
        self.reports, self.frames = reports, frames
        self.evaluations = read_results(params, metrics)
        self.written: list[Path] = []

    def results(self) -> None:
        panels = [plots.Panel(f"{name} · {row_name}", row.values, row.std, self.outputs.chance(name, row.group))
                  for name, metrics in self.evaluations.items()
                  for row_name, row in headlines.rows(name, metrics).items()]
        if panels:
            save(plots.results_figure(panels, LABELS, list(VARIANT_ORDER)), self.out / "results.png", self.written)

    def training(self) -> None:
        histories = {}
        for job_name, _, run_name, run_dir in self.outputs.trained:
            history = pd.read_csv(run_dir / HISTORY)
            histories[f"{job_name}/{run_name}"] = history
            save(plots.training_curves(history, f"train/{job_name}/{run_name}"),
                 self.out / "training" / job_name / run_name / "curves.png", self.written)
        if histories:
            save(plots.training_overview(histories), self.out / "training.png", self.written)

    def robustness(self) -> None:
        groups = robustness_groups(self.evaluations.get(ROBUSTNESS, {}))
        if groups:
            chance = {g: self.outputs.chance(ROBUSTNESS, g) for g in groups}
            save(plots.robustness_figure(groups, chance), self.out / "robustness.png", self.written)

    def confusion(self) -> None:
        for name in self.evaluations:
            for report in split_reports.written(self.reports / name):
                classes = pd.read_csv(split_reports.per_class_file(report)).sort_values("label")["class_name"].tolist()
                rel = report.relative_to(self.reports)
                save(plots.confusion_matrix(pd.read_csv(split_reports.confusion_file(report)), classes, rel.as_posix()),
                     self.out / "confusion" / f"{rel}.png", self.written)

    def paper(self) -> None:
        """Fig. 3 and Fig. 4 on the first target split of the zero-shot protocol, when its models exist."""
        if "zero_shot" not in self.evaluations:
            return
        dirs = {m: self.outputs.trained_dir("zero_shot", m) for m in FIG3}
        protocol_dir = self.outputs.protocols / "zero_shot"
        if not self.cfg.videos or not any(dirs.values()) or not protocol_dir.is_dir():
            return
        ref = read_runs(protocol_dir)[0].eval[0]
        rows = paper.pick_rows(ref.rows(), self.cfg.videos)
        decoder = parse(EvaluateConfig, self.params.get("evaluate") or {}, "evaluate").decoder
        source = FrameSource(decoder, self.frames / ref.dataset)
        clip = clip_spec(self.params)
        transform = EvalTransform(clip.crop, clip.resize_ratio)
        models = {m: load_model(d) for m, d in dirs.items() if d}
        models.setdefault("vanilla", build_model(variant("vanilla", **model_fields(self.params))))
        embeddings: dict[str, np.ndarray] = {}
        with torch.no_grad():
            for m, model in models.items():
                video = paper.clips(rows, source, transform, model.cfg.frames)
                if m in FIG3:
                    embeddings[FIG3[m]] = model.eval().encode_video(video).frames.numpy()
                if m in FIG4:
                    grid = model.clip.visual.grid_size[0]
                    fig = paper.attention_figure(model.eval().attention_maps(video[:1]), video[0], grid,
                                                 f"{m}: attention over the frames of {rows['path'].iloc[0]}")
                    save(fig, self.out / f"fig4_attention_{m}.png", self.written)
        fig = paper.tsne_figure(embeddings, rows["class_name"].tolist(), self.cfg.perplexity, self.cfg.seed)
        save(fig, self.out / "fig3_tsne_frames.png", self.written)


def run(cfg: FigureConfig, params: dict, outputs: Outputs, metrics: Path, reports: Path, frames: Path,
        out: Path) -> list[Path]:
    """Write every figure under ``out`` (emptied first); the paths written."""
    shutil.rmtree(out, ignore_errors=True)
    figures = Figures(cfg, params, outputs, Path(metrics), Path(reports), Path(frames), Path(out))
    for step in (figures.results, figures.training, figures.robustness, figures.confusion, figures.paper):
        step()
    return figures.written
