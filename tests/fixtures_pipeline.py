"""A scratch copy of the project (git + DVC, the repository's dvc.yaml and code) with a params.yaml
derived from the repository's, shrunk to the tiny world."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml
from helpers import BIN, REPO, TINY_WORLD

from t2l.params import as_dict

JOB = "zs-t2l"


def small_params() -> dict:
    """The repository's params.yaml shrunk to the tiny world and a 2-epoch training."""
    p = yaml.safe_load((REPO / "params.yaml").read_text())
    p["synth"] = as_dict(TINY_WORLD)
    p["protocols"]["zero_shot"]["source"]["val_per_class"] = 1
    p["protocols"]["base2novel"]["shots"] = 2  # the tiny world has 2 training videos per class
    p["protocols"]["few_shot"]["shots"] = [1, 2]
    p["pretrain"].update(steps=4, batch_size=8, checkpoint_every=2)
    p["train"].update(epochs=2, batch_size=4, workers=0, eval_batch_size=3)
    p["jobs"] = {name: {k: v for k, v in job.items() if k != "train"} for name, job in p["jobs"].items()}  # same epochs
    p["evaluate"].update(batch_size=3, workers=0)
    p["evaluate"]["robustness"]["perturbations"] = {"reverse": [1], "gaussian_noise": [2]}
    return p


def sh(*cmd: str, cwd: Path, env: dict | None = None) -> str:
    """Run ``cmd`` with this environment's executables first on PATH; its output, or fail with it."""
    full = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **(env or {})}
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=full)
    assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout + proc.stderr


def scratch_project(d: Path, params: dict) -> Path:
    """A committed git + DVC project with the repository's dvc.yaml and code, and ``params``."""
    for name in ("dvc.yaml", ".dvcignore"):
        shutil.copy(REPO / name, d / name)
    for name in ("src", "pipelines", "models/standin"):  # models/standin: the shipped stand-in CLIP
        shutil.copytree(REPO / name, d / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    (d / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh("git", "init", "-q", cwd=d)
    sh("dvc", "init", "-q", cwd=d)
    sh("dvc", "config", "core.analytics", "false", cwd=d)
    sh("git", "add", "-A", cwd=d)
    sh("git", "-c", "user.name=t2l", "-c", "user.email=t2l@localhost", "commit", "-qm", "scratch", cwd=d)
    return d
