"""Dataset adapters on tiny trees in the official layouts: canonical rows, corrupt annotations, swapped labels."""

import json
import re
import shutil

import pytest
from fixtures_datasets import ADAPTER, HMDB_CLASSES, K400_MISSING, K600_MISSING, Clips, make_hmdb51
from helpers import run_t2l

from t2l.data.splits import adapters
from t2l.data.splits.schema import SPLIT_COLUMNS, read_table
from t2l.data.splits.ucf101 import decamel
from t2l.data.validate.stage import format_report, validate_dataset
from t2l.errors import UserError


@pytest.mark.parametrize("dataset", list(ADAPTER))
def test_official_layouts_become_the_canonical_rows(real_datasets, dataset):
    tree, out = real_datasets["trees"][dataset], real_datasets["splits"] / dataset
    classes = read_table(out / "classes.csv")
    assert list(classes["class_name"]) == tree["classes"]
    assert list(classes["label"]) == [str(i) for i in range(len(classes))]
    info = json.loads((out / "dataset.json").read_text())
    assert set(info["splits"]) == set(tree["rows"])
    for split, expected in tree["rows"].items():
        frame = read_table(out / f"{split}.csv")
        assert list(frame.columns) == SPLIT_COLUMNS
        assert set(frame["split"]) == {split} and set(frame["dataset"]) == {dataset}
        assert list(zip(frame["path"], frame["label"].astype(int), frame["class_name"])) == expected, split
    report = json.loads(real_datasets["report"].read_text())
    checked = [r for r in report["files"]
               if r["file"].startswith(str(out) + "/") and r["suite"] in ("split", "class_map")]
    assert len(checked) == len(tree["rows"]) + 1 and all(r["success"] for r in checked)


def test_splits_and_validate_cli_pass_and_report_missing_kinetics_videos(real_datasets):
    assert "validate: " in real_datasets["validate_out"] and "files passed" in real_datasets["validate_out"]
    assert "train: 2 of 20 videos missing" in real_datasets["splits_out"]
    assert "val: 1 of 16 videos missing" in real_datasets["splits_out"]
    for dataset, missing, split in (("k400", K400_MISSING, "train"), ("k600", K600_MISSING, "val")):
        info = json.loads((real_datasets["splits"] / dataset / "dataset.json").read_text())
        assert info["missing_videos"][split]["count"] == len(missing)
        assert set(info["missing_videos"][split]["first"]) == missing


