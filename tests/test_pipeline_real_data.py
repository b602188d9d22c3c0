"""The paper's setup end to end in a clone of this repository, which holds the embedded default's
committed results: a user's overlay of a paper profile (UCF-101 -> HMDB-51, one evaluation) and
``make paper`` of ``zero_shot_k400`` with its shipped jobs and evaluations, both on the datasets'
official layouts (tiny trees made with ffmpeg) with only the sizes shrunk (stand-in-sized CLIP from
a local weights file, 4 frames at 64 px, one epoch). Each runs ``dvc repro`` through ``register``;
``t2l report``, ``dvc metrics show`` and MLflow show only the active profile's results, and
switching back restores the embedded default's."""

import json
import os
import shutil
import subprocess

import mlflow
import torch
import yaml
from fixtures_pipeline import sh
from helpers import BIN, REPO, run_t2l

from t2l import profiles
from t2l.data.protocols.reader import read_runs
from t2l.model.backbone import create_clip
from t2l.track.names import flat_metrics

SMALL = {  # what the overlays shrink: sizes only
    "weights": {}, "entities": {"k400": {"backend": "template"}},  # offline; the profile asks the LLM
    "model": {"backbone": "t2l-tiny", "pretrained": "models/backbones/tiny.pt", "grad_checkpointing": False},
    "clip": {"frames": 4, "crop": 64, "short_side": 64},
    "train": {"epochs": 1, "batch_size": 4, "workers": 0, "eval_batch_size": 4},
    "describe": {"backend": "template"},
    "evaluate": {"batch_size": 4, "workers": 0, "robustness": {"splits": 1, "perturbations": {
        kind: None for kind in ("blur", "jpeg", "brightness", "contrast", "frame_drop", "freeze", "shuffle", "speed",
                                "static_occlusion", "moving_occlusion")}}},  # reverse and gaussian_noise left
    "figures": {"videos": 0},
}


def clone(project):
    """This repository's tracked files as a fresh git clone has them (the working tree's version)."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    for name in (f.decode() for f in files if f):
        if (REPO / name).is_file() and not name.startswith(("tests/", "docs/", "bench/")):
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, project / name)
    (project / ".venv").symlink_to(BIN.parent)  # make's setup finds it up to date
    sh("git", "init", "-q", cwd=project)
    sh("git", "add", "-A", cwd=project)
    sh("git", "-c", "user.name=t2l", "-c", "user.email=t2l@localhost", "commit", "-qm", "clone", cwd=project)
    sh("dvc", "config", "--local", "core.analytics", "false", cwd=project)


def datasets(real_datasets, project, names):
    """Params entries of the tiny official trees, copied into the project's data/raw."""
    raw = real_datasets["params"].parent / "raw"
    if not (project / "data/raw").exists():
        shutil.copytree(raw, project / "data/raw")
    out = {}
    for name in names:
        tree = real_datasets["trees"][name]
        root = str((project / "data/raw" / tree["root"].relative_to(raw)).relative_to(project))
        out[name] = {"root": root, "watch": root, "options": tree["options"], "release": False}  # far smaller
    return out


def overlay(project, name, base, values):
    (project / "profiles" / f"{name}.yaml").write_text(yaml.safe_dump({"extends": base, "profile": name, **values}))


def results(project, env):
    """What a researcher sees: ``t2l report``, the files ``dvc metrics show`` lists, MLflow's experiments."""
    report = run_t2l("report", cwd=project).stdout
    shown = json.loads(sh("dvc", "metrics", "show", "--json", cwd=project, env=env))
    files = {f for rev in shown.values() for f in rev.get("data", {})}
    mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
    experiments = {e.name for e in mlflow.search_experiments()}
    return report, files, experiments


def assert_the_champion_answers_with_the_evaluations_text(project, env, root):
    """``t2l predict`` (the registered champion) on HMDB-51's first test split with its class list:
    every class is encoded by the descriptions evaluation used. (Its answers are the evaluation's
    exactly only where the frames are too: these 32-px clips are resized by ffmpeg into the archives
    and by torch when served, and a model trained one epoch on them has near ties everywhere;
    tests/test_serve_rest.py checks the answers on the embedded world, where nothing is resized.)"""
    ref = next(e for e in read_runs(project / "data/protocols/zero_shot")[0].eval if e.name == "hmdb51/test1")
    videos = [str(project / root / p) for p in ref.rows()["path"]]
    answers = run_t2l("predict", *videos, "--classes", ",".join(ref.class_names()), "--top-k", "5", cwd=project,
                      env={**os.environ, **env})
    answered = json.loads(answers.stdout)
    assert len(answered) == len(videos) and all(sorted(a["classes"]) == sorted(ref.class_names()) for a in answered)
    assert {t for a in answered for t in a["text"]} == {"descriptions of hmdb51 (template)"}


