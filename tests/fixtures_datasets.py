"""Tiny copies of the real datasets in their official layouts (file names, annotation formats).

Every video is a real one: a tiny clip per container (.avi mpeg4, .mp4 H.264, .webm VP9) encoded once
with ffmpeg and copied to each official file name. Each builder returns the canonical rows the
adapter must produce, worked out here independently of the adapters: split -> [(path, label, class_name)].
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import yaml
from helpers import moving_square, run_t2l

from t2l.video.ffmpeg_io import write_video

CODECS = {".avi": "mpeg4", ".mp4": "libx264", ".webm": "libvpx-vp9"}

UCF_CLASSES = {"ApplyEyeMakeup": "apply eye makeup", "HandstandPushups": "handstand pushups",
               "PlayingGuitar": "playing guitar", "YoYo": "yo yo"}
HMDB_CLASSES = ["brush_hair", "kick", "kick_ball", "sword", "sword_exercise"]
HMDB_MARKERS = [1, 2, 0, 1, 2, 0]  # per video, rotated by the split number: 2 train, 2 test, 2 unused
K400_CLASSES = ["abseiling", "dying hair", "passing American football (not in game)", "playing guitar", "tying tie"]
K600_CLASSES = ["abseiling", "acting in play", "adjusting glasses", "arguing", "bathing dog", "dyeing hair",
                "passing american football (not in game)", "tying necktie"]
SSV2_TEMPLATES = ["Holding [something] next to [something]", "Pushing [something] from left to right",
                  "Pushing [something] from right to left", "Putting [something] on a surface"]
SSV2_TRAIN_PER_CLASS = [3, 5, 2, 4]  # unequal, so base-to-novel ranks by frequency


class Clips:
    """Copies one tiny encoded clip per container to any number of paths."""

    def __init__(self, cache: Path):
        self.cache = cache
        cache.mkdir(parents=True, exist_ok=True)

    def put(self, path: Path) -> None:
        clip = self.cache / f"clip{path.suffix}"
        if not clip.exists():
            write_video(moving_square(6, 32, seed=1), clip, fps=8, codec=CODECS[path.suffix])
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, path)


def _lines(path: Path, lines: list[str], crlf: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n" if crlf else "\n").join(lines).encode() + (b"\r\n" if crlf else b"\n"))


def _sorted(rows: dict[str, list]) -> dict[str, list]:
    return {split: sorted(r, key=lambda x: (x[1], x[0])) for split, r in rows.items()}


def ucf_video(folder: str, group: int, clip: int) -> str:
    token = "HandStandPushups" if folder == "HandstandPushups" else folder  # the real file names differ so
    return f"{folder}/v_{token}_g{group:02d}_c{clip:02d}.avi"


def make_ucf101(base: Path, clips: Clips) -> dict:
    """``UCF-101/<Class>/v_<Class>_gGG_cCC.avi`` and, beside it, ``ucfTrainTestlist/`` (CRLF, as released).
    Split k tests groups 2k-1 and 2k, trains on the others."""
    root, ann = base / "UCF-101", base / "ucfTrainTestlist"
    folders = list(UCF_CLASSES)
    _lines(ann / "classInd.txt", [f"{i} {f}" for i, f in enumerate(folders, 1)], crlf=True)
    rows = {}
    for k in (1, 2, 3):
        train, test = [], []
        for label, folder in enumerate(folders):
            for g in range(1, 7):
                for c in (1, 2):
                    video = ucf_video(folder, g, c)
                    (test if g in (2 * k - 1, 2 * k) else train).append((video, label, UCF_CLASSES[folder]))
        _lines(ann / f"trainlist0{k}.txt", [f"{p} {label + 1}" for p, label, _ in train], crlf=True)
        _lines(ann / f"testlist0{k}.txt", [p for p, _, _ in test], crlf=True)
        rows[f"train{k}"], rows[f"test{k}"] = train, test
    for path, _, _ in rows["train1"] + rows["test1"]:
        clips.put(root / path)
    return {"root": root, "options": {"annotations": "../ucfTrainTestlist"}, "rows": _sorted(rows),
            "classes": list(UCF_CLASSES.values())}


def hmdb_video(folder: str, i: int) -> str:
    return f"{folder}/Clip{i}_{folder}_u_nm_np1_fr_med_{i}.avi"


def make_hmdb51(base: Path, clips: Clips, swap: bool = False) -> dict:
    """``hmdb51/<class>/<video>.avi`` + ``hmdb51/testTrainMulti_7030_splits/<class>_test_splitK.txt``.
    ``swap``: the split-1 files of kick/kick_ball and sword/sword_exercise hold each other's videos."""
    root = base / "hmdb51"
    ann = root / "testTrainMulti_7030_splits"
    rows = {f"{s}{k}": [] for k in (1, 2, 3) for s in ("train", "test")}
    for label, folder in enumerate(HMDB_CLASSES):
        for k in (1, 2, 3):
            listed = folder
            if swap and k == 1:
                listed = {"kick": "kick_ball", "kick_ball": "kick", "sword": "sword_exercise",
                          "sword_exercise": "sword"}.get(folder, folder)
            lines = []
            for i in range(6):
                marker = HMDB_MARKERS[(i + k) % 6]
                lines.append(f"{hmdb_video(listed, i).split('/')[1]} {marker} ")
                if marker:
                    rows[f"{'train' if marker == 1 else 'test'}{k}"].append(
                        (hmdb_video(listed, i), label, folder.replace("_", " ")))
            _lines(ann / f"{folder}_test_split{k}.txt", lines)
        for i in range(6):
            clips.put(root / hmdb_video(folder, i))
    return {"root": root, "options": {}, "rows": _sorted(rows), "classes": [f.replace("_", " ") for f in HMDB_CLASSES]}


