"""Protocol builders on the official-layout fixtures: definitions, determinism, and their validation suites."""

import copy
import json
import shutil

import pandas as pd
import pytest
from fixtures_datasets import PROTOCOLS, SSV2_TEMPLATES

from t2l.data.protocols import stage
from t2l.data.splits.schema import read_table
from t2l.data.validate.protocols import validate_protocol
from t2l.data.validate.stage import format_report
from t2l.errors import UserError

ENTRY = {"dataset", "csv", "classes"}


def doc(d, protocol):
    return json.loads((d["protocols"] / protocol / "protocol.json").read_text())


def rows(d, protocol, entry):
    """A protocol CSV as (path, label, class_name) with the labels checked against its own class map."""
    frame = read_table(d["protocols"] / protocol / entry["csv"])
    names = read_table(d["protocols"] / protocol / entry["classes"])["class_name"].tolist()
    assert [names[int(label)] for label in frame["label"]] == list(frame["class_name"])
    assert set(frame["dataset"]) <= {entry["dataset"]}
    return list(zip(frame["path"], frame["label"].astype(int), frame["class_name"]))


def names(d, protocol, entry):
    return read_table(d["protocols"] / protocol / entry["classes"])["class_name"].tolist()


def canonical(d, dataset, split):
    return read_table(d["splits"] / dataset / f"{split}.csv")


def roots(d):
    return {name: str(t["root"]) for name, t in d["trees"].items()}


def test_every_protocol_is_built_in_the_shared_format_and_validates(real_datasets):
    d = real_datasets
    assert sorted(p.name for p in d["protocols"].iterdir()) == sorted(PROTOCOLS)
    for protocol in PROTOCOLS:
        spec = doc(d, protocol)
        assert list(spec) == ["protocol", "seed", "made_by", "runs"] and spec["protocol"] == protocol
        for run in spec["runs"]:
            assert list(run) == ["name", "train", "val", "eval"]
            assert set(run["train"]) == ENTRY and (run["val"] is None or set(run["val"]) == ENTRY)
            for e in run["eval"]:
                assert list(e) == ["name", "group", "dataset", "csv", "classes"]
            for e in [run["train"], run["val"] or run["train"], *run["eval"]]:
                rows(d, protocol, e)
    report = json.loads(d["report"].read_text())
    suites = {r["suite"].split("[")[0] for r in report["files"]}
    assert report["success"] and {"leak", "shots", "base_novel", "zero_shot_disjoint"} <= suites
    assert "k600: 4 class(es) seen by the source (drop), 2 of them renamed: dying hair -> dyeing hair, " \
           "tying tie -> tying necktie; 4 evaluated" in d["protocols_out"]


def test_zero_shot_trains_on_the_source_and_evaluates_unseen_target_classes(real_datasets):
    d = real_datasets
    spec = doc(d, "zero_shot")
    [run] = spec["runs"]
    assert run["name"] == "main" and run["train"]["dataset"] == "k400"
    k400_train = canonical(d, "k400", "train")
    assert rows(d, "zero_shot", run["train"]) == list(zip(k400_train["path"], k400_train["label"].astype(int),
                                                          k400_train["class_name"]))
    val = pd.DataFrame(rows(d, "zero_shot", run["val"]), columns=["path", "label", "class_name"])
    assert set(val["path"]) <= set(canonical(d, "k400", "val")["path"]) and val["label"].value_counts().max() == 1
    assert len(val) == 5
    evals = {e["name"]: e for e in run["eval"]}
    assert list(evals) == ["ucf101/test1", "ucf101/test2", "ucf101/test3", "hmdb51/test1",
                           "k600/val/subset1", "k600/val/subset2", "k600/val/subset3"]
    assert {e["group"] for e in run["eval"]} == {"ucf101", "hmdb51", "k600"}
    targets = spec["made_by"]["targets"]
    # ucf101 (overlap: keep): every class evaluated, the shared one recorded
    assert targets["ucf101"]["overlapping_classes"] == ["playing guitar"]
    assert len(names(d, "zero_shot", evals["ucf101/test2"])) == 4
    assert len(rows(d, "zero_shot", evals["ucf101/test2"])) == len(canonical(d, "ucf101", "test2"))
    # k600 (overlap: drop): the classes absent from K400 after normalisation and renames
    k600 = targets["k600"]
    assert sorted(k600["overlapping_classes"]) == [
        "abseiling", "dyeing hair", "passing american football (not in game)", "tying necktie"]
    assert k600["renamed_classes"] == [{"source": "dying hair", "target": "dyeing hair"},
                                       {"source": "tying tie", "target": "tying necktie"}]
    assert k600["evaluated_classes"] == 4
    novel = {"acting in play", "adjusting glasses", "arguing", "bathing dog"}
    subsets = [names(d, "zero_shot", evals[f"k600/val/subset{i}"]) for i in (1, 2, 3)]
    assert all(len(s) == 3 and set(s) <= novel for s in subsets) and len({tuple(s) for s in subsets}) > 1
    k600_val = canonical(d, "k600", "val")
    for i, s in enumerate(subsets, 1):
        got = rows(d, "zero_shot", evals[f"k600/val/subset{i}"])
        assert sorted(p for p, _, _ in got) == sorted(k600_val.loc[k600_val["class_name"].isin(s), "path"])


