"""Profiles: the embedded default and the paper's experiments as ready params files, each of
which parses into every stage's config, expands dvc.yaml into the stages it needs (and no
embedded-world stage for real data), and gates promotion on metrics its protocols produce."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import REPO

from t2l import profiles
from t2l.data.datasets import DatasetSpec
from t2l.data.protocols.stage import configs as protocol_configs
from t2l.descriptions.config import DescribeConfig
from t2l.errors import UserError
from t2l.evaluate.stage import EvaluateConfig
from t2l.figures.stage import FigureConfig
from t2l.jobs import evaluations, extract_config, jobs, model_fields
from t2l.model.config import variant
from t2l.model.weights import WeightsSpec
from t2l.params import parse
from t2l.track.registry import RegisterConfig
from t2l.track.stage import TrackConfig
from t2l.train.loop import TrainConfig

DIR = REPO / "profiles"
RUNNABLE = [n for n in profiles.names(DIR) if n != "paper-base"]
REAL = [n for n in RUNNABLE if not n.startswith("embedded")]


def params_of(name: str) -> dict:
    return yaml.safe_load(profiles.render(name, DIR))


def test_the_shipped_params_file_is_the_embedded_profile():
    assert (REPO / "params.yaml").read_text() == profiles.render("embedded", DIR)


@pytest.mark.parametrize("name", RUNNABLE)
def test_every_section_of_a_profile_parses(name):
    p = params_of(name)
    assert p["profile"] == name
    for key, values in p["datasets"].items():
        parse(DatasetSpec, values, f"datasets.{key}")
    for key, values in p["weights"].items():
        parse(WeightsSpec, values, f"weights.{key}")
    assert protocol_configs(p["protocols"])
    extract_config(p)
    parse(DescribeConfig, p["describe"], "describe")
    parse(EvaluateConfig, p["evaluate"], "evaluate")
    parse(TrackConfig, p["track"], "track")
    parse(FigureConfig, p.get("figures") or {}, "figures")
    register = parse(RegisterConfig, p["register"], "register")
    for key, job in jobs(p).items():
        variant(job.model, **model_fields(p))
        parse(TrainConfig, {**p["train"], **job.train}, f"jobs.{key}.train")
    assert register.job in p["jobs"] and set(evaluations(p).values()) <= {j.protocol for j in jobs(p).values()}


@pytest.mark.parametrize("name", REAL)
def test_the_paper_profiles_train_and_test_each_peer_as_its_paper(name):
    p = params_of(name)
    evaluate = parse(EvaluateConfig, p["evaluate"], "evaluate")
    assert (evaluate.clips, evaluate.crops, evaluate.view_average, evaluate.target_entities) == (1, 1, "softmax", True)
    for key, job in jobs(p).items():
        train = parse(TrainConfig, {**p["train"], **job.train}, f"jobs.{key}.train")
        cfg = variant(job.model, **model_fields(p))
        if cfg.family == "tc_clip":  # its reference's mixup and CutMix, its "{name}." class text
            assert (train.mixup, train.cutmix, train.mixup_switch_prob, train.weight_decay) == (0.8, 1.0, 0.5, 0.001)
            assert cfg.tc_clip.class_text == "reference" and cfg.decay_policy == "all"
        elif cfg.family == "alt":  # Sec. 3.4: 30 epochs, 5 of them warmup; App. B: mixup
            assert (train.epochs, round(train.warmup * train.epochs), train.mixup, train.cutmix) == (30, 5, 0.8, 0.0)
        else:
            assert train.mixup == train.cutmix == 0.0  # T2L's recipe, for T2L and ViFi-CLIP
    embedded = parse(EvaluateConfig, params_of("embedded")["evaluate"], "evaluate")
    assert (embedded.view_average, embedded.target_entities) == ("logits", False)  # the embedded default as it was


def _groups(p: dict) -> set[str]:
    """The metric prefixes <protocol>/<dataset or target group> the profile's protocols produce."""
    out = set()
    for protocol, cfg in protocol_configs(p["protocols"]).items():
        items = cfg.targets if protocol == "zero_shot" else cfg.datasets
        out |= {f"{protocol}/{getattr(t, 'group', None) or t.dataset}" for t in items}
    return out


