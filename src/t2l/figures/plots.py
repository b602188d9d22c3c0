"""Figures of pipeline outputs: results, training curves, robustness and confusion matrices
(matplotlib Figures, rendered by Agg when saved; no pyplot state)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

LOSSES = ("loss", "contrastive", "tfd")
MAX_TICK_LABELS = 40


@dataclass(frozen=True)
class Panel:
    """One headline row: ``{variant: value in %}``, std bars where known, the chance line if any."""
    title: str
    values: dict[str, float]
    std: dict[str, float] = field(default_factory=dict)
    chance: float | None = None


def results_figure(panels: list[Panel], labels: dict[str, str], order: list[str], columns: int = 3) -> Figure:
    """A labelled bar per variant in every panel, one colour per variant across panels, in
    ``order``; std bars only on rows that are means over splits or seeds."""
    variants = sorted({v for p in panels for v in p.values}, key=lambda v: (order.index(v) if v in order else len(order), v))
    colours = {v: f"C{i % 10}" for i, v in enumerate(variants)}
    rows = math.ceil(len(panels) / columns)
    fig = Figure(figsize=(5.5 * columns, 3.8 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, panel in zip(axes, panels):
        names = [v for v in variants if v in panel.values]
        bars = ax.bar(range(len(names)), [panel.values[n] for n in names], color=[colours[n] for n in names],
                      yerr=[panel.std.get(n, 0.0) for n in names] if panel.std else None, capsize=3)
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=2)
        ax.set_xticks(range(len(names)), [labels.get(n, n) for n in names], rotation=35, ha="right", fontsize=7)
        if panel.chance is not None:
            ax.axhline(panel.chance, color="black", linestyle="--", linewidth=1, label=f"chance {panel.chance:.1f}")
            ax.legend(loc="upper right", fontsize=7)
        ax.set_title(panel.title, fontsize=9)
        ax.set_ylabel("%")
        ax.set_ylim(0, 100)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    fig.suptitle("headline results per variant: top-1 %, harmonic mean for base-to-novel "
                 "(error bars: std over splits or seeds; dashed: chance)")
    return fig


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


def training_overview(histories: dict[str, pd.DataFrame]) -> Figure:
    """Every trained run's loss and source-val top-1 per epoch on their own axes, a colour per run."""
    fig = Figure(figsize=(13, 4.2), layout="constrained")
    loss, val = fig.subplots(1, 2)
    for i, (name, history) in enumerate(histories.items()):
        colour = f"C{i % 10}"
        loss.plot(history["epoch"], history["loss"], marker="o", color=colour, label=name)
        if "val_top1" in history and history["val_top1"].notna().any():
            val.plot(history["epoch"], 100 * history["val_top1"], marker="o", color=colour, label=name)
    loss.set(title="training loss", xlabel="epoch", ylabel="loss")
    val.set(title="source val top-1 (model selection)", xlabel="epoch", ylabel="%", ylim=(0, 100))
    loss.legend(fontsize=7)
    return fig


def robustness_figure(groups: dict[str, dict[str, dict[str, float]]], chance: dict[str, float | None]) -> Figure:
    """Per group: top-1 % clean and under each shift, the variants' bars side by side (the
    untrained baseline beside every trained model), with the chance line."""
    fig = Figure(figsize=(max(8.0, 1.1 * max(len(v) for g in groups.values() for v in g.values())), 3.8 * len(groups)),
                 layout="constrained")
    axes = fig.subplots(len(groups), 1, squeeze=False).ravel()
    for ax, (group, variants) in zip(axes, groups.items()):
        names = sorted(variants)
        conditions = list(next(iter(variants.values())))
        width = 0.8 / len(names)
        for i, name in enumerate(names):
            xs = [j + (i - (len(names) - 1) / 2) * width for j in range(len(conditions))]
            ax.bar(xs, [variants[name].get(c, 0.0) for c in conditions], width, label=name, color=f"C{i % 10}")
        if chance.get(group) is not None:
            ax.axhline(chance[group], color="black", linestyle="--", linewidth=1, label="chance")
        ax.set_xticks(range(len(conditions)), conditions, rotation=35, fontsize=7)
        ax.set(title=f"robustness · {group}: top-1 under each shift", ylabel="%", ylim=(0, 100))
        ax.legend(fontsize=7, ncols=min(len(names) + 1, 6))
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