def youtube_id(*keys) -> str:
    return "-" + hashlib.md5("/".join(map(str, keys)).encode()).hexdigest()[:10]


def make_kinetics(root: Path, clips: Clips, classes: list[str], per_split: dict[str, int], missing: set[str],
                  csv_files: dict[str, str], by_label: bool) -> dict:
    """Kinetics annotation CSVs and clips ``<split>/[<label>/]<id>_<start:06d>_<end:06d>.mp4`` (``by_label``:
    ActivityNet downloader layout, else CVDF's flat one); clips whose stem is in ``missing`` are not written."""
    labels = sorted(classes)
    rows = {}
    for split, n in per_split.items():
        table, rows[split] = [], []
        for cls in classes:
            for i in range(n):
                yid, start = youtube_id(cls, split, i), 10 * i
                stem = f"{yid}_{start:06d}_{start + 10:06d}"
                table.append([cls, yid, start, start + 10, split])
                path = f"{split}/{cls}/{stem}.mp4" if by_label else f"{split}/{stem}.mp4"
                if stem not in missing:
                    clips.put(root / path)
                    rows[split].append((path, labels.index(cls), cls))
        (root / csv_files[split]).parent.mkdir(parents=True, exist_ok=True)
        with open(root / csv_files[split], "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([["label", "youtube_id", "time_start", "time_end", "split"],
                                                          *table])
    return {"root": root, "rows": _sorted(rows), "classes": labels}


def kinetics_stem(cls: str, split: str, i: int) -> str:
    return f"{youtube_id(cls, split, i)}_{10 * i:06d}_{10 * i + 10:06d}"


K400_MISSING = {kinetics_stem("abseiling", "train", 1), kinetics_stem("tying tie", "train", 3)}
K600_MISSING = {kinetics_stem("arguing", "val", 0)}


def make_k400(base: Path, clips: Clips) -> dict:
    """CVDF layout: ``k400/annotations/{train,val}.csv``, ``k400/{train,val}/<file>.mp4``."""
    out = make_kinetics(base / "k400", clips, K400_CLASSES, {"train": 4, "val": 2}, K400_MISSING,
                        {"train": "annotations/train.csv", "val": "annotations/val.csv"}, by_label=False)
    return {**out, "options": {}}


def make_k600(base: Path, clips: Clips) -> dict:
    """DeepMind CSVs (``kinetics600/{train,validate}.csv``) + ActivityNet downloader's label folders."""
    csvs = {"train": "kinetics600/train.csv", "val": "kinetics600/validate.csv"}
    out = make_kinetics(base / "k600", clips, K600_CLASSES, {"train": 2, "val": 2}, K600_MISSING, csvs, by_label=True)
    return {**out, "options": {"annotations": csvs}}


def make_ssv2(base: Path, clips: Clips) -> dict:
    """``labels/labels.json`` + ``labels/{train,validation}.json``; ``20bn-something-something-v2/<id>.webm``."""
    root = base / "ssv2"
    texts = [t.replace("[", "").replace("]", "") for t in SSV2_TEMPLATES]
    (root / "labels").mkdir(parents=True)
    (root / "labels/labels.json").write_text(json.dumps({t: str(i) for i, t in enumerate(texts)}, indent=4))
    rows, vid = {}, 1000
    for split, file, counts in (("train", "train.json", SSV2_TRAIN_PER_CLASS), ("val", "validation.json", [2] * 4)):
        entries, rows[split] = [], []
        for label, template in enumerate(SSV2_TEMPLATES):
            for _ in range(counts[label]):
                vid += 7
                entries.append({"id": str(vid), "label": template.replace("[something]", "a cup"),
                                "template": template, "placeholders": ["a cup"] * template.count("[")})
                path = f"20bn-something-something-v2/{vid}.webm"
                clips.put(root / path)
                rows[split].append((path, label, texts[label]))
        (root / "labels" / file).write_text(json.dumps(entries, indent=1))
    return {"root": root, "options": {}, "rows": _sorted(rows), "classes": texts}


