"""Zero-shot protocol: train on a source dataset, evaluate on target datasets' classes.

One run, ``main``: the source's train split, a held-out source val (at most ``val_per_class``
videos per class of the source's val split, seeded: for model selection, never a target test set)
and one evaluation per target split. Target classes the source has seen (same name after
``normalise_class_name``, or renamed, see renames.py) are refused (``overlap: forbid``), evaluated
anyway as in the published protocols (``keep``) or left out (``drop``: e.g. the K600 classes absent
from K400; ``drop_exact``: only classes whose name is character for character a source class's,
the T2L reference's comparison, which leaves Kinetics-600 232 classes instead of 220).
``subsets`` > 0 evaluates that many seeded random class subsets of ``subset_size`` instead
(X-CLIP's three 160-class K600 subsets). A target's ``name`` (default: its dataset) names its group,
so one dataset can be evaluated under two protocols (e.g. X-CLIP's subsets and the reference's set).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from t2l.data.protocols.common import ProtocolWriter, SplitDir, evaluation, per_class, ref, rng, run
from t2l.data.protocols.renames import RENAME_TABLE, overlap
from t2l.errors import UserError

OVERLAP_MODES = ("forbid", "keep", "drop", "drop_exact")


@dataclass(frozen=True)
class Source:
    dataset: str
    train: str = "train"
    val: str | None = "val"  # held-out source split for model selection; null: none
    val_per_class: int = 0  # at most this many val videos per class (0: all)


@dataclass(frozen=True)
class Target:
    dataset: str
    splits: tuple[str, ...] = ("test*",)  # glob patterns of the evaluated splits
    overlap: str = "forbid"  # classes the source has seen: forbid | keep | drop | drop_exact
    subsets: int = 0  # > 0: evaluate this many random class subsets
    subset_size: int = 0
    name: str = ""  # the evaluation group (default: the dataset)

    @property
    def group(self) -> str:
        return self.name or self.dataset


@dataclass(frozen=True)
class ZeroShotConfig:
    source: Source
    targets: tuple[Target, ...]
    seed: int = 0


def _classes_to_evaluate(t: Target, classes: list[str], shared: list[str], source: list[str], source_name: str) -> list[str]:
    if t.overlap not in OVERLAP_MODES:
        raise UserError(f"protocols.zero_shot: {t.group}: overlap must be one of {', '.join(OVERLAP_MODES)}")
    if t.overlap == "drop_exact":
        shared = sorted(set(classes) & set(source))
    if shared and t.overlap == "forbid":
        raise UserError(f"protocols.zero_shot: {t.group} shares {len(shared)} class(es) with the source {source_name}: "
                        f"{shared[:8]}; set its overlap to keep (evaluate them, as published) or drop")
    names = [c for c in classes if t.overlap not in ("drop", "drop_exact") or c not in shared]
    if not names:
        raise UserError(f"protocols.zero_shot: {t.group}: the source has seen every class; nothing to evaluate")
    return names


def _subsets(t: Target, names: list[str], seed: int) -> list[tuple[str, list[str]]]:
    """``(tag, class names)`` per evaluated class set, names in the dataset's label order."""
    if not t.subsets:
        return [("", names)]
    if not 0 < t.subset_size <= len(names):
        raise UserError(f"protocols.zero_shot: {t.group}: subset_size must be 1..{len(names)} "
                        f"(the classes left to evaluate), got {t.subset_size}")
    picks = [sorted(rng(seed, "zero_shot", "subset", t.group, i).choice(len(names), t.subset_size, replace=False))
             for i in range(1, t.subsets + 1)]
    return [(f"subset{i}", [names[j] for j in pick]) for i, pick in enumerate(picks, 1)]


def build(cfg: ZeroShotConfig, splits_dir: Path, out: Path) -> dict:
    w, s = ProtocolWriter(out, "zero_shot"), cfg.source
    src = SplitDir(splits_dir, s.dataset)
    classes = w.classes("source/classes.csv", src.classes)
    train_rows = src.split(s.train)
    train = ref(s.dataset, w.table("source/train.csv", train_rows, src.classes, s.train, s.dataset), classes)
    val, val_rows = None, []
    if s.val:
        val_rows = src.split(s.val)
        if s.val_per_class:
            val_rows = per_class(val_rows, src.classes, s.val_per_class, (cfg.seed, "zero_shot", "val", s.dataset),
                                 f"{s.dataset}/{s.val}", exact=False)
        val = ref(s.dataset, w.table("source/val.csv", val_rows, src.classes, s.val, s.dataset), classes)
    evals, targets = [], {}
    for t in cfg.targets:
        if t.group in targets or t.dataset == s.dataset:
            raise UserError(f"protocols.zero_shot: target {t.group!r} is the source or listed twice (name it apart)")
        tgt = SplitDir(splits_dir, t.dataset)
        shared, renamed = overlap(src.classes, tgt.classes)
        names = _classes_to_evaluate(t, tgt.classes, shared, src.classes, cfg.source.dataset)
        splits = tgt.matching(t.splits)
        for tag, subset in _subsets(t, names, cfg.seed):
            base = f"targets/{t.group}" + (f"/{tag}" if tag else "")
            cmap = w.classes(f"{base}/classes.csv", subset)
            for split in splits:
                rows = tgt.split(split)
                csv = w.table(f"{base}/{split}.csv", rows[rows["class_name"].isin(subset)], subset, split, t.dataset)
                evals.append(evaluation(f"{t.group}/{split}" + (f"/{tag}" if tag else ""), t.group,
                                        ref(t.dataset, csv, cmap)))
        targets[t.group] = {
            "dataset": t.dataset, "splits": splits, "overlap": t.overlap, "classes": len(tgt.classes), "overlapping_classes": shared,
            "kept_overlapping_classes": [c for c in shared if c in names], "renamed_classes": renamed, "evaluated_classes": len(names),
            "subsets": t.subsets, "subset_size": t.subset_size if t.subsets else None}
    made_by = {
        "source": {"dataset": s.dataset, "train": s.train, "val": s.val, "val_per_class": s.val_per_class,
                   "classes": len(src.classes), "train_rows": len(train_rows), "val_rows": len(val_rows)},
        "targets": targets,
        "overlap": "a target class is seen by the source if its normalise_class_name equals a source class's "
                   f"or that of its rename in {RENAME_TABLE}",
        "sampling": "source val: per class, the first val_per_class videos of a permutation seeded by "
                    "(seed, class); subsets: classes drawn without replacement, seeded by (seed, dataset, subset)",
    }
    return w.finish(cfg.seed, made_by, [run("main", train, val, evals)])
