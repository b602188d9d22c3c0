"""Reading the describe stage's output, as training, evaluation and tracking do."""

from __future__ import annotations

from pathlib import Path

from t2l.fsio import read_json


def load_descriptions(directory: Path, datasets) -> dict[str, dict[str, list[str]]]:
    """``{dataset: {class: [descriptions]}}`` for those datasets that have a descriptions file."""
    found = {}
    for ds in set(datasets):
        path = Path(directory) / f"{ds}.json"
        if path.is_file():
            found[ds] = read_json(path)
    return found
