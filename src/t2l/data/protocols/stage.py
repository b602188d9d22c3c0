"""The ``protocols`` stage: build every protocol configured in params.yaml's ``protocols`` section."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from t2l.data.protocols import base2novel, few_shot, fully_supervised, zero_shot
from t2l.params import ParamsError, parse

# protocol -> (config dataclass, builder(config, splits_dir, out) -> protocol.json content)
PROTOCOLS: dict[str, tuple[type, Callable]] = {
    "zero_shot": (zero_shot.ZeroShotConfig, zero_shot.build),
    "base2novel": (base2novel.Base2NovelConfig, base2novel.build),
    "few_shot": (few_shot.FewShotConfig, few_shot.build),
    "fully_supervised": (fully_supervised.FullySupervisedConfig, fully_supervised.build),
}


def configs(section: dict) -> dict:
    """Protocol name -> its config, for the protocols present (and not null) in the section."""
    unknown = sorted(set(section) - set(PROTOCOLS))
    if unknown:
        raise ParamsError(f"protocols: unknown protocol(s) {', '.join(unknown)}; known: {', '.join(PROTOCOLS)}")
    return {name: parse(PROTOCOLS[name][0], values, f"protocols.{name}")
            for name, values in section.items() if values is not None}


def summary(doc: dict) -> list[str]:
    lines = [f"protocols: {doc['protocol']}: {len(doc['runs'])} run(s)"]
    for dataset, t in doc["made_by"].get("targets", {}).items():
        renamed = ", ".join(f"{r['source']} -> {r['target']}" for r in t["renamed_classes"])
        lines.append(f"  {dataset}: {len(t['overlapping_classes'])} class(es) seen by the source ({t['overlap']})"
                     + (f", {len(t['renamed_classes'])} of them renamed: {renamed}" if renamed else "")
                     + f"; {t['evaluated_classes']} evaluated")
    return lines


def run(section: dict, splits_dir: Path, out: Path) -> list[str]:
    """Build each configured protocol under ``out``; return a readable summary."""
    todo = configs(section)
    Path(out).mkdir(parents=True, exist_ok=True)
    lines = []
    for name, cfg in todo.items():
        lines += summary(PROTOCOLS[name][1](cfg, Path(splits_dir), Path(out)))
    return lines
