"""The ``entities`` stage: ALT's text corpus of action-related entities (Sec. 3.1, Appendix A).

A corpus is a list of text entities ``{unit, kind, description}`` (kind: body part, object,
scene, motion, or label word), built offline from a dataset's action labels:

- every label's words without stop words are units (the paper's NLTK step, with a small built-in
  stop-word list that keeps direction words such as "up" and "left");
- ``openai``: per label, the LLM lists the objects, body parts, scenes and primitive motions the
  action implies (Appendix A's prompt, asking for one fixed line format); per unit, the LLM explains
  it in one sentence, in the sense it has in human actions (in place of WordNet and word-sense
  disambiguation, whose corpora are not available offline). Answers go through the describe
  stage's OpenAI-compatible backend: same server settings, cache and retries;
- ``template``: offline and deterministic; world labels (``"star moving left"``) give the world's
  shapes, motion primitives, positions, sizes, colours and backgrounds
  (``t2l.descriptions.entity_template``), other labels their words, described by a template;
- ``file``: a corpus the user brings, as JSON (a list of ``{unit, description[, kind]}`` or an
  object ``{unit: description}``).

Body parts (head, face, arms, hands, fingers, torso, legs, feet) are always in the corpus, with
built-in descriptions. Units are unique (lower case, single spaces); the first one seen is kept.
Writes ``<out>/<dataset>.json`` and ``<out>/<dataset>.report.json``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from t2l.descriptions import entity_template
from t2l.descriptions.chat import ChatDescriber
from t2l.descriptions.config import DescribeConfig
from t2l.descriptions.corpus import Entity, read_corpus, unique, unit_key
from t2l.descriptions.names import class_names, readable
from t2l.fsio import write_json
from t2l.params import ParamsError

BACKENDS = ("template", "file", "openai")
ENTITY_PROMPT = ("What are identifying objects, body parts, scenes and primitive motions of an action {category}? "
                 "List them concisely in one line as: objects: ...; body parts: ...; scenes: ...; motions: ...")
UNIT_PROMPT = "Concisely explain {category} in one sentence, in the sense it has in human actions."
BODY_PARTS = {
    "head": "the top part of the human body, holding the face",
    "face": "the front of the head with the eyes, nose and mouth",
    "arms": "the two upper limbs, from the shoulders to the hands",
    "hands": "the ends of the arms, used to hold, grasp and move things",
    "fingers": "the five jointed parts at the end of each hand",
    "torso": "the trunk of the human body, from the neck to the hips",
    "legs": "the two lower limbs, used to stand, walk, run and jump",
    "feet": "the ends of the legs that a person stands and walks on",
}
STOP_WORDS = frozenset(
    "a an the and or but nor of with without on in at to from by for as into onto than then "
    "is are was were be been being am do does did doing have has had having it its this that these those "
    "i me my we our you your he him his she her they them their someone something one some".split())
_SECTION = re.compile(r"\b(objects?|body ?parts?|scenes?|(?:primitive )?motions?)\s*:", re.IGNORECASE)
_SECTION_KIND = {"object": "object", "bodypart": "body part", "scene": "scene", "motion": "motion"}


@dataclass(frozen=True)
class EntitiesConfig:
    backend: str = "template"  # openai: the describe section's server, model, key variable and cache
    path: str = ""  # file backend: the corpus JSON
    entity_prompt: str = ENTITY_PROMPT  # per label; {category} becomes the readable label
    unit_prompt: str = UNIT_PROMPT  # per unit; {category} becomes the unit

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ParamsError(f"entities.backend: {self.backend!r} is not one of {', '.join(BACKENDS)}")
        if self.backend == "file" and not self.path:
            raise ParamsError("entities.path is required by the file backend")
        for field in ("entity_prompt", "unit_prompt"):
            if "{category}" not in getattr(self, field):
                raise ParamsError(f"entities.{field} must contain {{category}}")


def label_units(label: str) -> list[str]:
    """The words of ``label`` (readable form) without stop words, in order, each once."""
    return list(dict.fromkeys(w for w in readable(label).split() if w not in STOP_WORDS))


def parse_units(answer: str) -> list[tuple[str, str]]:
    """(kind, unit) pairs of an answer in the ``objects: a, b; body parts: ...`` format, on one
    line or several; items of at most five words, "none" dropped."""
    parts = _SECTION.split(answer)
    found = []
    for name, text in zip(parts[1::2], parts[2::2]):
        kind = _SECTION_KIND[re.sub(r"primitive |\s|s$", "", name.lower())]
        for item in re.split(r"[,;\n]", text):
            unit = unit_key(item.strip(" \t-*.•\"'"))
            if unit and unit not in ("none", "n/a") and len(unit.split()) <= 5:
                found.append((kind, unit))
    return found


def body_parts() -> list[Entity]:
    return [Entity(unit, "body part", text) for unit, text in BODY_PARTS.items()]


def _template(labels: list[str]) -> list[Entity]:
    found, world = [], False
    for label in labels:
        name = readable(label)
        if (parts := entity_template.split_label(name)) is not None:
            found += [Entity(*e) for e in entity_template.label_entities(*parts)]
            world = True
        else:
            found += [Entity(w, "label word", f"{w}, as seen in a video of {name}") for w in label_units(label)]
    return found + ([Entity(*e) for e in entity_template.world_entities()] if world else [])


def _ask(describe: DescribeConfig, prompt: str, names: list[str]) -> tuple[dict[str, str], dict]:
    """One answer per name from the describe section's LLM server, with ``prompt``."""
    chat = ChatDescriber(replace(describe, backend="openai", n=1, openai=replace(describe.openai, prompt=prompt)))
    return {name: texts[0] for name, texts in chat.describe(names).items()}, asdict(chat.stats)


