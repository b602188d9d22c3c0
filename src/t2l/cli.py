"""The ``t2l`` command: one subcommand per pipeline stage; each reads its section of params.yaml.

Default paths come from ``t2l.layout``, as dvc.yaml's do; ``--frames`` is always a frame count
and directories are ``--*-dir``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from t2l import layout
from t2l.errors import UserError
from t2l.params import load, parse, section

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="T2L: zero-shot video action recognition with temporal token learning.")
PARAMS = typer.Option(Path("params.yaml"), "--params", help="Parameters file (one section per stage).")
SPLITS = typer.Option(Path(layout.SPLITS), "--splits-dir", help="Canonical split files.")
PROTOCOLS = typer.Option(Path(layout.PROTOCOLS), "--protocols-dir", help="Protocol split files.")
FRAMES_DIR = typer.Option(Path(layout.FRAMES), "--frames-dir", help="Frame archives (extract output).")
DESCRIPTIONS = typer.Option(Path(layout.DESCRIPTIONS), "--descriptions-dir", help="Class descriptions.")
MODELS = typer.Option(Path(layout.MODELS), "--models-dir", help="Trained models (train output).")
DATASET = typer.Option(None, "--dataset", help="One dataset of params.yaml's datasets section (default: all).")


def _datasets(params: Path, only: str | None) -> dict:
    from t2l.data.datasets import configured

    found = configured(params)
    if only is not None and only not in found:
        raise UserError(f"{params}: datasets has no {only!r}; datasets: {', '.join(found)}")
    return {only: found[only]} if only else found


def _print(obj) -> None:
    typer.echo(json.dumps(obj, indent=2))


@app.command()
def profile(name: str = typer.Argument(None, help="Profile to write to params.yaml (see profiles/)."),
            out: Path = typer.Option(Path("params.yaml"), help="Where to write it."),
            directory: Path = typer.Option(Path("profiles"), "--profiles-dir", help="Profile files.")):
    """Switch the whole pipeline to a ready profile (the embedded default or a paper experiment)."""
    from t2l import profile_switch, profiles

    if name is None:
        for known in profiles.names(directory):
            typer.echo(known)
        return
    profiles.resolve(name, directory)  # an unknown or broken profile stops here, before anything moves
    moved = profile_switch.switch(out.resolve().parent, out, name)
    profiles.write(name, out, directory)
    for line in moved.lines(name):
        typer.echo(line)
    typer.echo(f"profile: wrote {out} from {directory / name}.yaml; run `t2l doctor`, then `dvc repro` "
               f"(or `dvc exp run -n {name}`)")


@app.command()
def doctor(params: Path = PARAMS):
    """Check that this machine has what params.yaml needs (data, weights, ffmpeg, GPU, API key)."""
    from t2l.doctor import checks

    found = checks(load(params), params.resolve().parent)
    for c in found:
        typer.echo(c.line())
    if any(c.required and not c.ok for c in found):
        raise typer.Exit(1)


@app.command()
def synth(out: Path = typer.Option(Path(layout.WORLD), help="Output directory of the world."), params: Path = PARAMS):
    """Generate the embedded video world (mp4 clips and their manifest)."""
    from t2l.data.synth.world import SynthConfig, run

    manifest = run(parse(SynthConfig, section("synth", params), "synth"), out)
    typer.echo(f"synth: {len(manifest)} clips under {out}")


@app.command()
def splits(dataset: str = DATASET,
           adapter: str = typer.Option(None, help="Convert one dataset without params: its adapter ..."),
           root: Path = typer.Option(None, help="... its root in the official layout ..."),
           name: str = typer.Option(None, help="... and its output name (default: the adapter name)."),
           out: Path = typer.Option(Path(layout.SPLITS), help="Directory of canonical split files."),
           params: Path = PARAMS):
    """Turn datasets' official layouts into canonical split CSVs."""
    from t2l.data.datasets import DatasetSpec
    from t2l.data.splits.stage import run

    if adapter or root:
        if not (adapter and root):
            raise UserError("--adapter and --root go together")
        todo = {name or adapter: DatasetSpec(adapter, str(root), watch=str(root))}
    else:
        todo = _datasets(params, dataset)
    for line in run(todo, out):
        typer.echo(line)


@app.command()
def protocols(splits_dir: Path = SPLITS, out: Path = typer.Option(Path(layout.PROTOCOLS), help="One directory per protocol."),
              params: Path = PARAMS):
    """Build the evaluation protocols' split files (zero-shot, base-to-novel, few-shot, fully supervised)."""
    from t2l.data.protocols.stage import run

    for line in run(section("protocols", params), splits_dir, out):
        typer.echo(line)


