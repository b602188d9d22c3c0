"""The paper's qualitative figures from trained models: t-SNE of per-frame embeddings with and
without TFD (Fig. 3) and attention heat-maps over a clip's frames (Fig. 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from matplotlib import colormaps
from matplotlib.figure import Figure
from sklearn.manifold import TSNE

from t2l.frames.dataset import FrameSource, VideoClipDataset
from t2l.frames.transforms import CLIP_MEAN, CLIP_STD, EvalTransform


def pick_rows(rows: pd.DataFrame, count: int) -> pd.DataFrame:
    """``count`` videos of a split, spread over classes: the first of each class, then the second..."""
    rank = rows.groupby("label").cumcount()
    return rows.assign(_rank=rank).sort_values(["_rank", "label", "path"]).head(count).drop(columns="_rank")


def clips(rows: pd.DataFrame, source: FrameSource, transform: EvalTransform, frames: int) -> torch.Tensor:
    """Evaluation clips (B, T, 3, H, W) of ``rows``, made as scoring makes them (segment centres)."""
    dataset = VideoClipDataset(rows, source, frames, transform)
    return torch.stack([dataset[i][0] for i in range(len(dataset))])


def _pixels(clip: torch.Tensor) -> np.ndarray:
    """A normalised clip (T, 3, H, W) back to displayable RGB (T, H, W, 3) in [0, 1]."""
    mean, std = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    return (clip * std + mean).clamp(0, 1).permute(0, 2, 3, 1).numpy()


def tsne_figure(embeddings: dict[str, np.ndarray], names: list[str], perplexity: float, seed: int) -> Figure:
    """One panel per model: t-SNE of every frame embedding (B, T, E), a colour per video, frames
    joined in time order. TFD spreads a video's frames apart (paper Fig. 3)."""
    fig = Figure(figsize=(5.5 * len(embeddings), 5), layout="tight")
    axes = fig.subplots(1, len(embeddings), squeeze=False)
    colours = colormaps["tab10" if len(names) <= 10 else "tab20"]
    for ax, (title, emb) in zip(axes[0], embeddings.items()):
        b, t, _ = emb.shape
        flat = emb.reshape(b * t, -1)
        flat = flat / np.linalg.norm(flat, axis=1, keepdims=True)
        xy = TSNE(2, perplexity=min(perplexity, b * t - 1), init="pca", method="exact",  # a few hundred points
                  random_state=seed).fit_transform(flat)
        for i in range(b):
            pts = xy[i * t:(i + 1) * t]
            ax.plot(pts[:, 0], pts[:, 1], color=colours(i % colours.N), alpha=0.35, linewidth=1)
            ax.scatter(pts[:, 0], pts[:, 1], color=colours(i % colours.N), s=22, label=names[i])
        ax.set(title=title, xticks=[], yticks=[])
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle("t-SNE of per-frame embeddings (one colour per video)")
    fig.supxlabel("What to look for (the paper's Fig. 3): with TFD (t2l) a video's frames spread apart along its path; "
                  "without it (ttl, when a job trains it) they collapse into one tight cluster.", fontsize=8)
    return fig


def attention_figure(maps: dict[str, torch.Tensor], clip: torch.Tensor, grid: int, title: str) -> Figure:
    """Last layer's CLS-to-patch attention over each frame of one clip (paper Fig. 4); with
    temporal tokens, also how each frame's token attends over time."""
    t = clip.shape[0]
    pixels = _pixels(clip)
    spatial = maps["spatial"][-1, 0].float()  # (T, 1 + grid^2 [+ 1]) of the first video
    heat = spatial[:, 1:1 + grid * grid].reshape(t, grid, grid)
    heat = (heat / heat.amax(dim=(1, 2), keepdim=True)).numpy()
    temporal = "temporal" in maps
    fig = Figure(figsize=(1.8 * (t + temporal), 3.9), layout="tight")
    axes = fig.subplots(2, t + temporal, squeeze=False)
    h, w = pixels.shape[1:3]
    for i in range(t):
        axes[0][i].imshow(pixels[i])
        axes[1][i].imshow(pixels[i])
        axes[1][i].imshow(heat[i], cmap="jet", alpha=0.5, extent=(0, w, h, 0), interpolation="bilinear")
        axes[0][i].set_title(f"frame {i}", fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    if temporal:
        ax = axes[0][t]
        ax.axis("on")
        ax.imshow(maps["temporal"][-1, 0].float().numpy(), cmap="viridis")
        ax.set(title="temporal tokens", xlabel="to frame", ylabel="from frame")
    fig.suptitle(title)
    fig.supxlabel("What to look for (the paper's Fig. 4): the heat maps (bottom row) should follow the moving shape from "
                  "frame to frame; the temporal-token matrix shows which frames each frame's token draws on.", fontsize=8)
    return fig
