"""The ``validate`` stage: run every suite, write a JSON report, stop the pipeline on failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from t2l.data.splits.schema import CLASSES_FILE, dataset_info, read_table
from t2l.data.validate import gx_runner, suites
from t2l.errors import UserError
from t2l.fsio import write_json


class ValidationFailed(UserError):
    """At least one expectation failed; the message is the readable report."""


@dataclass(frozen=True)
class ZeroShotPair:
    source: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class ValidateConfig:
    zero_shot: tuple[ZeroShotPair, ...] = field(default_factory=tuple)


def _check(name: str, file: Path, frame, checks: list, show: list[str]) -> dict:
    failures = gx_runner.run(name, frame, checks, show)
    return {"file": str(file), "suite": name, "rows": len(frame), "success": not failures, "failures": failures}


def validate_dataset(split_dir: Path, dataset: str, root: str) -> list[dict]:
    """Class map and every split file of one dataset directory."""
    records = []
    classes_path = split_dir / CLASSES_FILE
    classes = read_table(classes_path)
    records.append(_check("class_map", classes_path, classes, suites.class_map_checks(classes), ["label", "class_name"]))
    for split in dataset_info(split_dir)["splits"].values():
        path = split_dir / split["file"]
        frame = suites.prepare_split(read_table(path), classes, root)
        records.append(_check("split", path, frame, suites.split_checks(frame, classes, dataset),
                              ["path", "label", "class_name"]))
    return records


def validate_zero_shot(splits_dir: Path, pair: ZeroShotPair) -> list[dict]:
    source = read_table(splits_dir / pair.source / CLASSES_FILE)["class_name"].dropna().tolist()
    records = []
    for target in pair.targets:
        path = splits_dir / target / CLASSES_FILE
        classes = suites.with_normalised_names(read_table(path))
        records.append(_check(f"zero_shot_disjoint[{pair.source}]", path, classes, suites.disjoint_checks(source),
                              ["label", "class_name"]))
    return records


def format_report(records: list[dict]) -> str:
    bad = [r for r in records if not r["success"]]
    lines = [f"validation failed: {len(bad)} of {len(records)} checked files"]
    for r in bad:
        lines.append(f"{r['file']}  [{r['suite']} suite]")
        for f in r["failures"]:
            args = ", ".join(f"{k}={v}" for k, v in f["arguments"].items())
            count = f["unexpected_count"]
            lines.append(f"  {f['expectation']}({args}) failed" + (f" for {count} row(s)" if count else "")
                         + (f": {f['why']}" if f["why"] else ""))
            if f["observed"] is not None and not f["rows"]:
                lines.append(f"    observed: {f['observed']}")
            for row in f["rows"]:
                values = ", ".join(f"{k}={v!r}" for k, v in row.items() if k != "line")
                lines.append(f"    line {row['line']}: {values}")
    return "\n".join(lines)


def run(cfg: ValidateConfig, splits_dir: Path, roots: dict[str, str], report: Path) -> dict:
    """Validate every dataset in ``roots`` (name -> video root) and the zero-shot pairs; write
    ``report``; raise ValidationFailed on any failure."""
    splits_dir = Path(splits_dir)
    records = []
    for dataset, root in roots.items():
        records += validate_dataset(splits_dir / dataset, dataset, root)
    for pair in cfg.zero_shot:
        records += validate_zero_shot(splits_dir, pair)
    summary = {"success": all(r["success"] for r in records), "files": records}
    write_json(report, summary)
    if not summary["success"]:
        raise ValidationFailed(format_report(records))
    return summary
