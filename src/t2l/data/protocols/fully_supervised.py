"""Fully supervised protocol: the official train/eval split pairs, every class, every video."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from t2l.data.protocols.common import DatasetSplits, ProtocolWriter, SplitDir, evaluation, ref, run


@dataclass(frozen=True)
class FullySupervisedConfig:
    datasets: tuple[DatasetSplits, ...]  # one entry per train/eval pair, e.g. ucf101 train1/test1
    seed: int = 0  # recorded only: nothing is sampled


def build(cfg: FullySupervisedConfig, splits_dir: Path, out: Path) -> dict:
    w = ProtocolWriter(out, "fully_supervised")
    runs = []
    for d in cfg.datasets:
        ds = SplitDir(splits_dir, d.dataset)
        cmap = w.classes(f"{d.dataset}/classes.csv", ds.classes)
        files = {split: ref(d.dataset, w.table(f"{d.dataset}/{split}.csv", ds.split(split), ds.classes, split,
                                               d.dataset), cmap) for split in (d.train, d.eval)}
        runs.append(run(f"{d.dataset}/{d.eval}", files[d.train], None,
                        [evaluation(f"{d.dataset}/{d.eval}", d.dataset, files[d.eval])]))
    made_by = {"pairs": [{"dataset": d.dataset, "train": d.train, "eval": d.eval} for d in cfg.datasets],
               "sampling": "none: every video of the official splits"}
    return w.finish(cfg.seed, made_by, runs)