def test_validate_compares_each_dataset_with_its_official_release(real_datasets, tmp_path):
    from fixtures_datasets import params_text

    params = tmp_path / "params.yaml"
    params.write_text(params_text(real_datasets["trees"], release=True))
    proc = run_t2l("validate", "--splits-dir", str(real_datasets["splits"]), "--protocols-dir", str(tmp_path / "none"),
                   "--report", str(tmp_path / "report.json"), "--params", str(params), check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    report = proc.stderr
    for dataset, classes in (("ucf101", 101), ("hmdb51", 51), ("k400", 400), ("k600", 600), ("ssv2", 174)):
        ours = json.loads((real_datasets["splits"] / dataset / "dataset.json").read_text())["classes"]
        assert f"{dataset}/dataset.json  [release suite]" in report
        assert re.search(rf"{dataset}/dataset.json  \[release suite\]\n  expect_column_max_to_be_between\(column=classes\) "
                         rf"failed: the official \w+ release has {classes} classes[^\n]*\n    observed: {ours}\n", report)
    ucf_videos = len(list(real_datasets["trees"]["ucf101"]["root"].rglob("*.avi")))
    assert f"release has 13,320 .avi files under the dataset root\n    observed: {ucf_videos}\n" in report
    assert "ucf101_vifi/dataset.json" not in report  # a published split list: no release to compare with


def test_a_dataset_as_released_passes_and_its_missing_youtube_videos_are_counted(real_datasets, tmp_path, monkeypatch):
    from t2l.data.splits import releases
    from t2l.data.validate import release

    info = json.loads((real_datasets["splits"] / "k400" / "dataset.json").read_text())
    monkeypatch.setitem(releases.RELEASES, "kinetics400", releases.Release(info["classes"]))
    record = release.record(real_datasets["splits"] / "k400", "kinetics400", str(real_datasets["trees"]["k400"]["root"]))
    assert record["success"] and record["observed"] == {"classes": info["classes"]}
    assert record["missing_videos"] == {"train": len(K400_MISSING), "val": 0}
    assert release.record(real_datasets["splits"] / "k400", "generic", "unused") is None


@pytest.mark.parametrize("folder, text", [
    ("ApplyEyeMakeup", "apply eye makeup"), ("YoYo", "yo yo"), ("PlayingDaf", "playing daf"), ("Skijet", "skijet"),
    ("TaiChi", "tai chi"), ("PushUps", "push ups"), ("HandstandPushups", "handstand pushups"),
    ("BlowDryHair", "blow dry hair"), ("SkyDiving", "sky diving"), ("CuttingInKitchen", "cutting in kitchen"),
    ("WalkingWithDog", "walking with dog"), ("Nunchucks", "nunchucks"), ("BasketballDunk", "basketball dunk"),
])
def test_ucf_class_folders_are_de_camel_cased(folder, text):
    assert decamel(folder) == text


def test_one_dataset_by_cli_with_its_default_layout(real_datasets, tmp_path):
    root = real_datasets["trees"]["hmdb51"]["root"]
    run_t2l("splits", "--adapter", "hmdb51", "--root", str(root), "--out", str(tmp_path))
    for split in ("classes", "train1", "test3"):
        expected = (real_datasets["splits"] / f"hmdb51/{split}.csv").read_bytes()
        assert (tmp_path / f"hmdb51/{split}.csv").read_bytes() == expected


def _replace_line(n, text):
    return lambda lines: lines[:n - 1] + [text] + lines[n:]


def _duplicate_line(n):
    return lambda lines: lines[:n] + [lines[n - 1]] + lines[n:]


CORRUPTIONS = [  # dataset, annotation file (relative to the dataset root), edit, line, message
    ("ucf101", "../ucfTrainTestlist/classInd.txt", _replace_line(2, "2 HandstandPushups extra"), 2,
     "expected 2 column(s)"),
    ("ucf101", "../ucfTrainTestlist/classInd.txt", _replace_line(3, "2 PlayingGuitar"), 3, "duplicate class id 2"),
    ("ucf101", "../ucfTrainTestlist/trainlist01.txt", _replace_line(12, "Foo/v_Foo_g08_c01.avi 1"), 12,
     "unknown class 'Foo'"),
    ("ucf101", "../ucfTrainTestlist/trainlist01.txt", _replace_line(5, "ApplyEyeMakeup/v_ApplyEyeMakeup_g03_c01.avi 9"),
     5, "unknown class id 9"),
    ("ucf101", "../ucfTrainTestlist/testlist02.txt", _replace_line(4, "YoYo/v_YoYo_g03_c01.avi 4"), 4,
     "expected 1 column(s)"),
    ("ucf101", "../ucfTrainTestlist/testlist01.txt", _duplicate_line(2), 3, "duplicate video"),
    ("hmdb51", "testTrainMulti_7030_splits/kick_test_split2.txt",
     _replace_line(3, "Clip2_kick_u_nm_np1_fr_med_2.avi 3"), 3, "marker must be 0 (unused), 1 (train) or 2 (test)"),
    ("hmdb51", "testTrainMulti_7030_splits/sword_test_split1.txt", _replace_line(4, "Clip3_sword.avi"), 4,
     "expected 2 column(s)"),
    ("hmdb51", "testTrainMulti_7030_splits/brush_hair_test_split3.txt", _duplicate_line(1), 2, "duplicate video"),
    ("k400", "annotations/train.csv", _replace_line(4, "abseiling,abc,10,20,train,extra"), 4, "expected 5 columns"),
    ("k400", "annotations/val.csv", _duplicate_line(3), 4, "duplicate clip id"),
    ("k400", "annotations/val.csv", _replace_line(2, "abseiling,abc,ten,20,val"), 2, "time_start must be an integer"),
    ("k600", "kinetics600/validate.csv", _replace_line(1, "label,youtube_id,time_start,split"), 1,
     "header needs column(s) time_end"),
    ("ssv2", "labels/train.json", lambda lines: lines[:-3], None, "invalid JSON"),
    ("ssv2", "labels/labels.json", _replace_line(3, '    "Pushing something from left to right": "0",'), 3,
     "duplicate class id 0"),
    ("ssv2", "labels/validation.json", lambda lines: [line.replace("on a surface", "onto a table") for line in lines], 52,
     "unknown class 'Putting something onto a table'"),
    ("ssv2", "labels/validation.json", lambda lines: [line.replace('"1112"', '"1105"') for line in lines], 11,
     "duplicate video id '1105'"),
    ("ucf101_vifi", "../vifi/labels.csv", _replace_line(4, "1,yo yo"), 4, "duplicate id 1"),
    ("ucf101_vifi", "../vifi/train_split1.txt", _replace_line(7, "ApplyEyeMakeup/v_ApplyEyeMakeup_g04_c01.avi 7"), 7,
     "unknown class id 7"),
    ("ucf101_vifi", "../vifi/val_split1.txt", _replace_line(2, "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c02.avi"), 2,
     "expected 2 column(s)"),
]


@pytest.mark.parametrize("dataset, file, edit, line, message", CORRUPTIONS)
def test_corrupt_annotations_fail_naming_file_and_line(real_datasets, tmp_path, dataset, file, edit, line, message):
    tree = real_datasets["trees"][dataset]
    base = tmp_path / "raw"
    shutil.copytree(tree["root"].parent, base)
    root = base / tree["root"].name
    path = (root / file).resolve()
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    with pytest.raises(UserError) as err:
        adapters.build(ADAPTER[dataset], dataset, root, tmp_path / "splits", tree["options"])
    text = str(err.value)
    assert text.startswith(f"{path}: line ") and message in text
    if line is not None:
        assert text.startswith(f"{path}: line {line}: ")


def test_cli_reports_a_corrupt_annotation_without_traceback(real_datasets, tmp_path):
    shutil.copytree(real_datasets["trees"]["hmdb51"]["root"], tmp_path / "hmdb51")
    split_file = tmp_path / "hmdb51/testTrainMulti_7030_splits/kick_ball_test_split1.txt"
    split_file.write_text(split_file.read_text().replace(" 2 \n", " 7 \n", 1))
    proc = run_t2l("splits", "--adapter", "hmdb51", "--root", str(tmp_path / "hmdb51"), "--out", str(tmp_path / "s"),
                   check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert re.search(rf"{re.escape(str(split_file))}: line \d+: marker must be", proc.stderr)


def test_unknown_adapter_option_is_refused(real_datasets, tmp_path):
    with pytest.raises(UserError, match="adapter 'ucf101' has no option.*annotation_dir.*known: annotations, splits"):
        adapters.build("ucf101", "ucf101", real_datasets["trees"]["ucf101"]["root"], tmp_path,
                       {"annotation_dir": "x"})


def test_swapped_hmdb_labels_are_reported_row_by_row(tmp_path):
    """Published HMDB-51 split files with kick/kick_ball and sword/sword_exercise swapped: validation names
    exactly the rows whose label is not the class their path names."""
    tree = make_hmdb51(tmp_path / "raw", Clips(tmp_path / "clips"), swap=True)
    out = adapters.build("hmdb51", "hmdb51", tree["root"], tmp_path / "splits")
    records = validate_dataset(out, "hmdb51", str(tree["root"]))
    failed = {r["file"].rsplit("/", 1)[-1]: r for r in records if not r["success"]}
    assert sorted(failed) == ["test1.csv", "train1.csv"]
    for name, record in failed.items():
        frame = read_table(out / name)
        folder = frame["path"].str.split("/").str[0]
        expected = [i + 2 for i in frame.index[folder.str.replace("_", " ") != frame["class_name"]]]
        assert len(expected) == 8 and set(folder[[i - 2 for i in expected]]) == set(HMDB_CLASSES[1:])
        [failure] = record["failures"]
        assert failure["expectation"] == "expect_column_pair_values_to_be_equal"
        assert failure["unexpected_count"] == len(expected)
        assert [row["line"] for row in failure["rows"]] == expected
    report = format_report(records)
    assert "swapped labels" in report and f"{out / 'train1.csv'}  [split suite]" in report


@pytest.mark.parametrize("dataset, file", [
    ("ucf101_vifi", "../vifi/labels.csv"),
    ("k400", "annotations/train.csv"),
    ("ssv2", "labels/labels.json"),
    ("ucf101", "../ucfTrainTestlist/classInd.txt"),
])
def test_a_byte_order_mark_is_not_part_of_the_first_field(real_datasets, tmp_path, dataset, file):
    tree = real_datasets["trees"][dataset]
    base = tmp_path / "raw"
    shutil.copytree(tree["root"].parent, base, symlinks=True)
    root = base / tree["root"].name
    path = (root / file).resolve()
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # UTF-8 as Excel and Notepad save it
    out = adapters.build(ADAPTER[dataset], dataset, root, tmp_path / "splits", tree["options"])
    written = sorted(p.name for p in out.glob("*.csv"))
    assert written == sorted(p.name for p in (real_datasets["splits"] / dataset).glob("*.csv"))
    for name in written:  # the same splits as without the mark
        assert (out / name).read_bytes() == (real_datasets["splits"] / dataset / name).read_bytes(), name


def test_doctor_counts_each_converted_dataset_and_estimates_its_archives(real_datasets, tmp_path):
    import yaml
    from fixtures_datasets import params_text

    from t2l.doctor import checks

    project = tmp_path / "project"
    shutil.copytree(real_datasets["splits"], project / "data/splits")
    params = yaml.safe_load(params_text(real_datasets["trees"], release=True))
    params["clip"] = {"short_side": 32}
    (project / "bad.pt").write_bytes(b"not torch")
    params["model"] = {"pretrained": "bad.pt"}
    found = {c.what.split(":")[0] if c.what.startswith("datasets.") and ": " in c.what else c.what: c
             for c in checks(params, project)}
    ucf = next(c for c in found.values() if c.what.startswith("datasets.ucf101: "))
    ours = json.loads((real_datasets["splits"] / "ucf101" / "dataset.json").read_text())["classes"]
    assert ucf.what.startswith(f"datasets.ucf101: {ours} classes, ") and not ucf.ok and not ucf.required
    assert "official release has 101 classes" in ucf.fix
    k400 = next(c for c in found.values() if c.what.startswith("datasets.k400: "))
    assert f"{len(K400_MISSING)} listed but missing (deleted upstream; left out)" in k400.what
    estimates = [c for c in found.values() if " frame archives: about " in c.what]
    assert len(estimates) == len(real_datasets["trees"]) and all("from 3 sampled" in c.what for c in estimates)
    disk = next(c for c in found.values() if c.what.startswith("free disk for the frame archives"))
    assert disk.ok and disk.required
    weights = found["bad.pt loads"]
    assert not weights.ok and "not a loadable state dict" in weights.fix