def test_base_to_novel_splits_classes_by_training_frequency(real_datasets):
    d = real_datasets
    spec = doc(d, "base2novel")
    assert [r["name"] for r in spec["runs"]] == ["hmdb51/seed0", "hmdb51/seed1", "ssv2/seed0", "ssv2/seed1"]
    assert "ties broken by class name" in spec["made_by"]["ranking"]
    runs = {r["name"]: r for r in spec["runs"]}
    texts = [t.replace("[", "").replace("]", "") for t in SSV2_TEMPLATES]
    for dataset, base, novel in (
            ("ssv2", [texts[1], texts[3]], [texts[0], texts[2]]),  # 5 and 4 training videos vs 3 and 2
            ("hmdb51", ["brush hair", "kick", "kick ball"], ["sword", "sword exercise"])):  # all tied: by name
        run = runs[f"{dataset}/seed0"]
        groups = {e["group"]: e for e in run["eval"]}
        assert [e["name"] for e in run["eval"]] == [f"{dataset}/base", f"{dataset}/novel"] and run["val"] is None
        assert names(d, "base2novel", groups["base"]) == base and names(d, "base2novel", groups["novel"]) == novel
        assert names(d, "base2novel", run["train"]) == base
        eval_split = canonical(d, dataset, {"ssv2": "val", "hmdb51": "test1"}[dataset])
        for group, classes in (("base", base), ("novel", novel)):
            assert sorted(p for p, _, _ in rows(d, "base2novel", groups[group])) == \
                sorted(eval_split.loc[eval_split["class_name"].isin(classes), "path"])
        trains = [pd.DataFrame(rows(d, "base2novel", runs[f"{dataset}/seed{s}"]["train"]), columns=["p", "l", "c"])
                  for s in (0, 1)]
        assert all(list(t["c"].value_counts().sort_index()) == [2] * len(base) for t in trains)
    assert spec["made_by"]["datasets"]["ssv2"] == {"train": "train", "eval": "val", "classes": 4, "base": 2, "novel": 2,
                                                   "tied_at_boundary": [texts[3]]}


def test_few_shot_draws_k_videos_per_class_nested_within_a_seed(real_datasets):
    d = real_datasets
    spec = doc(d, "few_shot")
    runs = {r["name"]: r for r in spec["runs"]}
    assert list(runs) == ["hmdb51/k1/seed0", "hmdb51/k1/seed1", "hmdb51/k2/seed0", "hmdb51/k2/seed1"]
    train1, test1 = canonical(d, "hmdb51", "train1"), canonical(d, "hmdb51", "test1")
    picked = {}
    for name, run in runs.items():
        got = pd.DataFrame(rows(d, "few_shot", run["train"]), columns=["path", "label", "class_name"])
        k = spec["made_by"]["shots_per_run"][name]
        assert list(got["label"].value_counts().sort_index()) == [k] * 5 and set(got["path"]) <= set(train1["path"])
        picked[name] = set(got["path"])
        [e] = run["eval"]
        assert e["name"] == "hmdb51/test1" and [p for p, _, _ in rows(d, "few_shot", e)] == list(test1["path"])
    assert picked["hmdb51/k1/seed0"] < picked["hmdb51/k2/seed0"]
    assert picked["hmdb51/k1/seed1"] < picked["hmdb51/k2/seed1"]
    assert picked["hmdb51/k1/seed0"] != picked["hmdb51/k1/seed1"]


def test_fully_supervised_copies_the_official_pair(real_datasets):
    d = real_datasets
    [run] = doc(d, "fully_supervised")["runs"]
    assert run["name"] == "ucf101/test1" and run["val"] is None
    for entry, split in ((run["train"], "train1"), (run["eval"][0], "test1")):
        frame = canonical(d, "ucf101", split)
        expected = list(zip(frame["path"], frame["label"].astype(int), frame["class_name"]))
        assert rows(d, "fully_supervised", entry) == expected


