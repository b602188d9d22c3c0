"""The ``validate`` stage: run every suite, write a JSON report, stop the pipeline on failure."""

from __future__ import annotations

from pathlib import Path

from t2l.data.splits.schema import CLASSES_FILE, dataset_info
from t2l.data.validate import files, overlap, release
from t2l.data.validate.protocols import protocol_dirs, validate_protocol
from t2l.errors import UserError
from t2l.fsio import write_json


class ValidationFailed(UserError):
    """At least one expectation failed; the message is the readable report."""


def validate_dataset(split_dir: Path, dataset: str, root: str) -> list[dict]:
    """Class map and every split file of one dataset directory, and no video in two of its splits."""
    info = dataset_info(split_dir)
    classes, record = files.class_map(split_dir / CLASSES_FILE)
    records, frames = [record], {}
    split_files = {name: split["file"] for name, split in info["splits"].items()}
    for name, file in split_files.items():
        frames[name], record = files.split(split_dir / file, classes, dataset, root, info.get("path_class"))
        records.append(record)
    return records + overlap.records(split_dir, split_files, frames)


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


def run(splits_dir: Path, roots: dict[str, str], report: Path, protocols_dir: Path | None = None,
        releases: dict[str, str] | None = None) -> dict:
    """Validate every dataset in ``roots`` (name -> video root), each in ``releases`` (name ->
    adapter) against its official release, and every protocol directory under ``protocols_dir``;
    write ``report``; raise ValidationFailed on any failure."""
    splits_dir = Path(splits_dir)
    records = []
    for dataset, root in roots.items():
        records += validate_dataset(splits_dir / dataset, dataset, root)
        if dataset in (releases or {}):
            records += filter(None, [release.record(splits_dir / dataset, releases[dataset], root)])
    for pdir in protocol_dirs(protocols_dir) if protocols_dir else []:
        records += validate_protocol(pdir, splits_dir, roots)
    summary = {"success": all(r["success"] for r in records), "files": records}
    write_json(report, summary)
    if not summary["success"]:
        raise ValidationFailed(format_report(records))
    return summary
