"""``t2l doctor`` names, before any work, every stage whose inputs the active profile does not
produce: each shipped profile produces all of its own, and each broken overlay below names the
stage that would fail and why."""

from pathlib import Path

import pytest
import yaml
from helpers import REPO, run_t2l

from t2l import profiles
from t2l.stage_inputs import unproduced

DIR = REPO / "profiles"


def params_of(name: str) -> dict:
    return yaml.safe_load(profiles.render(name, DIR))


@pytest.mark.parametrize("name", [n for n in profiles.names(DIR) if n != "paper-base"])
def test_every_shipped_profile_produces_what_its_stages_read(name):
    assert unproduced(params_of(name), REPO) == []


def hmdb_only(p: dict) -> dict:
    p["protocols"]["zero_shot"]["targets"] = [{"dataset": "hmdb51", "splits": ["test*"], "overlap": "keep"}]
    return p


BROKEN = {
    "a target the gate reads is gone": (hmdb_only, "register", "zero_shot/ucf101/top1_mean: evaluate@zero_shot "
                                                               "writes no group 'ucf101' (its groups: hmdb51, source_val)"),
    "the gate's evaluation is gone": (lambda p: {**p, "evaluations": {"robustness": "zero_shot"}}, "register",
                                      "no evaluation 'zero_shot' in this profile (evaluations: robustness)"),
    "the registered job is gone": (lambda p: {**p, "jobs": {"zs-vifi": p["jobs"]["zs-vifi"]}}, "register",
                                   "register.job 'zs-t2l' is not a job of this profile (jobs: zs-vifi)"),
    "a job on a protocol not built": (lambda p: {**p, "jobs": {**p["jobs"], "b2n": {"protocol": "base2novel",
                                                                                   "model": "t2l"}}},
                                      "train@b2n", "trains on protocol 'base2novel', which the protocols section"),
    "an evaluation of a protocol not built": (lambda p: {**p, "evaluations": {**p["evaluations"],
                                                                              "fully_supervised": "zero_shot"}},
                                              "evaluate@fully_supervised", "protocol 'fully_supervised'"),
    "a dataset the protocol reads is gone": (lambda p: {**p, "datasets": {k: v for k, v in p["datasets"].items()
                                                                          if k != "k600"}},
                                             "protocols", "reads dataset 'k600', which the datasets section lacks"),
    "robustness of a model nothing trains": (lambda p: {**p, "jobs": {"zs-t2l": p["jobs"]["zs-t2l"]},
                                                        "evaluate": {**p["evaluate"], "robustness": {"models": ["alt"]}}},
                                             "evaluate@robustness", "names 'alt', which no zero_shot job trains"),
    "models trained on other rows": (lambda p: {**p, "evaluations": {**p["evaluations"], "few_shot": "zero_shot"},
                                                "protocols": {**p["protocols"], "few_shot": {
                                                    "datasets": [{"dataset": "ucf101", "train": "train1",
                                                                  "eval": "test1"}]}}},
                                     "evaluate@few_shot", "no zero_shot run trains on the rows few_shot trains on"),
    "an ALT corpus nothing writes": (lambda p: {**p, "entities": {}}, "train@zs-alt",
                                     "model.alt.corpus data/descriptions/k400.entities.json is neither a file nor"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_stage_reading_what_the_profile_does_not_produce_is_named(case):
    change, stage, words = BROKEN[case]
    found = unproduced(change(params_of("zero_shot_k400")), Path("/nonexistent"))
    assert any(s == stage and words in problem for s, problem in found), found


def test_doctor_fails_before_any_work_naming_the_stage(tmp_path):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(hmdb_only(params_of("zero_shot_k400"))))
    out = run_t2l("doctor", "--params", str(tmp_path / "params.yaml"), check=False)
    assert out.returncode == 1
    assert "missing register: register.metrics zero_shot/ucf101/top1_mean" in out.stdout
    assert not (tmp_path / "data").exists()  # nothing was made