@app.command()
def validate(splits_dir: Path = SPLITS, protocols_dir: Path = PROTOCOLS,
             report: Path = typer.Option(Path(layout.VALIDATION), help="JSON report (DVC output)."),
             params: Path = PARAMS):
    """Check every split and protocol file with Great Expectations; fail with a readable report."""
    from t2l.data.validate.stage import run

    if not protocols_dir.is_dir():
        typer.echo(f"validate: no protocol directory {protocols_dir}; checking dataset splits only")
    datasets = _datasets(params, None)
    releases = {n: spec.adapter for n, spec in datasets.items() if spec.release}
    summary = run(splits_dir, {n: spec.root for n, spec in datasets.items()}, report,
                  protocols_dir if protocols_dir.is_dir() else None, releases)
    typer.echo(f"validate: {len(summary['files'])} files passed")
    for r in summary["files"]:
        if r["suite"] == "release":
            missing = ", ".join(f"{s} {n:,}" for s, n in r["missing_videos"].items() if n)
            typer.echo(f"validate: {r['file']}: as released ({', '.join(f'{k} {v:,}' for k, v in r['observed'].items())})"
                       + (f"; missing videos (deleted upstream, left out): {missing}" if missing else ""))


@app.command()
def extract(dataset: str = DATASET, splits_dir: Path = SPLITS,
            out: Path = typer.Option(Path(layout.FRAMES), help="Frame archives, one directory per dataset."),
            params: Path = PARAMS):
    """Decode every video of the configured datasets once into per-video frame archives."""
    from t2l.frames.extract import run
    from t2l.jobs import extract_config

    cfg = extract_config(load(params))
    _print(run(cfg, {n: spec.root for n, spec in _datasets(params, dataset).items()}, splits_dir, out))


@app.command()
def describe(dataset: str = DATASET, splits_dir: Path = SPLITS,
             out: Path = typer.Option(Path(layout.DESCRIPTIONS), help="Descriptions, one JSON file per dataset."),
             params: Path = PARAMS):
    """Write a few text descriptions of every class (LLM, file or templates), with a CLIP token report."""
    from t2l.descriptions.config import DescribeConfig
    from t2l.descriptions.stage import run

    cfg = parse(DescribeConfig, section("describe", params), "describe")
    for name in [dataset] if dataset else _datasets(params, None):  # a dataset only needs its classes.csv
        _print(run(cfg, name, splits_dir, out))


@app.command()
def entities(dataset: str = typer.Option(..., help="Key of params.yaml's entities section (a dataset)."),
             splits_dir: Path = SPLITS,
             out: Path = typer.Option(Path(layout.DESCRIPTIONS), help="Output: <dataset>.entities.json and its report."),
             params: Path = PARAMS):
    """Build ALT's text corpus of action entities from a dataset's class labels (template, LLM or file)."""
    from t2l.descriptions.config import DescribeConfig
    from t2l.descriptions.entities import EntitiesConfig, run

    entries = section("entities", params)
    if dataset not in entries:
        raise UserError(f"{params}: entities has no {dataset!r}; entities: {', '.join(entries) or 'none'}")
    cfg = parse(EntitiesConfig, entries[dataset], f"entities.{dataset}")
    _print(run(cfg, parse(DescribeConfig, section("describe", params), "describe"), dataset, splits_dir, out))


@app.command()
def pretrain(out: Path = typer.Option(Path(layout.STANDIN), help="Output: <backbone>.pt (state dict) and metrics.json."),
             state: Path = typer.Option(Path(layout.CHECKPOINTS) / "pretrain" / "last.pt", help="Resume checkpoint."),
             params: Path = PARAMS):
    """Pretrain the embedded default's stand-in CLIP on captioned frames of the world (image-text contrastive)."""
    from t2l.data.synth.world import SynthConfig
    from t2l.train.pretrain import PretrainConfig, run

    cfg = parse(PretrainConfig, section("pretrain", params), "pretrain")
    _print(run(cfg, parse(SynthConfig, section("synth", params), "synth"), out / f"{cfg.backbone}.pt",
               out / "metrics.json", state))


@app.command()
def weights(name: str = typer.Option(..., help="Key of params.yaml's weights section."), params: Path = PARAMS):
    """Download (or convert) CLIP weights into the local file every stage loads."""
    from t2l.model.weights import WeightsSpec, fetch

    entries = section("weights", params)
    if name not in entries:
        raise UserError(f"{params}: weights has no {name!r}; weights: {', '.join(entries) or 'none'}")
    _print(fetch(parse(WeightsSpec, entries[name], f"weights.{name}"), Path(layout.BACKBONES) / f"{name}.pt"))


