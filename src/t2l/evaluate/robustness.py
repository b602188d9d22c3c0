"""Robustness under distribution shift: zero-shot top-1 per perturbation and severity, and the
relative drop from clean, on the first splits of each target group."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
import pandas as pd

from t2l.evaluate.perturbations import KINDS, SEVERITIES, perturbation
from t2l.params import NonNegative, OneOf, Range
from t2l.scoring import top1

Severity = Annotated[int, Range(at_least=min(SEVERITIES), at_most=max(SEVERITIES))]


@dataclass(frozen=True)
class RobustnessConfig:
    models: tuple[str, ...] = ("vanilla", "t2l")
    splits: NonNegative = 0  # evaluate the first N splits of each target group; 0 = all
    perturbations: dict[Annotated[str, OneOf(KINDS)], tuple[Severity, ...]] = field(
        default_factory=lambda: {name: (1,) if name == "reverse" else (1, 2, 3) for name in KINDS})


def first_splits(refs, n: int) -> list:
    """The first ``n`` splits of each group (all when ``n`` is 0), in protocol order."""
    seen: dict[str, int] = {}
    kept = []
    for e in refs:
        seen[e.group] = seen.get(e.group, 0) + 1
        if not n or seen[e.group] <= n:
            kept.append(e)
    return kept


def measure(cfg: RobustnessConfig, score, runs, load) -> dict:
    """``score(model, ref, perturb) -> Scores`` of the model ``load(run)`` on each run's first
    splits, clean and perturbed: per group, the clean top-1 and each shift's top-1 and drop."""
    per_group: dict[str, dict] = {}
    for run in runs:
        model = load(run)
        for ref in first_splits(run.eval, cfg.splits):
            g = per_group.setdefault(ref.group, {"clean": []})
            g["clean"].append(top1(score(model, ref, None)))
            for kind, severities in cfg.perturbations.items():
                for severity in severities:
                    g.setdefault((kind, severity), []).append(top1(score(model, ref, perturbation(kind, severity))))
    return {group: summarise(g) for group, g in per_group.items()}


def summarise(g: dict) -> dict:
    clean = float(np.mean(g["clean"]))
    out = {"clean_top1": clean}
    for key, values in g.items():
        if key == "clean":
            continue
        kind, severity = key
        value = float(np.mean(values))
        out.setdefault(kind, {})[f"s{severity}"] = {"top1": value,
                                                   "relative_drop": (clean - value) / clean if clean > 0 else 0.0}
    return out


def table(summary: dict) -> pd.DataFrame:
    """One row per group, perturbation and severity (severity 0: clean), for plots and reports."""
    rows = []
    for group, g in summary.items():
        rows.append({"group": group, "perturbation": "clean", "severity": 0, "top1": g["clean_top1"], "relative_drop": 0.0})
        for kind, levels in g.items():
            if kind != "clean_top1":
                rows += [{"group": group, "perturbation": kind, "severity": int(s[1:]), **v} for s, v in levels.items()]
    return pd.DataFrame(rows)
