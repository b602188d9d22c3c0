"""The ``t2l`` command: one subcommand per pipeline stage; each reads its section of params.yaml."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from t2l.errors import UserError
from t2l.model.config import VARIANTS
from t2l.params import parse, section

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="T2L: zero-shot video action recognition with temporal token learning.")
PARAMS = typer.Option(Path("params.yaml"), "--params", help="Parameters file (one section per stage).")


def _roots(params: Path) -> dict[str, str]:
    from t2l.data.datasets import configured

    return {name: spec.root for name, spec in configured(params).items()}


def _print(obj) -> None:
    typer.echo(json.dumps(obj, indent=2))


@app.command()
def synth(out: Path = typer.Option(Path("data/raw/synthetic"), help="Output directory of the world."),
          params: Path = PARAMS):
    """Generate the embedded video world (mp4 clips, manifest, image-caption pairs)."""
    from t2l.data.synth.world import SynthConfig, write_world

    manifest = write_world(parse(SynthConfig, section("synth", params), "synth"), out)
    typer.echo(f"synth: {len(manifest)} clips under {out}")


@app.command()
def splits(dataset: str = typer.Option(None, help="Adapter of one dataset to convert (default: every "
                                                  "dataset of params.yaml's datasets section)."),
           root: Path = typer.Option(None, help="That dataset's root in its official layout."),
           name: str = typer.Option(None, help="Output name of that dataset (default: the adapter name)."),
           out: Path = typer.Option(Path("data/splits"), help="Directory of canonical split files."),
           params: Path = PARAMS):
    """Turn datasets' official layouts into canonical split CSVs."""
    from t2l.data.datasets import DatasetSpec, configured
    from t2l.data.splits import adapters
    from t2l.data.splits.schema import dataset_info

    if dataset:
        if root is None:
            raise UserError("--dataset needs --root")
        todo = {name or dataset: DatasetSpec(dataset, str(root))}
    else:
        todo = configured(params)
    for ds_name, spec in todo.items():
        written = adapters.build(spec.adapter, ds_name, Path(spec.root), out, spec.options)
        typer.echo(f"splits: wrote {written}")
        for split, m in dataset_info(written).get("missing_videos", {}).items():
            if m["count"]:
                typer.echo(f"  {split}: {m['count']} of {m['of']} videos missing (left out; listed in dataset.json)")


@app.command()
def protocols(splits_dir: Path = typer.Option(Path("data/splits"), "--splits", help="Canonical split files."),
              out: Path = typer.Option(Path("data/protocols"), help="One directory per protocol."),
              params: Path = PARAMS):
    """Build the evaluation protocols' split files (zero-shot, base-to-novel, few-shot, fully supervised)."""
    from t2l.data.protocols.stage import run

    for line in run(section("protocols", params), splits_dir, out):
        typer.echo(line)


@app.command()
def validate(splits_dir: Path = typer.Option(Path("data/splits"), "--splits", help="Canonical split files."),
             protocols_dir: Path = typer.Option(Path("data/protocols"), "--protocols",
                                                help="Protocol directories (checked when present)."),
             report: Path = typer.Option(Path("data/validation/report.json"), help="JSON report (DVC output)."),
             params: Path = PARAMS):
    """Check every split and protocol file with Great Expectations; fail with a readable report."""
    from t2l.data.validate.stage import run

    if not protocols_dir.is_dir():
        typer.echo(f"validate: no protocol directory {protocols_dir}; checking dataset splits only")
    summary = run(splits_dir, _roots(params), report, protocols_dir if protocols_dir.is_dir() else None)
    typer.echo(f"validate: {len(summary['files'])} files passed")


@app.command()
def extract(splits_dir: Path = typer.Option(Path("data/splits"), "--splits", help="Canonical split files."),
            out: Path = typer.Option(Path("data/frames"), help="Frame archives, one directory per dataset."),
            params: Path = PARAMS):
    """Decode every video of the configured datasets once into per-video frame archives."""
    from t2l.frames.extract import ExtractConfig, run

    _print(run(parse(ExtractConfig, section("extract", params), "extract"), _roots(params), splits_dir, out))


