"""The text evaluation encodes each class with, as the packaged model carries it (``class_text.json``).

Evaluation encodes a class of dataset D by D's descriptions (``data/descriptions/D.json``) when
``evaluate.descriptions`` is on and D's file describes it, else by the name templates
(t2l.model.text.class_texts). The artifact holds that text for every class of every dataset of
params.yaml, with where it came from, and the ``describe`` section the model was registered with
(which backend describes a class it has no text for; the API key is never part of it).
"""

from __future__ import annotations

from pathlib import Path

from t2l.data.splits.schema import CLASSES_FILE
from t2l.descriptions.config import DescribeConfig
from t2l.descriptions.names import class_names
from t2l.descriptions.read import load_descriptions
from t2l.fsio import read_json
from t2l.model.text import class_texts
from t2l.params import as_dict, parse

NAMES = "names"  # the text source of a class encoded by the name templates


def _source(descriptions_dir: Path, dataset: str) -> str:
    report = Path(descriptions_dir) / f"{dataset}.report.json"
    backend = read_json(report).get("backend", "unknown backend") if report.is_file() else "unknown backend"
    return f"descriptions of {dataset} ({backend})"


def evaluation_text(params: dict, splits_dir: Path, descriptions_dir: Path) -> dict:
    """``{"describe": {...}, "classes": {name: {"texts": [...], "source": ...}}}``: for two datasets
    with the same class name, the first in params.yaml's ``datasets`` gives its text."""
    datasets = [d for d in params.get("datasets") or {} if (Path(splits_dir) / d / CLASSES_FILE).is_file()]
    # evaluate.descriptions, read as t2l.evaluate.stage.EvaluateConfig reads it (default on)
    described = (params.get("evaluate") or {}).get("descriptions", True)
    found = load_descriptions(descriptions_dir, datasets) if described else {}
    classes: dict[str, dict] = {}
    for dataset in datasets:
        descriptions = found.get(dataset) or {}
        names = [n for n in class_names(splits_dir, dataset) if n not in classes]
        for name, texts in zip(names, class_texts(names, descriptions)):
            source = _source(descriptions_dir, dataset) if descriptions.get(name) else NAMES
            classes[name] = {"texts": texts, "source": source}
    describe = parse(DescribeConfig, params.get("describe") or {}, "describe")
    return {"describe": as_dict(describe), "classes": classes}
