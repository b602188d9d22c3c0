"""The ``describe`` stage: descriptions of every class of a dataset, written all at once or not at all.

Writes ``<out>/<dataset>.json`` (``{class name: [description, ...]}`` in class-map order) and
``<out>/<dataset>.report.json`` (backend and CLIP token lengths, with what 77 tokens would cut).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from t2l.descriptions import imported, template
from t2l.descriptions.chat import ChatDescriber
from t2l.descriptions.config import DescribeConfig
from t2l.descriptions.names import class_names
from t2l.descriptions.tokens import token_report
from t2l.fsio import write_json


def source(cfg: DescribeConfig) -> str:
    """Where the descriptions come from, in words (no secret: the key never is in the config)."""
    return {"template": f"{min(cfg.n, len(template.TEMPLATES))} built-in templates", "file": cfg.file.path,
            "openai": f"{cfg.openai.model} at {cfg.openai.base_url}"}[cfg.backend]


def describe(cfg: DescribeConfig, names: list[str]) -> tuple[dict[str, list[str]], dict]:
    """Descriptions from the configured backend, and what it did (requests, cache hits, retries)."""
    if cfg.backend == "template":
        return template.describe(names, cfg.n), {}
    if cfg.backend == "file":
        return imported.describe(names, Path(cfg.file.path)), {}
    chat = ChatDescriber(cfg)
    return chat.describe(names), asdict(chat.stats)


def run(cfg: DescribeConfig, dataset: str, splits_dir: Path, out: Path) -> dict:
    """Describe every class of ``dataset``; nothing is written unless every class has descriptions."""
    names = class_names(splits_dir, dataset)
    descriptions, activity = describe(cfg, names)
    tokens = token_report(descriptions)
    target = Path(out) / f"{dataset}.json"
    write_json(Path(out) / f"{dataset}.report.json", {"dataset": dataset, "backend": cfg.backend, "source": source(cfg),
                                                       "classes": len(names), "tokens": tokens})
    write_json(target, descriptions)
    return {"output": str(target), "classes": len(names), "descriptions": tokens["descriptions"],
            f"longer_than_{tokens['context_length']}_tokens": tokens["truncated"], **activity}