@app.command()
def describe(dataset: str = typer.Option(None, help="Dataset to describe (default: every dataset of "
                                                   "params.yaml's datasets section)."),
             splits_dir: Path = typer.Option(Path("data/splits"), "--splits", help="Canonical split files."),
             out: Path = typer.Option(Path("data/descriptions"), help="Descriptions, one JSON file per dataset."),
             params: Path = PARAMS):
    """Write a few text descriptions of every class (LLM, file or templates), with a CLIP token report."""
    from t2l.data.datasets import configured
    from t2l.descriptions.config import DescribeConfig
    from t2l.descriptions.stage import run

    cfg = parse(DescribeConfig, section("describe", params), "describe")
    for name in [dataset] if dataset else configured(params):
        _print(run(cfg, name, splits_dir, out))


@app.command()
def pretrain(images: Path = typer.Option(Path("data/raw/synthetic/images"), help="Image-caption pairs of the world."),
             out: Path = typer.Option(Path("models/pretrain"), help="Output: clip.pt (state dict) and metrics.json."),
             state: Path = typer.Option(Path("runs/pretrain/last.pt"), help="Resume checkpoint."),
             params: Path = PARAMS):
    """Pretrain the embedded default's tiny CLIP on image-caption pairs (image-text contrastive)."""
    from t2l.train.pretrain import PretrainConfig, run

    _print(run(parse(PretrainConfig, section("pretrain", params), "pretrain"), images, out / "clip.pt",
               out / "metrics.json", state))


@app.command()
def train(job: str = typer.Option(..., help="Key of params.yaml's jobs section."),
          protocols: Path = typer.Option(Path("data/protocols"), help="Protocol split files."),
          frames: Path = typer.Option(Path("data/frames"), help="Frame archives (extract output)."),
          descriptions: Path = typer.Option(Path("data/descriptions"), help="Class descriptions (describe output)."),
          out: Path = typer.Option(None, help="Output directory (default: models/<protocol>/<job>)."),
          checkpoints: Path = typer.Option(None, help="Resume checkpoints (default: runs/<job>)."),
          params: Path = PARAMS):
    """Train one job (a model variant on every run of a protocol); resumes from the last epoch.

    Multi-GPU / multi-node: launch with ``torchrun --nproc_per_node N -m t2l.cli train ...``.
    """
    from t2l import distributed
    from t2l.jobs import jobs as read_jobs
    from t2l.params import load
    from t2l.train.stage import run

    jobs = read_jobs(load(params))
    if job not in jobs:
        raise UserError(f"{params}: jobs has no {job!r}; jobs: {', '.join(jobs)}")
    spec = jobs[job]
    d = distributed.setup()
    try:
        summaries = run(spec, section("model", params), section("train", params), protocols, frames, descriptions,
                              out or Path("models") / spec.protocol / job, checkpoints or Path("runs") / job, d)
    finally:
        distributed.cleanup()
    if d.main:
        _print(summaries)


@app.command()
def evaluate(protocol: str = typer.Option(..., help="zero_shot, base2novel, few_shot, fully_supervised or robustness."),
             frames: int = typer.Option(None, help="Frames per clip at test time (default: evaluate.frames; "
                                                    "0 = each model's own, e.g. 16 for models trained on 8)."),
             protocols: Path = typer.Option(Path("data/protocols"), help="Protocol split files."),
             models: Path = typer.Option(Path("models"), help="Trained models (train output)."),
             frames_dir: Path = typer.Option(Path("data/frames"), "--frames-dir", help="Frame archives."),
             descriptions: Path = typer.Option(Path("data/descriptions"), help="Class descriptions."),
             out: Path = typer.Option(None, help="Metrics JSON (default: metrics/<protocol>.json)."),
             reports: Path = typer.Option(Path("reports"), help="Per-class and confusion CSVs."),
             params: Path = PARAMS):
    """Evaluate every model of a protocol; every video of every split is scored."""
    from dataclasses import replace

    from t2l.evaluate.stage import EvaluateConfig, Evaluator, run
    from t2l import distributed
    from t2l.jobs import jobs as read_jobs, trained_on
    from t2l.params import load

    cfg = parse(EvaluateConfig, section("evaluate", params), "evaluate")
    if frames is not None:
        cfg = replace(cfg, frames=frames)
    jobs = read_jobs(load(params))
    d = distributed.setup()
    try:
        evaluator = Evaluator(cfg, section("model", params), jobs, protocols, models, frames_dir, descriptions, reports, d)
        metrics = run(protocol, trained_on(load(params), protocol), evaluator, out or Path("metrics") / f"{protocol}.json")
    finally:
        distributed.cleanup()
    if d.main:
        _print(metrics)


