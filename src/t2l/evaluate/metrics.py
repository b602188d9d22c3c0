"""Accuracy metrics over score matrices: top-k, per class, confusion, within time-reversed pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from t2l.data.synth.motions import reversal_partner


def topk(logits: np.ndarray, labels: np.ndarray, k: int) -> float:
    k = min(k, logits.shape[1])
    top = np.argpartition(-logits, k - 1, axis=1)[:, :k]
    return float((top == labels[:, None]).any(1).mean())


def per_class(logits: np.ndarray, labels: np.ndarray, names: list[str]) -> pd.DataFrame:
    pred = logits.argmax(1)
    rows = [{"label": c, "class_name": n, "videos": int((labels == c).sum()),
             "top1": float((pred[labels == c] == c).mean()) if (labels == c).any() else float("nan")}
            for c, n in enumerate(names)]
    return pd.DataFrame(rows)


def confusion(logits: np.ndarray, labels: np.ndarray, names: list[str]) -> pd.DataFrame:
    """One row per video: ``actual`` and ``predicted`` class names (dvc's confusion template)."""
    return pd.DataFrame({"actual": [names[i] for i in labels], "predicted": [names[i] for i in logits.argmax(1)]})


def within_pair(logits: np.ndarray, labels: np.ndarray, names: list[str]) -> float | None:
    """Accuracy between each class and its time reversal (the embedded world's classes), the
    direct measure of temporal modelling: a frame-averaging model scores exactly 50%. None when
    the class map has no such pairs."""
    index = {n: i for i, n in enumerate(names)}
    partners = [index.get(reversal_partner(n) or "") for n in names]
    if any(p is None for p in partners):
        return None
    other = np.asarray(partners)[labels]
    rows = np.arange(len(labels))
    return float((logits[rows, labels] > logits[rows, other]).mean())


def summary(logits: np.ndarray, labels: np.ndarray, names: list[str]) -> dict:
    out = {"top1": topk(logits, labels, 1), "top5": topk(logits, labels, 5), "videos": int(len(labels)),
           "logit_std": float(np.asarray(logits).std(axis=1).mean())}  # ~0: the model predicts uniformly (collapse)
    pair = within_pair(logits, labels, names)
    if pair is not None:
        out["within_pair"] = pair
    return out


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and *sample* standard deviation (ddof=1; 0 for a single value)."""
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def harmonic_mean(a: float, b: float) -> float:
    return 2 * a * b / (a + b) if a + b > 0 else 0.0