def make_generic(ucf: dict) -> dict:
    """ViFi-CLIP style lists of the UCF-101 tree: ``<path> <id>`` + ``labels.csv`` (``id,name``)."""
    root = ucf["root"]
    (root.parent / "vifi").mkdir()
    names = list(UCF_CLASSES.values())
    (root.parent / "vifi/labels.csv").write_text("id,name\n" + "".join(f"{i},{n}\n" for i, n in enumerate(names)))
    for split, source in (("train", "train1"), ("val", "test1")):
        _lines(root.parent / f"vifi/{split}_split1.txt", [f"{p} {label}" for p, label, _ in ucf["rows"][source]])
    options = {"labels": "../vifi/labels.csv", "path_class": "ucf101",
               "lists": {"train": "../vifi/train_split1.txt", "val": "../vifi/val_split1.txt"}}
    return {"root": root, "options": options, "rows": {"train": ucf["rows"]["train1"], "val": ucf["rows"]["test1"]},
            "classes": names}


ADAPTER = {"ucf101": "ucf101", "hmdb51": "hmdb51", "k400": "kinetics400", "k600": "kinetics600", "ssv2": "ssv2",
           "ucf101_vifi": "generic"}

PROTOCOLS = {
    "zero_shot": {"seed": 0, "source": {"dataset": "k400", "train": "train", "val": "val", "val_per_class": 1},
                  "targets": [{"dataset": "ucf101", "splits": ["test*"], "overlap": "keep"},
                              {"dataset": "hmdb51", "splits": ["test1"]},
                              {"dataset": "k600", "splits": ["val"], "overlap": "drop", "subsets": 3,
                               "subset_size": 3}]},
    "base2novel": {"seed": 0, "seeds": [0, 1], "shots": 2,
                   "datasets": [{"dataset": "hmdb51", "train": "train1", "eval": "test1"},
                                {"dataset": "ssv2", "train": "train", "eval": "val"}]},
    "few_shot": {"seed": 0, "seeds": [0, 1], "shots": [1, 2],
                 "datasets": [{"dataset": "hmdb51", "train": "train1", "eval": "test1"}]},
    "fully_supervised": {"datasets": [{"dataset": "ucf101", "train": "train1", "eval": "test1"}]},
}


def make_all(base: Path) -> dict:
    clips = Clips(base / "clips")
    trees = {"ucf101": make_ucf101(base / "ucf", clips), "hmdb51": make_hmdb51(base, clips),
             "k400": make_k400(base, clips), "k600": make_k600(base, clips), "ssv2": make_ssv2(base, clips)}
    trees["ucf101_vifi"] = make_generic(trees["ucf101"])
    return trees


def params_text(trees: dict, release: bool = False) -> str:
    """The trees as params' datasets; ``release``: compare them with the official releases (they are far smaller)."""
    datasets = {name: {"adapter": ADAPTER[name], "root": str(t["root"]), "watch": str(t["root"]), "options": t["options"],
                       "release": release} for name, t in trees.items()}
    return yaml.safe_dump({"datasets": datasets, "protocols": PROTOCOLS})


def convert_with_cli(base: Path) -> dict:
    """Official trees of the five datasets (+ a generic import), converted, protocols built and
    validated with the real CLI."""
    trees = make_all(base / "raw")
    params = base / "params.yaml"
    params.write_text(params_text(trees))
    d = {"trees": trees, "params": params, "splits": base / "splits", "protocols": base / "protocols",
         "report": base / "report.json"}
    d["splits_out"] = run_t2l("splits", "--out", str(d["splits"]), "--params", str(params)).stdout
    d["protocols_out"] = run_t2l("protocols", "--splits-dir", str(d["splits"]), "--out", str(d["protocols"]),
                                 "--params", str(params)).stdout
    d["validate_out"] = run_t2l("validate", "--splits-dir", str(d["splits"]), "--protocols-dir", str(d["protocols"]),
                                "--report", str(d["report"]), "--params", str(params)).stdout
    return d
