"""Few-shot protocol: K training videos per class, evaluated on the full eval split.

One run per dataset, K and seed, trained on K videos of every class drawn from the train split
(for one seed the K-shot sets are nested: the 2 shots are among the 4) and evaluated on the eval
split (split 1 test for UCF-101 / HMDB-51, the validation split for SSv2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from t2l.data.protocols.common import DatasetSplits, ProtocolWriter, SplitDir, evaluation, per_class, ref, run


@dataclass(frozen=True)
class FewShotConfig:
    datasets: tuple[DatasetSplits, ...]
    shots: tuple[int, ...] = (2, 4, 8, 16)
    seeds: tuple[int, ...] = (0, 1, 2)
    seed: int = 0


def build(cfg: FewShotConfig, splits_dir: Path, out: Path) -> dict:
    w = ProtocolWriter(out, "few_shot")
    runs, shots = [], {}
    for d in cfg.datasets:
        ds = SplitDir(splits_dir, d.dataset)
        cmap = w.classes(f"{d.dataset}/classes.csv", ds.classes)
        train_rows = ds.split(d.train)
        test = w.table(f"{d.dataset}/{d.eval}.csv", ds.split(d.eval), ds.classes, d.eval, d.dataset)
        test = ref(d.dataset, test, cmap)
        for k in cfg.shots:
            for s in cfg.seeds:
                rows = per_class(train_rows, ds.classes, k, (cfg.seed, "few_shot", d.dataset, s),
                                 f"protocols.few_shot: {d.dataset}/{d.train}")
                csv = w.table(f"{d.dataset}/k{k}/seed{s}/train.csv", rows, ds.classes, d.train, d.dataset)
                runs.append(run(f"{d.dataset}/k{k}/seed{s}", ref(d.dataset, csv, cmap), None,
                                [evaluation(f"{d.dataset}/{d.eval}", d.dataset, test)]))
                shots[runs[-1]["name"]] = k
    made_by = {"shots": list(cfg.shots), "seeds": list(cfg.seeds),
               "datasets": {d.dataset: {"train": d.train, "eval": d.eval} for d in cfg.datasets},
               "shots_per_run": shots,
               "sampling": "per class, the first K videos of a permutation seeded by (seed, dataset, replicate seed, "
                           "class): for one seed the K-shot sets are nested"}
    return w.finish(cfg.seed, made_by, runs)