@app.command()
def train(job: str = typer.Option(..., help="Key of params.yaml's jobs section."),
          protocols_dir: Path = PROTOCOLS, frames_dir: Path = FRAMES_DIR, descriptions_dir: Path = DESCRIPTIONS,
          out: Path = typer.Option(None, help="Output directory (default: models/<protocol>/<job>)."),
          checkpoints: Path = typer.Option(None, help="Resume checkpoints (default: runs/<job>)."),
          params: Path = PARAMS):
    """Train one job (a model variant on every run of a protocol); resumes from the last epoch.

    Multi-GPU / multi-node: launch with ``torchrun --nproc_per_node N -m t2l.cli train ...``.
    """
    from t2l import distributed
    from t2l.jobs import clip_spec, model_fields
    from t2l.jobs import jobs as read_jobs
    from t2l.train.stage import run

    p = load(params)
    jobs = read_jobs(p)
    if job not in jobs:
        raise UserError(f"{params}: jobs has no {job!r}; jobs: {', '.join(jobs)}")
    spec = jobs[job]
    d = distributed.setup()
    try:
        summaries = run(spec, model_fields(p), p.get("train") or {}, clip_spec(p), protocols_dir, frames_dir,
                        descriptions_dir, out or Path(layout.MODELS) / spec.protocol / job,
                        checkpoints or Path(layout.CHECKPOINTS) / job, d)
    finally:
        distributed.cleanup()
    if d.main:
        _print(summaries)


@app.command()
def evaluate(protocol: str = typer.Option(..., help="An evaluation of params.yaml's evaluations section: "
                                                    "zero_shot, base2novel, few_shot, fully_supervised, robustness."),
             frames: int = typer.Option(None, help="Frames per clip at test time (default: evaluate.frames; "
                                                    "0 = each model's own, e.g. 16 for models trained on 8)."),
             protocols_dir: Path = PROTOCOLS, models_dir: Path = MODELS, frames_dir: Path = FRAMES_DIR,
             descriptions_dir: Path = DESCRIPTIONS,
             out: Path = typer.Option(None, help="Metrics JSON (default: metrics/<evaluation>.json)."),
             summary_dir: Path = typer.Option(None, help="Headline numbers, one JSON per row of `dvc metrics show` "
                                                         "(default: beside --out, in summary/<evaluation>)."),
             reports: Path = typer.Option(Path(layout.REPORTS), "--reports-dir", help="Per-class and confusion CSVs."),
             params: Path = PARAMS):
    """Evaluate every model of a protocol; every video of every split is scored."""
    from dataclasses import replace

    from t2l import distributed
    from t2l.evaluate.stage import EvaluateConfig, Evaluator, run
    from t2l.jobs import clip_spec, model_fields, trained_on
    from t2l.jobs import jobs as read_jobs

    p = load(params)
    cfg = parse(EvaluateConfig, p.get("evaluate") or {}, "evaluate")
    if frames is not None:
        cfg = replace(cfg, frames=frames)
    d = distributed.setup()
    try:
        evaluator = Evaluator(cfg, clip_spec(p), model_fields(p), read_jobs(p), protocols_dir, models_dir, frames_dir,
                              descriptions_dir, reports, d)
        out = out or Path(layout.METRICS) / f"{protocol}.json"
        metrics = run(protocol, trained_on(p, protocol), evaluator, out, summary_dir or out.parent / "summary" / protocol)
    finally:
        distributed.cleanup()
    if d.main:
        _print(metrics)


METRICS_DIR = typer.Option(Path(layout.METRICS), "--metrics-dir", help="Metrics (evaluate output).")
REPORTS_DIR = typer.Option(Path(layout.REPORTS), "--reports-dir", help="Reports (evaluate output).")
FIGURES_DIR = typer.Option(Path(layout.FIGURES), "--figures-dir", help="Figures (figures output).")


@app.command()
def figures(models_dir: Path = MODELS, metrics: Path = METRICS_DIR, reports: Path = REPORTS_DIR,
            protocols_dir: Path = PROTOCOLS, splits_dir: Path = SPLITS, frames_dir: Path = FRAMES_DIR,
            out: Path = FIGURES_DIR, params: Path = PARAMS):
    """Draw the results, training curves, robustness, confusion matrices and the paper's figures as PNGs."""
    from t2l.figures.outputs import Outputs
    from t2l.figures.stage import FigureConfig, run

    values = load(params)
    cfg = parse(FigureConfig, values.get("figures") or {}, "figures")
    written = run(cfg, values, Outputs(values, models_dir, protocols_dir, splits_dir), metrics, reports, frames_dir, out)
    typer.echo(f"{len(written)} figures in {out}")