def test_paper_profiles_run_through_register_in_a_clone_and_switching_back_restores_the_embedded_results(
        real_datasets, tmp_path):
    project = tmp_path / "clone"
    project.mkdir()
    clone(project)
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{project}/mlflow/mlflow.db"}
    embedded = run_t2l("report", cwd=project).stdout
    assert "synthetic_target" in embedded
    (project / "models/backbones").mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(create_clip("t2l-tiny").state_dict(), project / "models/backbones/tiny.pt")

    # A user's overlay: UCF-101 -> HMDB-51, the zero-shot evaluation only, one job.
    shipped = yaml.safe_load(profiles.render("zero_shot_k400", REPO / "profiles"))
    users = {**SMALL, "datasets": {"k400": None, "k600": None, **datasets(real_datasets, project, ["ucf101", "hmdb51"])},
             "entities": {}, "model": {**SMALL["model"], "alt": None},
             "protocols": {"zero_shot": {"source": {"dataset": "ucf101", "train": "train1", "val": "test1",
                                                    "val_per_class": 1},
                                         "targets": [{"dataset": "hmdb51", "splits": ["test1", "test2"], "overlap": "keep"}]}},
             "jobs": {name: None for name in shipped["jobs"] if name != "zs-t2l"},
             "evaluations": {"robustness": None}}
    overlay(project, "ucf-to-hmdb", "zero_shot_k400", users)
    switched = run_t2l("profile", "ucf-to-hmdb", cwd=project).stdout
    assert "kept embedded's dvc.lock, metrics" in switched
    assert not (project / "dvc.lock").exists() and not (project / "metrics").exists()
    assert run_t2l("report", cwd=project).stdout.startswith("Not evaluated yet (ucf-to-hmdb): zero_shot")
    doctor = run_t2l("doctor", cwd=project, check=False)  # the shipped gate names targets this profile lacks
    assert doctor.returncode == 1, doctor.stdout
    assert "register: register.metrics zero_shot/ucf101/top1_mean: evaluate@zero_shot writes no group 'ucf101'" \
        in doctor.stdout
    users["register"] = {"metrics": {m: None for m in shipped["register"]["metrics"] if "/hmdb51/" not in m}}
    overlay(project, "ucf-to-hmdb", "zero_shot_k400", users)
    run_t2l("profile", "ucf-to-hmdb", cwd=project)
    run_t2l("doctor", cwd=project)

    out = sh("dvc", "repro", cwd=project, env=env)
    assert "Running stage 'register'" in out and "Running stage 'evaluate@robustness'" not in out
    report, files, experiments = results(project, env)
    assert "hmdb51" in report and "synthetic" not in report and "base2novel" not in report
    assert files == {"metrics/summary/zero_shot/hmdb51.json", "metrics/summary/zero_shot/source_val.json"}
    assert experiments == {"Default", "t2l-ucf-to-hmdb", "t2l-ucf-to-hmdb/zero_shot"}
    registered = json.loads((project / "mlflow/register.json").read_text())
    assert registered["promoted"] and registered["name"] == "t2l-ucf-to-hmdb-t2l-tiny"
    assert_the_champion_answers_with_the_evaluations_text(project, env, users["datasets"]["hmdb51"]["root"])
    users_report = report

    # make paper EXP=<zero_shot_k400 with only the sizes shrunk>: its shipped jobs and evaluations.
    four = datasets(real_datasets, project, ["k400", "hmdb51", "ucf101", "k600"])
    k400 = {**SMALL, "datasets": four,
            "protocols": {"zero_shot": {"source": {"val_per_class": 1},
                                        "targets": [{**t, "splits": ["test1", "test2"]} if t["dataset"] != "k600" else
                                                    {**t, **({"subsets": 2, "subset_size": 3} if t.get("subsets") else {})}
                                                    for t in shipped["protocols"]["zero_shot"]["targets"]]}},
            "jobs": {name: {"train": {"epochs": 1}} for name, job in shipped["jobs"].items() if job.get("train")}}
    overlay(project, "zero_shot_k400-small", "zero_shot_k400", k400)
    out = sh("make", "paper", "EXP=zero_shot_k400-small", cwd=project, env=env)
    assert "kept ucf-to-hmdb's dvc.lock, metrics" in out
    for job in shipped["jobs"]:
        assert f"Running stage 'train@{job}'" in out
    assert "Running stage 'evaluate@robustness'" in out and "Running stage 'register'" in out
    metrics = flat_metrics(json.loads((project / "metrics/zero_shot.json").read_text())["t2l"], "zero_shot")
    assert set(shipped["register"]["metrics"]) | {"zero_shot/k600_reference/top1_mean"} <= set(metrics)
    report, files, experiments = results(project, env)
    assert "k600_novel" in report and "| robustness |" in report and "synthetic" not in report
    assert "hmdb51" in report and "ucf101" in report
    assert {f.split("/")[2] for f in files} == {"zero_shot", "robustness"}
    assert {"t2l-zero_shot_k400-small/zero_shot", "t2l-zero_shot_k400-small/robustness"} <= experiments
    logged = json.loads((project / "mlflow/logged.json").read_text())
    assert set(logged["evaluations"]) == {"zero_shot", "robustness"}
    assert json.loads((project / "mlflow/register.json").read_text())["promoted"]
    assert_the_champion_answers_with_the_evaluations_text(project, env, four["hmdb51"]["root"])

    # Back to the user's overlay, then to the embedded default: each profile's results come back.
    run_t2l("profile", "ucf-to-hmdb", cwd=project)
    assert run_t2l("report", cwd=project).stdout == users_report
    switched = run_t2l("profile", "embedded", cwd=project).stdout
    assert "restored embedded's dvc.lock, metrics" in switched
    sh("dvc", "checkout", "--allow-missing", cwd=project)  # the embedded models were never built in this clone
    assert run_t2l("report", cwd=project).stdout == embedded
    changed = sh("git", "status", "--porcelain", "--", "params.yaml", "dvc.lock", "metrics", cwd=project)
    assert changed == ""