@app.command()
def track(models: Path = typer.Option(Path("models"), help="Trained models (train output)."),
          metrics: Path = typer.Option(Path("metrics"), help="Protocol metrics (evaluate output)."),
          reports: Path = typer.Option(Path("reports"), help="Per-class and confusion CSVs (evaluate output)."),
          protocols: Path = typer.Option(Path("data/protocols"), help="Protocol split files."),
          splits: Path = typer.Option(Path("data/splits"), help="Canonical split files (hashed for lineage)."),
          frames: Path = typer.Option(Path("data/frames"), help="Frame archives (for the figures)."),
          descriptions: Path = typer.Option(Path("data/descriptions"), help="Class descriptions (logged too)."),
          lock: Path = typer.Option(Path("dvc.lock"), help="DVC lock file (hashed for lineage)."),
          out: Path = typer.Option(Path("mlflow/track.json"), help="Run ids of this execution (for t2l register)."),
          params: Path = PARAMS):
    """Log the pipeline's params, lineage, metrics, curves and figures to MLflow (one parent run)."""
    from t2l.track.stage import Inputs, TrackConfig, run

    cfg = parse(TrackConfig, section("track", params), "track")
    _print(run(cfg, Inputs(params, models, metrics, reports, protocols, splits, frames, descriptions, lock), out))


@app.command()
def register(tracked: Path = typer.Option(Path("mlflow/track.json"), help="Run ids written by t2l track."),
             models: Path = typer.Option(Path("models"), help="Trained models (train output)."),
             out: Path = typer.Option(Path("mlflow/register.json"), help="The registration and promotion decision."),
             params: Path = PARAMS):
    """Register the model as an MLflow pyfunc (alias challenger); promote it to champion if it wins."""
    from t2l.track.registry import RegisterConfig, run

    _print(run(parse(RegisterConfig, section("register", params), "register"), params, tracked, models, out))


@app.command()
def predict(videos: list[Path] = typer.Argument(..., help="Video files to classify."),
            classes: str = typer.Option(..., help="Candidate class names, comma-separated (free text)."),
            model: str = typer.Option(None, help="models:/NAME@ALIAS, runs:/..., an MLflow model directory or a "
                                                 "training run directory (default: the registered champion)."),
            top_k: int = typer.Option(None, help="Classes to return per video (default: register.top_k)."),
            params: Path = PARAMS):
    """Classify videos among free-text classes with the pyfunc that `mlflow models serve` serves."""
    from t2l.serve.predict import open_model, parse_classes, predict as run_predict

    names = parse_classes(classes)
    with open_model(model, params) as loaded:
        _print(run_predict(loaded, videos, names, top_k))


@app.command()
def report(metrics: Path = typer.Option(Path("metrics"), help="Directory of the evaluate stages' metrics JSON.")):
    """Print the results as markdown tables (the README's results section is this output)."""
    from t2l.evaluate.report import render

    typer.echo(render(metrics))


@app.command()
def info(model: str = typer.Option("t2l", help="Model variant: " + ", ".join(VARIANTS)),
         backbone: str = typer.Option("ViT-B-16", help="open_clip model name."),
         frames: int = typer.Option(8, help="Frames per clip."),
         pretrained: str = typer.Option(None, help="open_clip tag or weights file (default: random init).")):
    """Print trainable/total parameters and GFLOPs per clip of a model."""
    from t2l.model.config import variant
    from t2l.model.factory import build_model
    from t2l.model.info import parameter_counts, video_gflops

    m = build_model(variant(model, backbone=backbone, frames=frames, pretrained=pretrained))
    _print({"model": model, "backbone": backbone, "frames": frames, "parameters": parameter_counts(m),
            "gflops_per_clip": round(video_gflops(m, frames), 3),
            "flop_convention": "torch.utils.flop_counter: 2 FLOPs per multiply-add, video encoder only"})


@app.command()
def bench(what: str = typer.Argument("all", help="all, model, data or profile."),
          out: Path = typer.Option(Path("bench/results"), help="Directory of the JSON results."),
          params: Path = PARAMS):
    """Measure model cost (vs vanilla CLIP and ViFi-CLIP), the data path, and a training-step profile."""
    from t2l.bench.stage import BenchConfig, run

    for path in run(parse(BenchConfig, section("bench", params), "bench"), what, out):
        typer.echo(f"bench: wrote {path}")


def main() -> None:
    try:
        app()
    except UserError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
