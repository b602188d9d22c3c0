"""A paper profile end to end: ``zero_shot_k400`` on the five datasets' official layouts (tiny
trees made with ffmpeg), run by ``dvc repro`` from the splits to the registry, with only the
sizes shrunk (stand-in-sized CLIP, 4 frames at 64 px, one epoch). Its gate metrics exist, its
model is promoted, and ``t2l predict`` answers from the champion."""

import json
import os
import shutil

import torch
import yaml
from fixtures_pipeline import scratch_project, sh
from helpers import REPO, run_t2l

from t2l import profiles
from t2l.model.backbone import create_clip
from t2l.track.names import flat_metrics


def test_the_zero_shot_k400_profile_runs_end_to_end_on_official_layouts(real_datasets, tmp_path):
    p = yaml.safe_load(profiles.render("zero_shot_k400", REPO / "profiles"))
    raw = real_datasets["params"].parent / "raw"
    for name, spec in p["datasets"].items():
        tree = real_datasets["trees"][name]
        root = (tmp_path / "project/data/raw" / tree["root"].relative_to(raw)).relative_to(tmp_path / "project")
        spec.update(root=str(root), watch=str(root), options=tree["options"], release=False)  # far smaller than released
    p["weights"] = {}
    p["model"].update(backbone="t2l-tiny", pretrained="models/backbones/tiny.pt", grad_checkpointing=False)
    p["clip"] = {"frames": 4, "crop": 64, "short_side": 64}
    zero_shot = p["protocols"]["zero_shot"]
    zero_shot["source"]["val_per_class"] = 1
    zero_shot["targets"][2].update(subsets=2, subset_size=3)  # the tiny K600 has 4 novel classes
    for target in zero_shot["targets"][:2]:
        target["splits"] = ["test1", "test2"]  # two of the three splits keep the mean ± std path, in less time
    p["jobs"] = {"zs-t2l": p["jobs"]["zs-t2l"]}
    p["evaluations"] = {"zero_shot": "zero_shot"}
    p["train"].update(epochs=1, batch_size=4, workers=0, eval_batch_size=4)
    p["describe"]["backend"] = "template"
    p["entities"]["k400"]["backend"] = "template"  # offline; the profile asks the LLM
    p["evaluate"].update(batch_size=4, workers=0)
    p["figures"]["videos"] = 0
    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(raw, project / "data/raw")
    (project / "models/backbones").mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(create_clip("t2l-tiny").state_dict(), project / "models/backbones/tiny.pt")
    scratch_project(project, p)
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{project}/mlflow/mlflow.db"}

    out = sh("dvc", "repro", cwd=project, env=env)
    assert "synth@" not in out and "standin@" not in out
    for name in p["datasets"]:
        assert f"Running stage 'extract@{name}'" in out
    metrics = flat_metrics(json.loads((project / "metrics/zero_shot.json").read_text())["t2l"], "zero_shot")
    assert set(p["register"]["metrics"]) <= set(metrics)
    assert {"zero_shot/k600_novel/top1_mean", "zero_shot/k600_reference/top1_mean"} <= set(metrics)
    assert json.loads((project / "mlflow/register.json").read_text())["promoted"]
    video = next((project / "data/raw").rglob("*.avi"))
    answer = run_t2l("predict", str(video), "--classes", "brush hair,golf", cwd=project, env={**os.environ, **env})
    assert json.loads(answer.stdout)[0]["classes"][0] in ("brush hair", "golf")
    untrained = run_t2l("predict", str(video), "--classes", "brush hair,golf", "--model", "vanilla", cwd=project,
                        env={**os.environ, **env})  # CLIP zero-shot on the profile's weights, nothing trained
    assert json.loads(untrained.stdout)[0]["classes"][0] in ("brush hair", "golf")
