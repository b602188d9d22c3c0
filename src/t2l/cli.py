"""The ``t2l`` command: one subcommand per pipeline stage; each reads its section of params.yaml."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from t2l.errors import UserError
from t2l.params import build, section

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

    manifest = write_world(build(SynthConfig, section("synth", params), "synth"), out)
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

    if dataset:
        if root is None:
            raise UserError("--dataset needs --root")
        todo = {name or dataset: DatasetSpec(dataset, str(root))}
    else:
        todo = configured(params)
    for ds_name, spec in todo.items():
        typer.echo(f"splits: wrote {adapters.build(spec.adapter, ds_name, Path(spec.root), out, spec.options)}")


@app.command()
def validate(splits_dir: Path = typer.Option(Path("data/splits"), "--splits", help="Canonical split files."),
             report: Path = typer.Option(Path("data/validation/report.json"), help="JSON report (DVC output)."),
             params: Path = PARAMS):
    """Check every split file with Great Expectations; fail with a readable report."""
    from t2l.data.validate.stage import ValidateConfig, run

    cfg = build(ValidateConfig, section("validate", params), "validate")
    summary = run(cfg, splits_dir, _roots(params), report)
    typer.echo(f"validate: {len(summary['files'])} files passed")


@app.command()
def extract(splits_dir: Path = typer.Option(Path("data/splits"), "--splits", help="Canonical split files."),
            out: Path = typer.Option(Path("data/frames"), help="Frame archives, one directory per dataset."),
            params: Path = PARAMS):
    """Decode every video of the configured datasets once into per-video frame archives."""
    from t2l.frames.extract import ExtractConfig, run

    _print(run(build(ExtractConfig, section("extract", params), "extract"), _roots(params), splits_dir, out))


def main() -> None:
    try:
        app()
    except UserError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