def _openai(cfg: EntitiesConfig, describe: DescribeConfig, labels: list[str]) -> tuple[list[Entity], dict]:
    answers, listed = _ask(describe, cfg.entity_prompt, labels)
    units: dict[str, str] = {}  # unit -> kind; the LLM's kind wins over "label word"
    parsed = {label: parse_units(answers[label]) for label in labels}
    for kind, unit in (pair for pairs in parsed.values() for pair in pairs):
        units.setdefault(unit, kind)
    for word in (w for label in labels for w in label_units(label)):
        units.setdefault(word, "label word")
    units = {u: k for u, k in units.items() if u not in BODY_PARTS}
    descriptions, explained = _ask(describe, cfg.unit_prompt, list(units))
    entities = [Entity(u, k, descriptions[u]) for u, k in units.items()]
    activity = {k: listed[k] + explained[k] for k in ("requests", "cached", "retries")}
    unlisted = [label for label, pairs in parsed.items() if not pairs]
    return entities, {"labels_without_listed_entities": unlisted, **activity}


def build(cfg: EntitiesConfig, labels: list[str], describe: DescribeConfig | None = None) -> tuple[list[Entity], dict]:
    """The corpus of ``labels`` from the configured backend (body parts first), and what it did."""
    if cfg.backend == "template":
        found, activity = _template(labels), {}
    elif cfg.backend == "file":
        found, activity = read_corpus(cfg.path), {}
    else:
        found, activity = _openai(cfg, describe or DescribeConfig(), labels)
    return unique(body_parts() + found), activity


def run(cfg: EntitiesConfig, describe: DescribeConfig, dataset: str, splits_dir: Path, out: Path) -> dict:
    """The corpus of ``dataset``'s labels: ``<out>/<dataset>.json`` and its report."""
    labels = class_names(splits_dir, dataset)
    corpus, activity = build(cfg, labels, describe)
    kinds = {k: sum(e.kind == k for e in corpus) for k in dict.fromkeys(e.kind for e in corpus)}
    target = Path(out) / f"{dataset}.entities.json"
    write_json(Path(out) / f"{dataset}.entities.report.json", {"dataset": dataset, "backend": cfg.backend, "labels": len(labels),
                                                       "entities": len(corpus), "kinds": kinds, **activity})
    write_json(target, [asdict(e) for e in corpus])
    return {"output": str(target), "labels": len(labels), "entities": len(corpus), **activity}