def files_of(directory):
    return {p.relative_to(directory): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_builders_are_deterministic_per_seed(real_datasets, tmp_path):
    d = real_datasets
    stage.run(PROTOCOLS, d["splits"], tmp_path / "a")
    stage.run(PROTOCOLS, d["splits"], tmp_path / "b")
    built = files_of(tmp_path / "a")
    assert built == files_of(tmp_path / "b") == files_of(d["protocols"])
    reseeded = copy.deepcopy(PROTOCOLS)
    for protocol in reseeded.values():
        protocol["seed"] = 1
    stage.run(reseeded, d["splits"], tmp_path / "c")
    other = files_of(tmp_path / "c")
    assert set(other) == set(built)
    changed = {str(p).split("/")[0] for p in built if built[p] != other[p] and not str(p).endswith("protocol.json")}
    assert changed == {"zero_shot", "base2novel", "few_shot"}  # fully_supervised samples nothing


@pytest.mark.parametrize("protocol, change, message", [
    ("zero_shot", {"targets": [{"dataset": "ucf101"}]},
     r"ucf101 shares 1 class\(es\) with the source k400: \['playing guitar'\]; set its overlap to keep"),
    ("zero_shot", {"targets": [{"dataset": "k600", "splits": ["val"], "overlap": "drop", "subsets": 3,
                                "subset_size": 5}]}, "subset_size must be 1..4"),
    ("zero_shot", {"targets": [{"dataset": "hmdb51", "splits": ["val*"]}]},
     r"no split of 'hmdb51' matches \['val\*'\]"),
    ("few_shot", {"shots": [3]}, "class 'brush hair' has 2 video"),
    ("base2novel", {"datasets": [{"dataset": "nope"}]}, "no canonical splits of dataset 'nope'"),
    ("fully_supervised", {"datasets": [{"dataset": "ucf101", "train": "train1", "eval": "test9"}]},
     "has no split 'test9'"),
])
def test_impossible_protocols_are_refused(real_datasets, tmp_path, protocol, change, message):
    section = {protocol: {**PROTOCOLS[protocol], **change}}
    with pytest.raises(UserError, match=message):
        stage.run(section, real_datasets["splits"], tmp_path)


def broken_copy(d, tmp_path, protocol):
    return shutil.copytree(d["protocols"] / protocol, tmp_path / protocol)


def edit_csv(path, edit):
    frame = read_table(path)
    edit(frame).to_csv(path, index=False)


def failed(records):
    return {(r["file"], r["suite"].split("[")[0]): r for r in records if not r["success"]}


def test_few_shot_suite_wants_exactly_k_rows_per_class_and_no_leak(real_datasets, tmp_path):
    d = real_datasets
    p = broken_copy(d, tmp_path, "few_shot")
    test_rows = read_table(p / "hmdb51/test1.csv")
    edit_csv(p / "hmdb51/k2/seed1/train.csv", lambda f: pd.concat([f.iloc[1:], test_rows.iloc[[3]]], ignore_index=True))
    records = validate_protocol(p, d["splits"], roots(d))
    bad = failed(records)
    assert set(bad) == {(str(p / "hmdb51/classes.csv"), "shots"), (str(p / "hmdb51/test1.csv"), "leak")}
    [shots] = bad[str(p / "hmdb51/classes.csv"), "shots"]["failures"]
    assert [(r["line"], r["train_rows"]) for r in shots["rows"]] == [(2, 1), (3, 3)]  # brush hair -1, kick +1
    [leak] = bad[str(p / "hmdb51/test1.csv"), "leak"]["failures"]
    assert [r["line"] for r in leak["rows"]] == [5] and "hmdb51/k2/seed1" in leak["why"]
    report = format_report(records)
    assert "exactly 2 rows per class in hmdb51/k2/seed1/train.csv" in report and "line 5: path=" in report


def test_base_to_novel_suite_wants_a_partition_of_the_classes(real_datasets, tmp_path):
    d = real_datasets
    p = broken_copy(d, tmp_path, "base2novel")
    base_class = "Putting something on a surface"
    edit_csv(p / "ssv2/novel_classes.csv",
             lambda f: pd.DataFrame({"label": ["0", "1"], "class_name": [f.loc[0, "class_name"], base_class]}))
    bad = failed(validate_protocol(p, d["splits"], roots(d)))
    assert (str(p / "ssv2/novel_classes.csv"), "base_novel") in bad  # base ∩ novel
    cover = bad[str(d["splits"] / "ssv2/classes.csv"), "base_novel"]  # base ∪ novel misses a class
    missing = [(r["line"], r["class_name"]) for r in cover["failures"][0]["rows"]]
    assert missing == [(4, "Pushing something from right to left")]
    overlap = bad[str(p / "ssv2/novel_classes.csv"), "base_novel"]["failures"][0]
    assert overlap["why"] == "base and novel classes are disjoint" and [r["line"] for r in overlap["rows"]] == [3]


def test_zero_shot_suite_refuses_a_target_class_the_source_has_seen(real_datasets, tmp_path):
    d = real_datasets
    p = broken_copy(d, tmp_path, "zero_shot")
    edit_csv(p / "targets/hmdb51/classes.csv",
             lambda f: f.assign(class_name=f["class_name"].where(f.index != 2, "Dyeing-Hair")))
    bad = failed(validate_protocol(p, d["splits"], roots(d)))
    [failure] = bad[str(p / "targets/hmdb51/classes.csv"), "zero_shot_disjoint"]["failures"]
    # K400's "dying hair", renamed in K600
    assert [(r["line"], r["class_name"]) for r in failure["rows"]] == [(4, "Dyeing-Hair")]
    assert "disjoint from the source classes" in failure["why"]
