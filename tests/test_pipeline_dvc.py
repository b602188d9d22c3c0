"""``dvc repro`` of the real dvc.yaml on a tiny world, in a scratch copy of the project."""

import json

import pandas as pd
import pytest
import yaml

from fixtures_pipeline import scratch_project, sh as run, small_params


def sh(*cmd, cwd):
    return run(*cmd, cwd=cwd, env={"MLFLOW_TRACKING_URI": f"sqlite:///{cwd}/mlflow/mlflow.db"})  # store in the copy


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return scratch_project(tmp_path_factory.mktemp("project"), small_params())


def test_repro_runs_every_stage_then_is_up_to_date(project):
    out = sh("dvc", "repro", cwd=project)
    jobs = yaml.safe_load((project / "params.yaml").read_text())["jobs"]
    evaluations = ("zero_shot", "base2novel", "few_shot", "fully_supervised", "robustness")
    for stage in ("synth", "splits", "protocols", "validate", "describe@synthetic_source", "describe@synthetic_target",
                  "extract", "pretrain", *(f"train@{j}" for j in jobs), *(f"evaluate@{p}" for p in evaluations),
                  "track", "register"):
        assert f"Running stage '{stage}'" in out
    tracked = json.loads((project / "mlflow/track.json").read_text())
    assert {f"{p}/synthetic_source/t2l" for p in ("base2novel", "few_shot", "fully_supervised")} <= set(tracked["runs"])
    assert json.loads((project / "mlflow/register.json").read_text())["promoted"]  # the first model is champion
    for protocol in evaluations:
        metrics = json.loads((project / f"metrics/{protocol}.json").read_text())
        assert {"vanilla", "t2l"} <= set(metrics)
    zero_shot = json.loads((project / "metrics/zero_shot.json").read_text())
    assert {"adapters", "tfd", "ttl"} <= set(zero_shot)
    for protocol in ("zero_shot", "base2novel", "few_shot", "fully_supervised"):
        assert json.loads((project / f"data/protocols/{protocol}/protocol.json").read_text())["runs"]
    assert json.loads((project / "data/validation/report.json").read_text())["success"]
    for dataset in ("synthetic_source", "synthetic_target"):
        classes = pd.read_csv(project / f"data/splits/{dataset}/classes.csv")
        descriptions = json.loads((project / f"data/descriptions/{dataset}.json").read_text())
        assert list(descriptions) == list(classes["class_name"]) and all(len(d) == 4 for d in descriptions.values())
    manifest = pd.read_csv(project / "data/frames/synthetic_source/manifest.csv")
    world = pd.read_csv(project / "data/raw/synthetic/world.csv").query("dataset == 'synthetic_source'")
    assert sorted(manifest["path"]) == sorted(world["path"])
    assert "Data and pipelines are up to date" in sh("dvc", "repro", cwd=project)
    assert "up to date" in sh("dvc", "status", cwd=project)
