"""The ``file`` backend: descriptions a user already has, as JSON or as the reference repo's CSV.

JSON: ``{class: [description, ...]}`` or ``{class: description}``. CSV: the reference repo's
``SNo,Class Name,GPT3 discription`` (or ``class_name,description``), several rows per class allowed.
Classes match by readable name, so ``ApplyEyeMakeup`` in the file describes ``apply eye makeup``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from t2l.descriptions.names import readable
from t2l.descriptions.text import clean
from t2l.errors import UserError
from t2l.fsio import read_json

CSV_COLUMNS = (("Class Name", "GPT3 discription"), ("class_name", "description"))


def _json_entries(path: Path) -> list[tuple[str, str]]:
    data = read_json(path)
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object {{class name: [descriptions]}}")
    entries = []
    for name, value in data.items():
        texts = [value] if isinstance(value, str) else value
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise UserError(f"{path}: {name!r}: expected a description or a list of descriptions")
        entries += [(name, t) for t in texts]
    return entries


def _csv_entries(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = next((c for c in CSV_COLUMNS if set(c) <= set(reader.fieldnames or ())), None)
        if columns is None:
            raise UserError(f"{path}: expected columns {' or '.join(','.join(c) for c in CSV_COLUMNS)}; "
                            f"found {','.join(reader.fieldnames or ())}")
        return [(row[columns[0]], row[columns[1]] or "") for row in reader]


def describe(names: list[str], path: Path) -> dict[str, list[str]]:
    """Descriptions of every class of ``names`` found in ``path``; a UserError lists the missing ones."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such descriptions file (describe.file.path)")
    entries = _json_entries(path) if path.suffix.lower() == ".json" else _csv_entries(path)
    found: dict[str, list[str]] = {}
    for name, text in entries:
        if text := clean(text):
            found.setdefault(readable(name), []).append(text)
    missing = [n for n in names if readable(n) not in found]
    if missing:
        raise UserError(f"{path}: no description for {len(missing)} of {len(names)} classes "
                        f"(matched by readable name): {', '.join(missing)}")
    return {n: found[readable(n)] for n in names}
