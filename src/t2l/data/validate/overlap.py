"""No video in two splits of one dataset that must be disjoint: every pair of splits except two
of different numbered folds (UCF-101's ``train1`` and ``test2`` share videos by design;
``train1`` and ``test1``, or ``train`` and ``val``, must not)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from t2l.data.validate import gx_runner, suites
from t2l.data.validate.files import SPLIT_SHOWN

_FOLD = re.compile(r"\D*?(\d+)")  # train1, test_2, split03 -> the fold number


def fold(split: str) -> int | None:
    """The fold number a split's name ends with, or None."""
    m = _FOLD.fullmatch(split)
    return int(m[1]) if m else None


def must_be_disjoint(a: str, b: str) -> bool:
    """Whether splits ``a`` and ``b`` of one dataset must not share a video."""
    fa, fb = fold(a), fold(b)
    return fa is None or fb is None or fa == fb


def records(split_dir: Path, files: dict[str, str], frames: dict[str, pd.DataFrame]) -> list[dict]:
    """One report record per split that must be disjoint from an earlier one (``files``: split ->
    file name, ``frames``: split -> its rows as read): a row whose video an earlier such split
    lists fails, naming that split's file in column ``also_in``. Splits without a ``path`` column
    are left to the split suite, which reports them."""
    named = [s for s in frames if "path" in frames[s].columns]
    out = []
    for i, b in enumerate(named):
        earlier = [a for a in named[:i] if must_be_disjoint(a, b)]
        if not earlier:
            continue
        first: dict[str, str] = {}
        for a in earlier:
            for key in frames[a]["path"].map(suites.normalised_path).dropna():
                first.setdefault(key, files[a])
        frame = frames[b].assign(also_in=frames[b]["path"].map(lambda p, first=first: first.get(suites.normalised_path(p))))
        why = f"a video is in at most one of the splits {', '.join(earlier + [b])}"
        out.append(gx_runner.check("split_overlap", split_dir / files[b], frame, suites.null_checks("also_in", why),
                                   SPLIT_SHOWN + ["also_in"]))
    return out
