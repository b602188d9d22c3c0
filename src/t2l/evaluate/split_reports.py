"""The files an evaluation writes per scored split, under ``reports/<evaluation>/…/<split>``:
``<split>.per_class.csv`` (accuracy per class) and ``<split>.confusion.csv`` (actual x predicted).
The evaluation writes them; figures and tracking find them here."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

PER_CLASS, CONFUSION = ".per_class.csv", ".confusion.csv"


def per_class_file(report: Path) -> Path:
    return Path(report).with_suffix(PER_CLASS)


def confusion_file(report: Path) -> Path:
    return Path(report).with_suffix(CONFUSION)


def written(reports: Path) -> Iterator[Path]:
    """Every split report under ``reports`` with both files, as ``…/<split>`` (no suffix), sorted."""
    for confusion in sorted(Path(reports).rglob(f"*{CONFUSION}")):
        report = confusion.with_name(confusion.name.removesuffix(CONFUSION))
        if per_class_file(report).is_file():
            yield report
