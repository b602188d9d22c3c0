"""The headline numbers of an evaluation for ``dvc metrics show`` / ``diff``: one small file per
dataset group (and shot count, or clean/shifted), ``{variant: value in %}``. Every file has the
variants as its keys, so DVC's table has one column per variant and one row per file; the detailed
``metrics/<evaluation>.json`` stays the source for reports and MLflow."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from t2l.fsio import write_json


@dataclass
class Row:
    """One headline row: the dataset group it is about, each variant's value and, where the
    value is a mean over splits or seeds, its std (both in %)."""

    group: str
    values: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)


def _headlines(evaluation: str, group: str, values: dict) -> Iterator[tuple[str, float, float | None]]:
    """``(row, fraction, std)``: HM for base-to-novel, top-1 per K for few-shot, clean and mean
    shifted top-1 for robustness, top-1 (mean over splits where there are several) otherwise."""
    if evaluation == "base2novel":
        yield f"{group}.hm", values["hm"], None
    elif evaluation == "few_shot":
        for k, by_k in values.items():
            if isinstance(by_k, dict) and "top1_mean" in by_k:
                yield f"{group}.{k}", by_k["top1_mean"], by_k.get("top1_std")
    elif evaluation == "robustness":
        yield f"{group}.clean", values["clean_top1"], None
        shifted = [s["top1"] for kind in values.values() if isinstance(kind, dict) for s in kind.values()]
        yield f"{group}.shifted", float(np.mean(shifted)), None
    elif "top1_mean" in values or "top1" in values:
        yield group, values.get("top1_mean", values.get("top1")), values.get("top1_std")


def rows(evaluation: str, metrics: dict) -> dict[str, Row]:
    """``{row: Row}`` of a ``metrics/<evaluation>.json``; values in %, one decimal."""
    out: dict[str, Row] = {}
    for variant, groups in metrics.items():
        if variant == "notes" or not isinstance(groups, dict):
            continue
        for group, values in groups.items():
            for name, value, std in _headlines(evaluation, group, values) if isinstance(values, dict) else ():
                row = out.setdefault(name, Row(group))
                row.values[variant] = round(100 * float(value), 1)
                if isinstance(std, (int, float)):
                    row.std[variant] = 100 * float(std)
    return out


def table(evaluation: str, metrics: dict) -> dict[str, dict[str, float]]:
    """``{row: {variant: value in %, one decimal}}`` of a ``metrics/<evaluation>.json``."""
    return {name: row.values for name, row in rows(evaluation, metrics).items()}


def write(evaluation: str, metrics: dict, out_dir: Path) -> list[Path]:
    """``out_dir/<row>.json`` per headline row; the directory holds nothing else."""
    shutil.rmtree(out_dir, ignore_errors=True)
    written = []
    for row, values in table(evaluation, metrics).items():
        written.append(Path(out_dir) / f"{row}.json")
        write_json(written[-1], dict(sorted(values.items())))
    return written
