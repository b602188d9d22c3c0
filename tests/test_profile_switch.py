"""``t2l profile``: switching profiles sets the active profile's lock and results aside and
brings back the new profile's, byte for byte, so neither profile reads the other's and nothing is
lost; the report then shows only the active profile's evaluations."""

import json

import yaml
from helpers import REPO, run_t2l

DIR = str(REPO / "profiles")


def files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and ".t2l" not in p.parts}


def test_switching_profiles_keeps_each_profiles_lock_and_results(tmp_path):
    run_t2l("profile", "embedded", "--out", str(tmp_path / "params.yaml"), "--profiles-dir", DIR)
    (tmp_path / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
    (tmp_path / "metrics/summary/zero_shot").mkdir(parents=True)
    (tmp_path / "metrics/zero_shot.json").write_text(json.dumps({"t2l": {"source_val": {"top1": 0.5}}}))
    (tmp_path / "metrics/summary/zero_shot/source_val.json").write_text("{}")
    (tmp_path / "mlflow").mkdir()
    (tmp_path / "mlflow/logged.json").write_text("{}")
    embedded = files(tmp_path)

    out = run_t2l("profile", "zero_shot_k400", "--out", str(tmp_path / "params.yaml"), "--profiles-dir", DIR).stdout
    assert "kept embedded's dvc.lock, metrics, mlflow/logged.json in .t2l/profiles/embedded" in out
    assert "zero_shot_k400 has no results in this project yet" in out
    assert set(files(tmp_path)) == {"params.yaml"}
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/zero_shot.json").write_text("{}")  # the paper profile's own result
    paper = files(tmp_path)

    out = run_t2l("profile", "embedded", "--out", str(tmp_path / "params.yaml"), "--profiles-dir", DIR).stdout
    assert "restored embedded's dvc.lock, metrics, mlflow/logged.json" in out
    assert files(tmp_path) == embedded
    run_t2l("profile", "zero_shot_k400", "--out", str(tmp_path / "params.yaml"), "--profiles-dir", DIR)
    assert files(tmp_path) == paper
    run_t2l("profile", "zero_shot_k400", "--out", str(tmp_path / "params.yaml"), "--profiles-dir", DIR)
    assert files(tmp_path) == paper  # re-writing the active profile moves nothing


def test_an_unknown_profile_moves_nothing(tmp_path):
    run_t2l("profile", "embedded", "--out", str(tmp_path / "params.yaml"), "--profiles-dir", DIR)
    (tmp_path / "dvc.lock").write_text("stages: {}\n")
    out = run_t2l("profile", "nope", "--out", str(tmp_path / "params.yaml"), "--profiles-dir", DIR, check=False)
    assert out.returncode == 1 and "no profile 'nope'" in out.stdout + out.stderr
    assert (tmp_path / "dvc.lock").is_file()


def test_the_report_shows_only_the_active_profiles_evaluations(tmp_path):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["evaluations"] = {"zero_shot": "zero_shot", "robustness": "zero_shot"}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp_path / "zero_shot.json").write_text(json.dumps({"t2l": {"source_val": {"top1": 0.25}}}))
    (tmp_path / "base2novel.json").write_text(json.dumps({"t2l": {"synthetic_source": {  # another profile's
        "base_top1": 0.1, "novel_top1": 0.1, "hm": 0.1}}}))
    out = run_t2l("report", "--metrics-dir", str(tmp_path), "--params", str(tmp_path / "params.yaml")).stdout
    assert "| T2L (TTL + TFD) | 25.0 |" in out and "base2novel" not in out
    assert out.rstrip().endswith("Not evaluated yet (embedded): robustness (dvc repro evaluate@robustness)")
