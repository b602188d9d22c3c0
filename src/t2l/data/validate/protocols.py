"""Checks of one protocol directory: every file its protocol.json names, then the protocol's definition.

All protocols: no video in two of a run's train, val and eval files. zero_shot: every evaluated class
is unseen by the source (normalised names and renames), except the overlaps made_by says were kept.
base2novel: base ∩ novel = ∅ and base ∪ novel = the dataset's classes. few_shot and base2novel:
exactly K training rows per class.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from t2l.data.protocols.common import PROTOCOL_FILE
from t2l.data.protocols.renames import seen
from t2l.data.splits.schema import CLASSES_FILE, DATASET_FILE, dataset_info, normalise_class_name, read_table
from t2l.data.validate import files, gx_runner, suites
from t2l.errors import UserError
from t2l.fsio import read_json

ENTRY_KEYS = ("dataset", "csv", "classes")


def protocol_dirs(protocols_dir: Path) -> list[Path]:
    return sorted(p.parent for p in Path(protocols_dir).glob(f"*/{PROTOCOL_FILE}") if not p.parent.name.startswith("."))


def _entries(run: dict) -> list[tuple[str, dict]]:
    val = [("val", run["val"])] if run["val"] else []
    return [("train", run["train"])] + val + [("eval", e) for e in run["eval"]]


def _read(path: Path) -> tuple[dict, list[dict]]:
    """protocol.json with every key the checks rely on."""
    doc = read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list) or "protocol" not in doc:
        raise UserError(f"{path}: expected an object with 'protocol' and a list 'runs'")
    for i, r in enumerate(doc["runs"]):
        for key in ("name", "train", "val", "eval"):
            if key not in r:
                raise UserError(f"{path}: runs[{i}]: missing {key!r}")
        for role, entry in _entries(r):
            missing = [k for k in ENTRY_KEYS + (("name", "group") if role == "eval" else ()) if k not in entry]
            if missing:
                raise UserError(f"{path}: run {r['name']!r}: a {role} entry lacks {', '.join(missing)}")
    return doc, doc["runs"]


class _Files:
    """Class maps and split CSVs of one protocol, each read and checked once."""

    def __init__(self, pdir: Path, splits_dir: Path, roots: dict[str, str]):
        self.pdir, self.splits_dir, self.roots = pdir, Path(splits_dir), roots
        self.maps, self.tables, self.records = {}, {}, []

    def path_class(self, dataset: str) -> str | None:
        if not (self.splits_dir / dataset / DATASET_FILE).is_file():
            raise UserError(f"{self.splits_dir / dataset}: no canonical splits of dataset {dataset!r}")
        return dataset_info(self.splits_dir / dataset).get("path_class")

    def load(self, run: str, entry: dict) -> None:
        dataset = entry["dataset"]
        if dataset not in self.roots:
            raise UserError(f"{self.pdir / PROTOCOL_FILE}: run {run!r} uses dataset {dataset!r}, which "
                            "params.yaml's datasets section does not configure")
        if entry["classes"] not in self.maps:
            self.maps[entry["classes"]], record = files.class_map(self.pdir / entry["classes"])
            self.records.append(record)
        if (entry["csv"], entry["classes"]) not in self.tables:
            self.tables[entry["csv"], entry["classes"]], record = files.split(
                self.pdir / entry["csv"], self.maps[entry["classes"]], dataset, self.roots[dataset],
                self.path_class(dataset))
            self.records.append(record)

    def table(self, entry: dict) -> pd.DataFrame:
        return self.tables[entry["csv"], entry["classes"]]

    def names(self, entry: dict) -> list[str]:
        return self.maps[entry["classes"]]["class_name"].dropna().tolist()


def _leaks(f: _Files, run: dict) -> list[dict]:
    """No video of the run's train file in its val or eval files, nor of its val file in its eval
    files, however their paths are spelled."""
    records, entries = [], _entries(run)
    for i, (role_a, a) in enumerate(entries):
        for role_b, b in entries[i + 1:]:
            if role_a == "eval" or a["dataset"] != b["dataset"]:
                continue
            frame = f.table(b)
            other = set(f.table(a)["path"].map(suites.normalised_path).dropna())
            frame = frame.assign(in_other=frame["path"].map(suites.normalised_path).isin(other))
            why = f"no video of run {run['name']}'s {role_a} file {a['csv']} may be in its {role_b} files"
            records.append(gx_runner.check(f"leak[{run['name']}]", f.pdir / b["csv"], frame,
                                           suites.flag_checks("in_other", why), files.SPLIT_SHOWN))
    return records


def _zero_shot(f: _Files, doc: dict, runs: list[dict]) -> list[dict]:
    targets, records, done = doc.get("made_by", {}).get("targets", {}), [], set()
    for run in runs:
        source = seen(f.names(run["train"]))
        for e in run["eval"]:
            if e["classes"] in done:
                continue
            done.add(e["classes"])
            t = targets.get(e.get("group", e["dataset"]), {})
            kept = {normalise_class_name(c) for c in t.get("kept_overlapping_classes", [])}
            frame = suites.with_normalised_names(f.maps[e["classes"]])
            records.append(gx_runner.check(f"zero_shot_disjoint[{run['name']}]", f.pdir / e["classes"], frame,
                                           suites.disjoint_checks(source - kept), files.CLASS_SHOWN))
    return records


def _base2novel(f: _Files, doc: dict, runs: list[dict]) -> list[dict]:
    records, done = [], set()
    for run in runs:
        groups = {e["group"]: e for e in run["eval"]}
        if not {"base", "novel"} <= set(groups):
            raise UserError(f"{f.pdir / PROTOCOL_FILE}: run {run['name']!r} needs eval groups 'base' and 'novel'")
        base, novel = groups["base"], groups["novel"]
        if (base["classes"], novel["classes"]) in done:
            continue
        done.add((base["classes"], novel["classes"]))
        all_path = f.splits_dir / base["dataset"] / CLASSES_FILE
        every = read_table(all_path)
        names = {"base": set(f.names(base)), "novel": set(f.names(novel)), "all": set(every["class_name"].dropna())}
        for group, other in (("base", "novel"), ("novel", "base")):
            cmap = f.maps[groups[group]["classes"]]
            frame = cmap.assign(in_other=cmap["class_name"].isin(names[other]),
                                unknown=~cmap["class_name"].isin(names["all"]))
            checks = (suites.flag_checks("in_other", "base and novel classes are disjoint")
                      + suites.flag_checks("unknown", f"{group} classes are classes of {base['dataset']} ({all_path})"))
            records.append(gx_runner.check(f"base_novel[{run['name']}]", f.pdir / groups[group]["classes"], frame,
                                           checks, files.CLASS_SHOWN))
        frame = every.assign(unassigned=~every["class_name"].isin(names["base"] | names["novel"]))
        why = f"base ∪ novel ({base['classes']}, {novel['classes']}) is every class of {base['dataset']}"
        records.append(gx_runner.check(f"base_novel[{run['name']}]", all_path, frame,
                                       suites.flag_checks("unassigned", why), files.CLASS_SHOWN))
    return records


def _shots(f: _Files, doc: dict, runs: list[dict]) -> list[dict]:
    """Exactly K training rows per class of the run's class map (K from made_by.shots_per_run)."""
    shots = doc.get("made_by", {}).get("shots_per_run")
    if not isinstance(shots, dict):
        raise UserError(f"{f.pdir / PROTOCOL_FILE}: made_by.shots_per_run is missing")
    records = []
    for run in runs:
        k, cmap = shots.get(run["name"]), f.maps[run["train"]["classes"]]
        if k is None:
            raise UserError(f"{f.pdir / PROTOCOL_FILE}: made_by.shots_per_run has no entry for run {run['name']!r}")
        counts = f.table(run["train"])["label"].value_counts()
        frame = cmap.assign(train_rows=cmap["label"].map(counts).fillna(0).astype(int))
        records.append(gx_runner.check(f"shots[{run['name']}]", f.pdir / run["train"]["classes"], frame,
                                       suites.count_checks("train_rows", k, f"exactly {k} rows per class in "
                                                                            f"{run['train']['csv']}"),
                                       files.CLASS_SHOWN + ["train_rows"]))
    return records


DEFINITION_CHECKS = {
    "zero_shot": [_zero_shot],
    "base2novel": [_base2novel, _shots],
    "few_shot": [_shots],
    "fully_supervised": [],
}


def validate_protocol(pdir: Path, splits_dir: Path, roots: dict[str, str]) -> list[dict]:
    """Records for every file of the protocol in ``pdir`` and for its definition."""
    pdir = Path(pdir)
    doc, runs = _read(pdir / PROTOCOL_FILE)
    if doc["protocol"] not in DEFINITION_CHECKS:
        raise UserError(f"{pdir / PROTOCOL_FILE}: unknown protocol {doc['protocol']!r}; "
                        f"known: {', '.join(DEFINITION_CHECKS)}")
    f = _Files(pdir, splits_dir, roots)
    for run in runs:
        for _, entry in _entries(run):
            f.load(run["name"], entry)
    records = list(f.records)
    for run in runs:
        records += _leaks(f, run)
    for checks in DEFINITION_CHECKS[doc["protocol"]]:
        records += checks(f, doc, runs)
    return records