@app.command()
def track(models_dir: Path = MODELS, metrics: Path = METRICS_DIR, reports: Path = REPORTS_DIR,
          protocols_dir: Path = PROTOCOLS, splits_dir: Path = SPLITS, figures_dir: Path = FIGURES_DIR,
          descriptions_dir: Path = DESCRIPTIONS,
          lock: Path = typer.Option(Path("dvc.lock"), help="DVC lock file (hashed for lineage)."),
          out: Path = typer.Option(Path(layout.TRACKED), help="Run ids of this execution (for t2l register)."),
          logged: Path = typer.Option(Path(layout.LOGGED), help="What was logged, without run ids (DVC output)."),
          params: Path = PARAMS):
    """Log the pipeline's params, lineage, metrics, curves and figures to MLflow (one parent run)."""
    from t2l.track.links import LOCAL_UI, lines, ui_base
    from t2l.track.stage import Inputs, TrackConfig, run
    from t2l.track.store import tracking_uri

    cfg = parse(TrackConfig, section("track", params), "track")
    inputs = Inputs(params, models_dir, metrics, reports, protocols_dir, splits_dir, figures_dir, descriptions_dir, lock)
    summary = run(cfg, inputs, out, logged)
    uri = tracking_uri(params.resolve().parent)
    typer.echo(f"logged to {uri}; run ids in {out}")
    if ui_base() == LOCAL_UI:
        typer.echo(f"open the UI with: mlflow ui --backend-store-uri {uri}")
    for line in lines(summary["ui"]):
        typer.echo(line)


@app.command()
def register(tracked: Path = typer.Option(Path(layout.TRACKED), help="Run ids written by t2l track."),
             models_dir: Path = MODELS,
             out: Path = typer.Option(Path(layout.REGISTERED), help="The registration and promotion decision."),
             packaged: Path = typer.Option(Path(layout.PACKAGED), help="What was registered, without the version "
                                                                      "(DVC output)."),
             params: Path = PARAMS):
    """Register the model as an MLflow pyfunc (alias challenger); promote it to champion if it wins."""
    from t2l.track.registry import RegisterConfig, run

    _print(run(parse(RegisterConfig, section("register", params), "register"), params, tracked, models_dir, out,
               packaged))


@app.command()
def predict(videos: list[Path] = typer.Argument(..., help="Video files to classify."),
            classes: str = typer.Option(..., help="Candidate class names, comma-separated (free text)."),
            model: str = typer.Option(None, help="models:/NAME@ALIAS, runs:/..., an MLflow model directory, a "
                                                 "training run directory, or an untrained variant such as vanilla "
                                                 "(CLIP zero-shot with params.yaml's weights; default: the champion)."),
            top_k: int = typer.Option(None, help="Classes to return per video (default: register.top_k)."),
            params: Path = PARAMS):
    """Classify videos among free-text classes with the pyfunc that `mlflow models serve` serves."""
    from t2l.predict import open_model, parse_classes
    from t2l.predict import predict as run_predict

    names = parse_classes(classes)
    with open_model(model, params) as loaded:
        _print(run_predict(loaded, videos, names, top_k))


@app.command()
def report(metrics: Path = typer.Option(Path(layout.METRICS), "--metrics-dir",
                                        help="Directory of the evaluate stages' metrics JSON."),
           params: Path = PARAMS):
    """Print the active profile's results as markdown tables (the README's results section is this output)."""
    from t2l.evaluate.report import render

    typer.echo(render(load(params), metrics))


@app.command()
def info(model: str = typer.Option("t2l", help="Model variant (model.config.VARIANTS: t2l, vifi, tc_clip, alt, ...)."),
         backbone: str = typer.Option("ViT-B-16", help="open_clip model name."),
         frames: int = typer.Option(8, help="Frames per clip."),
         pretrained: str = typer.Option(None, help="open_clip tag or weights file (default: random init)."),
         entities: int = typer.Option(1000, min=1, help="ALT without a corpus: random entity embeddings (K) to count with.")):
    """Print trainable/total parameters, which of them decay, and GFLOPs per clip of a model."""
    import logging

    from t2l.model.config import variant
    from t2l.model.decay import decay_counts
    from t2l.model.factory import build_model
    from t2l.model.info import parameter_counts, stand_in_entities, video_gflops

    if pretrained is None:
        logging.disable(logging.WARNING)  # open_clip warns that random init is random init
    try:
        m = build_model(variant(model, backbone=backbone, frames=frames, pretrained=pretrained))
    finally:
        logging.disable(logging.NOTSET)
    k = stand_in_entities(m, entities)
    _print({"model": model, "backbone": backbone, "frames": frames, "parameters": parameter_counts(m),
            "weight_decay": decay_counts(m), **({"entities": k} if k else {}),
            "gflops_per_clip": round(video_gflops(m, frames), 3),
            "flop_convention": "torch.utils.flop_counter: 2 FLOPs per multiply-add, video encoder only"})


@app.command()
def bench(what: str = typer.Argument("all", help="all, model, data, profile or serve."),
          out: Path = typer.Option(Path(layout.BENCH), help="Directory of the JSON results."),
          params: Path = PARAMS):
    """Measure model cost (vs vanilla CLIP and ViFi-CLIP), the data path, a training-step profile and serving latency."""
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