@pytest.mark.parametrize("name", RUNNABLE)
def test_promotion_is_gated_on_the_profiles_own_targets(name):
    p = params_of(name)
    gate = p["register"]["metrics"]
    assert gate and all("/".join(m.split("/")[:2]) in _groups(p) for m in gate)


def stages(tmp_path: Path, params: str) -> list[str]:
    shutil.copy(REPO / "dvc.yaml", tmp_path / "dvc.yaml")
    (tmp_path / "src/t2l").mkdir(parents=True)
    shutil.copy(REPO / "src/t2l/layout.py", tmp_path / "src/t2l/layout.py")
    (tmp_path / "params.yaml").write_text(params)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=tmp_path, check=True)
    proc = subprocess.run([sys.executable, "-m", "dvc", "stage", "list"], cwd=tmp_path, capture_output=True,
                          text=True, check=True)
    return proc.stdout.splitlines()


@pytest.mark.parametrize("name", REAL)
def test_a_real_data_profile_has_no_embedded_world_in_its_pipeline(tmp_path, name):
    listed = stages(tmp_path, profiles.render(name, DIR))
    names = [line.split()[0] for line in listed]
    assert "weights@ViT-B-16-openai" in names
    assert not [n for n in names if n.startswith(("synth@", "standin@"))]
    p = params_of(name)
    assert {f"extract@{d}" for d in p["datasets"]} | {f"train@{j}" for j in p["jobs"]} <= set(names)
    assert "data/raw/synthetic" not in " ".join(listed) and "models/standin" not in " ".join(listed)


def test_the_embedded_profile_ships_its_stand_in_and_world_stages(tmp_path):
    names = [line.split()[0] for line in stages(tmp_path, profiles.render("embedded", DIR))]
    assert names[:2] == ["synth@synthetic", "standin@t2l-tiny"] and not [n for n in names if n.startswith("weights@")]


def test_overlays_merge_empty_and_remove(tmp_path):
    (tmp_path / "base.yaml").write_text("a: {x: 1, y: 2}  # kept\nb: {z: 3}\nc: [1, 2]\nd: 4\n")
    (tmp_path / "top.yaml").write_text("extends: base\na: {y: 5}\nb: {}\nc: [3]\nd: null\n")
    text = profiles.render("top", tmp_path)
    assert yaml.safe_load(text) == {"a": {"x": 1, "y": 5}, "b": {}, "c": [3]} and "# kept" in text
    (tmp_path / "loop.yaml").write_text("extends: loop\n")
    with pytest.raises(UserError, match="loop -> loop extends itself"):
        profiles.render("loop", tmp_path)
    with pytest.raises(UserError, match="no profile 'nope'"):
        profiles.render("nope", tmp_path)


def test_doctor_names_what_a_real_data_profile_still_lacks(tmp_path):
    from t2l.doctor import checks

    found = {c.what: c for c in checks(params_of("zero_shot_k400"), tmp_path)}
    assert not found["datasets.k400.root data/raw/k400"].ok and "official layout" in found["datasets.k400.root data/raw/k400"].fix
    weights = found["model.pretrained models/backbones/ViT-B-16-openai.pt (not there yet: weights@ViT-B-16-openai makes it)"]
    assert weights.ok  # made by the weights stage, before any stage reads it
    assert found["a CUDA GPU"].required
    embedded = checks(params_of("embedded"), REPO)
    assert next(c for c in embedded if c.what.startswith("model.pretrained")).ok  # the shipped stand-in
    assert not next(c for c in embedded if c.what == "a CUDA GPU").required
