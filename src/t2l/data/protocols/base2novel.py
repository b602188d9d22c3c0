"""Base-to-novel protocol: train on the frequent half of a dataset's classes, evaluate on both halves.

Per dataset, classes are ranked by their number of training videos (descending, ties broken by
class name, ascending); the first ceil(n/2) are base, the rest novel. Per seed, one run trains on
``shots`` videos of every base class from the train split and is evaluated on the eval split's base
videos and novel videos, each with its own class map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from t2l.data.protocols.common import DatasetSplits, ProtocolWriter, SplitDir, evaluation, per_class, ref, run

RANKING = ("classes sorted by number of training videos, descending, ties broken by class name, ascending; "
           "the first ceil(n/2) are base, the rest novel")


@dataclass(frozen=True)
class Base2NovelConfig:
    datasets: tuple[DatasetSplits, ...]
    seeds: tuple[int, ...] = (0, 1, 2)
    shots: int = 16
    seed: int = 0


def split_classes(classes: list[str], train_counts: dict[str, int]) -> tuple[list[str], list[str], list[str]]:
    """(base, novel) in label order, and the classes tied with the last base class."""
    ranked = sorted(classes, key=lambda c: (-train_counts.get(c, 0), c))
    n_base = math.ceil(len(ranked) / 2)
    base = set(ranked[:n_base])
    last = train_counts.get(ranked[n_base - 1], 0) if ranked else 0
    tied = [c for c in ranked if train_counts.get(c, 0) == last] if ranked else []
    return [c for c in classes if c in base], [c for c in classes if c not in base], tied


def build(cfg: Base2NovelConfig, splits_dir: Path, out: Path) -> dict:
    w = ProtocolWriter(out, "base2novel")
    runs, datasets = [], {}
    for d in cfg.datasets:
        ds = SplitDir(splits_dir, d.dataset)
        train_rows, eval_rows = ds.split(d.train), ds.split(d.eval)
        base, novel, tied = split_classes(ds.classes, train_rows["class_name"].value_counts().to_dict())
        evals = []
        for group, names in (("base", base), ("novel", novel)):
            cmap = w.classes(f"{d.dataset}/{group}_classes.csv", names)
            rows = eval_rows[eval_rows["class_name"].isin(names)]
            csv = w.table(f"{d.dataset}/{group}_{d.eval}.csv", rows, names, d.eval, d.dataset)
            evals.append(evaluation(f"{d.dataset}/{group}", group, ref(d.dataset, csv, cmap)))
        for s in cfg.seeds:
            rows = per_class(train_rows, base, cfg.shots, (cfg.seed, "base2novel", d.dataset, s),
                             f"protocols.base2novel: {d.dataset}/{d.train}")
            csv = w.table(f"{d.dataset}/seed{s}/train.csv", rows, base, d.train, d.dataset)
            runs.append(run(f"{d.dataset}/seed{s}", ref(d.dataset, csv, evals[0]["classes"]), None, evals))
        datasets[d.dataset] = {"train": d.train, "eval": d.eval, "classes": len(ds.classes), "base": len(base),
                               "novel": len(novel), "tied_at_boundary": tied}
    made_by = {"ranking": RANKING, "shots": cfg.shots, "seeds": list(cfg.seeds), "datasets": datasets,
               "shots_per_run": {r["name"]: cfg.shots for r in runs},
               "sampling": "per base class, the first shots videos of a permutation seeded by (seed, dataset, "
                           "replicate seed, class)"}
    return w.finish(cfg.seed, made_by, runs)
