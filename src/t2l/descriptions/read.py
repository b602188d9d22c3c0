"""Reading the describe stage's output, as training, evaluation and tracking do."""

from __future__ import annotations

from pathlib import Path

from t2l.errors import UserError
from t2l.fsio import read_json


def load_descriptions(directory: Path, datasets) -> dict[str, dict[str, list[str]]]:
    """``{dataset: {class: [descriptions]}}`` for those datasets that have a descriptions file."""
    found = {}
    for ds in set(datasets):
        path = Path(directory) / f"{ds}.json"
        if path.is_file():
            found[ds] = read_json(path)
    return found


def class_descriptions(directory: Path, dataset: str, names: list[str]) -> dict[str, list[str]]:
    """The descriptions of every class in ``names`` from ``directory/<dataset>.json``; a UserError
    naming the file (and the class) if it is missing, is not an object, lacks a class, or gives one
    anything but a non-empty list of texts: no class falls back to its name unnoticed."""
    path = Path(directory) / f"{dataset}.json"
    if not path.is_file():
        raise UserError(f"{path}: no such descriptions file (`t2l describe --dataset {dataset}` writes it; "
                        "evaluate.descriptions: false encodes classes by their names instead)")
    found = read_json(path)
    if not isinstance(found, dict):
        raise UserError(f"{path}: expected an object {{class: [descriptions]}}, got {type(found).__name__}")
    missing = [n for n in names if n not in found]
    if missing:
        shown = ", ".join(map(repr, missing[:5])) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise UserError(f"{path}: no descriptions of class(es) {shown} of dataset {dataset!r}")
    for name in names:
        if problem := _problem(found[name]):
            raise UserError(f"{path}: class {name!r}: expected a non-empty list of descriptions, got {problem}")
    return {name: found[name] for name in names}


def _problem(texts) -> str | None:
    """What makes ``texts`` no list of descriptions, or None."""
    if not isinstance(texts, list):
        return type(texts).__name__
    if not texts:
        return "an empty list"
    for text in texts:
        if not isinstance(text, str) or not text.strip():
            return f"a list holding {text!r}"
    return None
