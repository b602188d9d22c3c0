"""Canonical splits of the world and the Great Expectations checks that guard them."""

import json
import shutil

import pandas as pd
import pytest
from helpers import run_t2l, world_params, write_splits

from t2l.data.protocols import stage as protocols
from t2l.data.splits.schema import SPLIT_COLUMNS, read_table
from t2l.data.synth.world import SOURCE, TARGET
from t2l.data.validate.stage import ValidationFailed, run
from t2l.errors import UserError

ZERO_SHOT = {"zero_shot": {"source": {"dataset": SOURCE}, "targets": [{"dataset": TARGET}]}}


@pytest.fixture()
def splits(world, tmp_path):
    out = tmp_path / "splits"
    return out, write_splits(world, out)


def test_world_splits_follow_the_canonical_schema(splits, world):
    out, _ = splits
    train = read_table(out / SOURCE / "train.csv")
    classes = read_table(out / SOURCE / "classes.csv")
    assert list(train.columns) == SPLIT_COLUMNS
    assert list(classes.columns) == ["label", "class_name"]
    assert set(train["split"]) == {"train"} and set(train["dataset"]) == {SOURCE}
    names = dict(zip(classes["label"], classes["class_name"]))
    assert all(names[label] == name for label, name in zip(train["label"], train["class_name"]))
    clips = pd.read_csv(world / SOURCE / "clips.csv").query("split == 'train'")
    assert sorted(train["path"]) == sorted(clips["path"])
    assert sorted(p.name for p in (out / TARGET).glob("*.csv")) == ["classes.csv", "test1.csv", "test2.csv"]


def test_valid_splits_pass_and_the_report_is_written(splits, tmp_path):
    out, roots = splits
    summary = run(out, roots, tmp_path / "report.json")
    assert summary["success"]
    report = json.loads((tmp_path / "report.json").read_text())
    assert {r["file"].rsplit("/", 1)[-1] for r in report["files"]} >= {"train.csv", "val.csv", "test1.csv", "classes.csv"}


def corrupt(out, dataset, split, edit):
    path = out / dataset / f"{split}.csv"
    frame = read_table(path)
    frame = edit(frame)
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("edit, expectation, why, line", [
    (lambda f: f.assign(path=f["path"].where(f.index != 2, "square_growing/missing.mp4")),
     "expect_column_values_to_be_in_set(column=file_exists)", "the video file exists", 4),
    (lambda f: f.assign(path=f["path"].where(f.index != 1, "../../etc/passwd")),
     "expect_column_values_to_not_match_regex(column=path)", "must not climb out", 3),
    (lambda f: f.assign(path=f["path"].where(f.index != 0, "/etc/passwd")),
     "expect_column_values_to_not_match_regex(column=path)", "relative to the dataset root", 2),
    (lambda f: f.assign(label=f["label"].where(f.index != 3, "99")),
     "expect_column_values_to_be_in_set(column=label)", "labels come from the class map", 5),
    (lambda f: f.assign(class_name=f["class_name"].where(f.index != 4, "star growing")),
     "expect_column_pair_values_to_be_equal(column_A=class_name, column_B=class_name_of_label)", "agrees", 6),
    (lambda f: pd.concat([f, f.iloc[[1]]], ignore_index=True),
     "expect_column_values_to_be_unique(column=normalised_path)", "duplicated row", 3),
    (lambda f: f.assign(label=f["label"].where(f.index != 2, None)),
     "expect_column_values_to_not_be_null(column=label)", "every row needs a label", 4),
    (lambda f: f.drop(columns=["class_name"]),
     "expect_table_columns_to_match_set(column_set=", "split files have columns", None),
    (lambda f: f.iloc[0:0], "expect_table_row_count_to_be_between() failed", "lists at least one video", None),
])
def test_bad_rows_fail_with_file_expectation_and_line(splits, tmp_path, edit, expectation, why, line):
    out, roots = splits
    path = corrupt(out, SOURCE, "train", edit)
    with pytest.raises(ValidationFailed) as err:
        run(out, roots, tmp_path / "report.json")
    message = str(err.value)
    assert str(path) in message and expectation in message and why in message
    if line is not None:
        assert f"line {line}:" in message
    report = json.loads((tmp_path / "report.json").read_text())
    assert not report["success"]
    failed = [r for r in report["files"] if not r["success"]]
    assert [r["file"] for r in failed] == [str(path)]


def test_overlapping_zero_shot_classes_are_refused(splits, tmp_path):
    out, roots = splits
    protocols.run(ZERO_SHOT, out, tmp_path / "protocols")
    target_classes = tmp_path / "protocols/zero_shot/targets" / TARGET / "classes.csv"
    classes = read_table(target_classes)
    classes.loc[0, "class_name"] = "Square-Moving_LEFT"  # a source class after normalisation
    classes.to_csv(target_classes, index=False)
    with pytest.raises(ValidationFailed, match=r"disjoint from the source classes[\s\S]*line 2: .*Square-Moving_LEFT"):
        run(out, roots, tmp_path / "report.json", tmp_path / "protocols")


def test_a_label_that_is_not_the_class_its_path_names_is_refused(splits, tmp_path):
    out, roots = splits
    other = read_table(out / SOURCE / "classes.csv").iloc[1]  # row 0 is a video of class 0
    path = corrupt(out, SOURCE, "val", lambda f: f.assign(
        label=f["label"].where(f.index != 0, other["label"]),
        class_name=f["class_name"].where(f.index != 0, other["class_name"])))
    expected = (rf"{path}  \[split suite\]\n.*column_B=path_class_key\) failed for 1 row\(s\): "
                r"the row's label is the class its path names[^\n]*\n    line 2: ")
    with pytest.raises(ValidationFailed, match=expected):
        run(out, roots, tmp_path / "report.json")


