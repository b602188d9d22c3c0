"""Figures of pipeline outputs: training curves and confusion matrices (matplotlib Figures, rendered
by Agg when saved; no pyplot state)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

LOSSES = ("loss", "contrastive", "tfd")
MAX_TICK_LABELS = 40


def training_curves(history: pd.DataFrame, title: str) -> Figure:
    """Losses, source-val top-1 and learning rate per epoch (``history.csv`` of a trained run)."""
    fig = Figure(figsize=(13, 3.6), layout="tight")
    axes = fig.subplots(1, 3)
    for column in LOSSES:
        if column in history:
            axes[0].plot(history["epoch"], history[column], marker="o", label=column)
    axes[0].set(title="training losses", xlabel="epoch")
    axes[0].legend()
    if "val_top1" in history and history["val_top1"].notna().any():
        axes[1].plot(history["epoch"], history["val_top1"], marker="o", color="tab:green")
    axes[1].set(title="source val top-1", xlabel="epoch", ylim=(0, 1))
    axes[2].plot(history["epoch"], history["lr"], marker="o", color="tab:gray")
    axes[2].set(title="learning rate", xlabel="epoch")
    fig.suptitle(title)
    return fig


def confusion_matrix(confusion: pd.DataFrame, classes: list[str], title: str) -> Figure:
    """Row-normalised matrix of a ``.confusion.csv`` (actual, predicted) in class-map order."""
    counts = pd.crosstab(confusion["actual"], confusion["predicted"]).reindex(index=classes, columns=classes,
                                                                              fill_value=0)
    rates = counts.to_numpy(float) / np.maximum(counts.to_numpy().sum(1, keepdims=True), 1)
    size = min(4 + 0.3 * len(classes), 24)
    fig = Figure(figsize=(size, size), layout="tight")
    ax = fig.subplots()
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    labels = len(classes) <= MAX_TICK_LABELS
    ax.set_xticks(range(len(classes)), classes if labels else [], rotation=90, fontsize=7)
    ax.set_yticks(range(len(classes)), classes if labels else [], fontsize=7)
    ax.set(xlabel="predicted", ylabel="actual", title=title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return fig
