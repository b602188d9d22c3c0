"""ALT's entity corpus as a file: a list of text entities ``{unit, kind, description}``.

Written by the entities stage (``t2l.descriptions.entities``) as JSON, read by it (the ``file``
backend) and by the entity embeddings (``t2l.model.alt.entities``). A user's corpus may also be
an object ``{unit: description}``; ``kind`` is optional.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from t2l.errors import UserError
from t2l.fsio import read_json


@dataclass(frozen=True)
class Entity:
    unit: str
    kind: str
    description: str


def unit_key(unit: str) -> str:
    return " ".join(unit.lower().split())


def unique(entities: list[Entity]) -> list[Entity]:
    """The first entity of every unit, in order."""
    seen: dict[str, Entity] = {}
    for e in entities:
        seen.setdefault(unit_key(e.unit), replace(e, unit=unit_key(e.unit)))
    return list(seen.values())


def read_corpus(path: str | Path) -> list[Entity]:
    """A corpus JSON: a list of ``{unit, description[, kind]}`` or an object ``{unit: description}``."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such entity corpus")
    data = read_json(path)
    rows = [{"unit": u, "description": d} for u, d in data.items()] if isinstance(data, dict) else data
    if not isinstance(rows, list) or not rows:
        raise UserError(f"{path}: expected a non-empty list of {{unit, description}} "
                        f"or an object {{unit: description}}")
    entities = []
    for i, row in enumerate(rows):
        texts = isinstance(row, dict) and all(isinstance(row.get(k), str) and row[k].strip()
                                              for k in ("unit", "description"))
        if not texts or not isinstance(row.get("kind", ""), str):
            raise UserError(f"{path}: entry {i}: expected unit and description as non-empty text (kind optional)")
        entities.append(Entity(row["unit"].strip(), row.get("kind", "").strip(), " ".join(row["description"].split())))
    return entities