def test_cli_stops_with_a_readable_report(world, tmp_path):
    out = tmp_path / "splits"
    (tmp_path / "params.yaml").write_text(world_params(world))
    run_t2l("splits", "--out", str(out), "--params", str(tmp_path / "params.yaml"))
    corrupt(out, SOURCE, "val", lambda f: f.assign(path=f["path"].where(f.index != 0, "../../etc/passwd")))
    proc = run_t2l("validate", "--splits-dir", str(out), "--protocols-dir", str(tmp_path / "none"),
                   "--report", str(tmp_path / "r.json"), "--params", str(tmp_path / "params.yaml"), check=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"{out / SOURCE / 'val.csv'}" in proc.stderr and "line 2: path='../../etc/passwd'" in proc.stderr


def test_an_empty_class_map_is_refused(splits, tmp_path):
    out, roots = splits
    path = out / SOURCE / "classes.csv"
    path.write_text("label,class_name\n")
    with pytest.raises(ValidationFailed, match=rf"{path}  \[class_map suite\]\n.*names at least one class"):
        run(out, roots, tmp_path / "report.json")


@pytest.mark.parametrize("link", ["file", "directory"])
def test_a_symlink_out_of_the_dataset_root_is_refused(world_copy, tmp_path, link):
    out = tmp_path / "splits"
    roots = write_splits(world_copy, out)
    rel = read_table(out / SOURCE / "train.csv")["path"][0]  # line 2
    video, outside = world_copy / SOURCE / rel, tmp_path / "outside"
    if link == "file":  # the video moved out of the root, a link left in its place
        outside.mkdir()
        shutil.move(video, outside / video.name)
        video.symlink_to(outside / video.name)
    else:  # the video's folder
        shutil.move(video.parent, outside)
        video.parent.symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValidationFailed) as err:
        run(out, roots, tmp_path / "report.json")
    message = str(err.value)
    assert f"{out / SOURCE / 'train.csv'}  [split suite]" in message
    assert "expect_column_values_to_be_in_set(column=real_inside_root) failed" in message
    assert "symlinks followed" in message and f"line 2: path={rel!r}" in message


def test_a_symlink_inside_the_dataset_root_is_accepted(world_copy, tmp_path):
    out = tmp_path / "splits"
    roots = write_splits(world_copy, out)
    rel = read_table(out / SOURCE / "train.csv")["path"][0]
    video = world_copy / SOURCE / rel
    shutil.move(video, world_copy / SOURCE / "moved.mp4")
    video.symlink_to(world_copy / SOURCE / "moved.mp4")
    assert run(out, roots, tmp_path / "report.json")["success"]


def test_a_video_in_two_splits_of_a_dataset_is_refused(splits, tmp_path):
    out, roots = splits
    train = read_table(out / SOURCE / "train.csv")
    val_path = out / SOURCE / "val.csv"
    val = read_table(val_path)
    pd.concat([val, train.iloc[[3]].assign(split="val")], ignore_index=True).to_csv(val_path, index=False)
    with pytest.raises(ValidationFailed) as err:
        run(out, roots, tmp_path / "report.json")
    message = str(err.value)
    assert message.startswith("validation failed: 1 of ")
    assert f"{val_path}  [split_overlap suite]" in message and "a video is in at most one of the splits" in message
    assert f"line {len(val) + 2}: path={train['path'][3]!r}" in message and "also_in='train.csv'" in message


def test_a_configured_dataset_without_splits_is_a_clear_error(splits, tmp_path):
    out, roots = splits
    with pytest.raises(UserError, match=rf"^{out / 'ghost'}: no canonical splits of dataset 'ghost' "
                                        r"\(no dataset.json\); `t2l splits` writes them"):
        run(out, {**roots, "ghost": str(tmp_path)}, tmp_path / "report.json")


SPELLINGS = {"dot-slash": lambda p: f"./{p}", "double-slash": lambda p: p.replace("/", "//", 1),
             "dot-segment": lambda p: p.replace("/", "/./", 1)}


@pytest.mark.parametrize("spell", SPELLINGS.values(), ids=SPELLINGS)
def test_a_duplicate_spelled_differently_is_refused(splits, tmp_path, spell):
    out, roots = splits
    train = read_table(out / SOURCE / "train.csv")
    path = corrupt(out, SOURCE, "train", lambda f: pd.concat([f, f.iloc[[1]].assign(path=spell(f["path"][1]))],
                                                             ignore_index=True))
    with pytest.raises(ValidationFailed) as err:
        run(out, roots, tmp_path / "report.json")
    message = str(err.value)
    assert f"{path}  [split suite]" in message and "column=normalised_path) failed for 2 row(s)" in message
    assert f"line 3: path={train['path'][1]!r}" in message and f"line {len(train) + 2}: path={spell(train['path'][1])!r}" in message


@pytest.mark.parametrize("spell", SPELLINGS.values(), ids=SPELLINGS)
def test_a_protocol_leak_spelled_differently_is_refused(splits, tmp_path, spell):
    out, roots = splits
    protocols.run(ZERO_SHOT, out, tmp_path / "protocols")
    source = tmp_path / "protocols/zero_shot/source"
    leaked = spell(read_table(source / "train.csv")["path"][0])
    val = read_table(source / "val.csv")
    pd.concat([val, val.iloc[[0]].assign(path=leaked)], ignore_index=True).to_csv(source / "val.csv", index=False)
    with pytest.raises(ValidationFailed) as err:
        run(out, roots, tmp_path / "report.json", tmp_path / "protocols")
    message = str(err.value)
    assert f"{source / 'val.csv'}  [leak[main] suite]" in message and "column=in_other) failed for 1 row(s)" in message
    assert f"line {len(val) + 2}: path={leaked!r}" in message
