"""``dvc repro`` of the real dvc.yaml on a tiny world: the scratch project the retraining flow ran
every stage of (conftest's ``retrained``) holds every output, and DVC finds it up to date."""

import json
import shutil
import subprocess

import fixtures_prefect  # noqa: F401  (Prefect settings before prefect is imported)
import pandas as pd
import yaml
from fixtures_pipeline import sh as run
from helpers import BIN

from t2l.fsio import file_digest


def sh(*cmd, cwd):
    return run(*cmd, cwd=cwd, env={"MLFLOW_TRACKING_URI": f"sqlite:///{cwd}/mlflow/mlflow.db"})  # store in the copy


def test_every_stage_ran_wrote_its_outputs_and_is_up_to_date(retrained):
    project = retrained.project
    params = yaml.safe_load((project / "params.yaml").read_text())
    lock = yaml.safe_load((project / "dvc.lock").read_text())["stages"]
    datasets, evaluations = list(params["datasets"]), list(params["evaluations"])
    expected = {"synth": ["synthetic"], "splits": datasets, "describe": datasets, "extract": datasets,
                "train": list(params["jobs"]), "evaluate": evaluations}
    for stage, items in expected.items():
        assert sorted(items) == sorted(n.partition("@")[2] for n in lock if n.startswith(f"{stage}@")), stage
    assert {"protocols", "validate", "track", "register"} <= set(lock)
    assert not [n for n in lock if n.startswith("standin@")]  # shipped and frozen: never run
    tracked = json.loads((project / "mlflow/track.json").read_text())
    for protocol in ("base2novel", "few_shot", "fully_supervised"):
        assert "t2l" in tracked["evaluations"][protocol]["synthetic_source"]
    assert json.loads((project / "mlflow/register.json").read_text())["promoted"]  # the first model is champion
    # DVC records what was logged and registered, not run ids or versions: the same for the same inputs
    logged, packaged = (json.loads((project / f"mlflow/{f}.json").read_text()) for f in ("logged", "packaged"))
    ids = [tracked["parent_run_id"], *tracked["runs"].values()]
    assert sorted(tracked["runs"]) == logged["runs"] and not any(i in json.dumps(logged) for i in ids)
    assert packaged["weights_sha256"] == file_digest(project / "models/zero_shot/zs-t2l/main/weights.pt")
    assert {o["path"] for o in lock["track"]["outs"] + lock["register"]["outs"]} == {"mlflow/logged.json",
                                                                                     "mlflow/packaged.json"}
    for evaluation in evaluations:
        metrics = json.loads((project / f"metrics/{evaluation}.json").read_text())
        assert {"vanilla", "t2l"} <= set(metrics)
    assert "ttl" in json.loads((project / "metrics/zero_shot.json").read_text())
    for protocol in ("zero_shot", "base2novel", "few_shot", "fully_supervised"):
        assert json.loads((project / f"data/protocols/{protocol}/protocol.json").read_text())["runs"]
    assert json.loads((project / "data/validation/report.json").read_text())["success"]
    for dataset in datasets:
        classes = pd.read_csv(project / f"data/splits/{dataset}/classes.csv")
        descriptions = json.loads((project / f"data/descriptions/{dataset}.json").read_text())
        assert list(descriptions) == list(classes["class_name"]) and all(len(d) == 4 for d in descriptions.values())
    manifest = pd.read_csv(project / "data/frames/synthetic_source/manifest.csv")
    world = pd.read_csv(project / "data/raw/synthetic/world.csv").query("dataset == 'synthetic_source'")
    assert sorted(manifest["path"]) == sorted(world["path"])
    assert "Running stage" not in sh("dvc", "repro", cwd=project)  # (it records the frozen stand-in's outputs)
    assert "Data and pipelines are up to date" in sh("dvc", "repro", cwd=project)
    assert "up to date" in sh("dvc", "status", cwd=project)


def test_dvc_metrics_show_is_one_short_row_per_headline_with_a_column_per_variant(retrained):
    from t2l.evaluate.headlines import table

    shown = sh("dvc", "metrics", "show", cwd=retrained.project).splitlines()
    assert shown and max(map(len, shown)) < 200, shown
    header = shown[0].split()
    assert header[0] == "Path" and {"t2l", "vanilla", "ttl"} <= set(header)
    rows = {line.split()[0]: line.split()[1:] for line in shown[1:]}
    assert {"metrics/summary/zero_shot/synthetic_target.json", "metrics/summary/base2novel/synthetic_source.hm.json",
            "metrics/summary/few_shot/synthetic_source.k1.json", "metrics/summary/robustness/synthetic_target.shifted.json",
            "metrics/summary/fully_supervised/synthetic_source.json"} <= set(rows)
    metrics = json.loads((retrained.project / "metrics/zero_shot.json").read_text())
    t2l = rows["metrics/summary/zero_shot/synthetic_target.json"][header.index("t2l") - 1]
    assert float(t2l) == round(100 * metrics["t2l"]["synthetic_target"]["top1_mean"], 1)
    assert table("zero_shot", metrics)["synthetic_target"]["t2l"] == float(t2l)


def _experiments(shown: list) -> dict[str, dict]:
    """``{experiment name: its params.yaml values}`` from ``dvc exp show --json`` (a list of
    baselines, each with its experiments and their revisions)."""
    return {rev["name"]: rev["data"]["params"]["params.yaml"]["data"]
            for baseline in shown for experiment in baseline.get("experiments") or [] for rev in experiment["revs"]}


def test_dvc_exp_run_tries_a_params_variant_that_exp_show_lists(retrained, tmp_path):
    project = tmp_path / "project"  # a copy: the experiment re-runs stages of the shared project
    shutil.copytree(retrained.project, project, symlinks=True)
    sh("dvc", "exp", "run", "figures", "-S", "figures.seed=1", "-n", "seed-1", cwd=project)
    assert yaml.safe_load((project / "params.yaml").read_text())["figures"]["seed"] == 1  # applied to the workspace
    shown = subprocess.run([str(BIN / "dvc"), "exp", "show", "--json"], cwd=project, capture_output=True, text=True,
                           check=True).stdout
    experiments = _experiments(json.loads(shown))
    assert experiments["seed-1"]["figures"]["seed"] == 1, experiments
    assert "up to date" in sh("dvc", "status", "figures", cwd=project)
