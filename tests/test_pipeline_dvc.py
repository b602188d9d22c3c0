"""``dvc repro`` of the real dvc.yaml on a tiny world, in a scratch copy of the project."""

import os
import shutil
import subprocess

import pandas as pd
import pytest
import yaml

from conftest import BIN, REPO, TINY_WORLD
from t2l.params import as_dict


def sh(*cmd, cwd):
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    d = tmp_path_factory.mktemp("project")
    for name in ("dvc.yaml", ".dvcignore"):
        shutil.copy(REPO / name, d / name)
    shutil.copytree(REPO / "src", d / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["synth"] = as_dict(TINY_WORLD)
    (d / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh("git", "init", "-q", cwd=d)
    sh("dvc", "init", "-q", cwd=d)
    sh("dvc", "config", "core.analytics", "false", cwd=d)
    return d


def test_repro_runs_every_stage_then_is_up_to_date(project):
    out = sh("dvc", "repro", cwd=project)
    for stage in ("synth", "splits", "validate", "extract"):
        assert f"Running stage '{stage}'" in out
    manifest = pd.read_csv(project / "data/frames/synthetic_source/manifest.csv")
    world = pd.read_csv(project / "data/raw/synthetic/world.csv").query("dataset == 'synthetic_source'")
    assert sorted(manifest["path"]) == sorted(world["path"])
    assert "Data and pipelines are up to date" in sh("dvc", "repro", cwd=project)
    assert "up to date" in sh("dvc", "status", cwd=project)
