"""The ``synth`` stage: plan, render and write the embedded world (videos and their manifest).

Two disjoint datasets mirror Kinetics-400 -> UCF-101: ``synthetic_source`` (train/val/test) and
``synthetic_target`` (zero-shot test splits 1..k) whose shapes never move in the source set.
Every sampled trajectory is written twice: as its forward motion and, frames reversed, as the
paired reverse motion, so frame order is the only cue that separates the two classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
from tqdm import tqdm

from t2l.data.synth.motions import PAIRS, REVERSAL, sample_forward
from t2l.data.synth.render import render, sample_scene
from t2l.data.synth.shapes import SHAPES
from t2l.fsio import resumable_dir, write_csv, write_json, write_text
from t2l.params import Count, NonNegative, ParamsError, Range, as_dict
from t2l.video.ffmpeg_io import write_video

FrameCount = Annotated[int, Range(at_least=2)]  # a clip and its reversal differ only with 2 frames or more
SOURCE, TARGET = "synthetic_source", "synthetic_target"
CLIPS_FILE, CLASSES_FILE = "clips.csv", "classes.txt"  # per dataset root, read by the splits adapter
MANIFEST_COLUMNS = ["dataset", "path", "class_name", "shape", "motion", "split", "frames", "pair_id", "reversed",
                    "colour", "background"]


@dataclass(frozen=True)
class SynthConfig:
    seed: NonNegative = 0
    size: Annotated[int, Range(at_least=16)] = 64  # one H.264 macroblock at least
    fps: Count = 16
    frames: tuple[FrameCount, FrameCount] = (24, 64)  # (min, max) clip length
    source_shapes: tuple[str, ...] = ("square", "triangle", "star", "cross")
    target_shapes: tuple[str, ...] = ("pentagon", "heart")
    motions: tuple[str, ...] = tuple(PAIRS)
    source_clips_per_class: dict[str, int] = field(default_factory=lambda: {"train": 24, "val": 8, "test": 8})
    target_clips_per_class: Count = 8
    target_splits: Count = 3
    shape_radius: tuple[float, float] = (0.18, 0.28)
    distractors: tuple[int, int] = (0, 1)
    noise_std: float = 2.0
    crf: int = 0
    workers: Count = 2

    def __post_init__(self):
        bad = [m for m in self.motions if m not in PAIRS]
        if bad:
            raise ParamsError(f"synth.motions: {bad} are not forward motions; choose from {list(PAIRS)}")
        for s in (*self.source_shapes, *self.target_shapes):
            if s not in SHAPES:
                raise ParamsError(f"synth: unknown shape {s!r}; known: {list(SHAPES)}")
        if set(self.source_shapes) & set(self.target_shapes):
            raise ParamsError("synth: source_shapes and target_shapes must be disjoint (zero-shot)")
        if self.size % 2:
            raise ParamsError(f"synth.size: must be even (H.264 4:2:0), got {self.size}")
        if self.frames[0] > self.frames[1]:
            raise ParamsError(f"synth.frames: (min, max) with min <= max, got {tuple(self.frames)}")


@dataclass(frozen=True)
class PairSpec:
    """One sampled trajectory, written as a forward clip and its reversal."""

    dataset: str
    split: str
    shape: str
    motion: str  # forward motion of the pair
    index: int
    frames: int
    seed: int

    def clip(self, reverse: bool) -> dict:
        motion = REVERSAL[self.motion] if reverse else self.motion
        name = f"{self.shape} {motion}"
        return {"dataset": self.dataset, "class_name": name, "shape": self.shape, "motion": motion,
                "split": self.split, "frames": self.frames, "reversed": reverse,
                "path": f"{name.replace(' ', '_')}/{self.split}_{self.index:04d}.mp4",
                "pair_id": f"{self.dataset}/{self.split}/{self.shape}/{self.motion}/{self.index}"}


def class_names(shapes: tuple[str, ...], motions: tuple[str, ...]) -> list[str]:
    return [f"{s} {m}" for s in shapes for fwd in motions for m in (fwd, REVERSAL[fwd])]


def plan(cfg: SynthConfig) -> list[PairSpec]:
    """Deterministic list of every pair to render; each gets its own seed."""
    groups = [(SOURCE, split, cfg.source_shapes, n) for split, n in cfg.source_clips_per_class.items()]
    groups += [(TARGET, f"test{k + 1}", cfg.target_shapes, cfg.target_clips_per_class) for k in range(cfg.target_splits)]
    specs = []
    for dataset, split, shapes, n in groups:
        for shape in shapes:
            for motion in cfg.motions:
                for i in range(n):
                    seed = len(specs)
                    rng = np.random.default_rng([cfg.seed, seed])
                    specs.append(PairSpec(dataset, split, shape, motion, i, int(rng.integers(cfg.frames[0], cfg.frames[1] + 1)),
                                          seed))
    return specs


def _render_pair(cfg: SynthConfig, spec: PairSpec) -> tuple[np.ndarray, str, str]:
    rng = np.random.default_rng([cfg.seed, spec.seed, 1])
    scene = sample_scene(spec.shape, cfg.size, cfg.distractors, cfg.noise_std, rng)
    traj = sample_forward(spec.motion, spec.frames, cfg.size, cfg.shape_radius, rng)
    return render(scene, traj, cfg.size, rng), scene.colour, scene.background


def _write_pair(args: tuple[SynthConfig, PairSpec, Path]) -> list[dict]:
    cfg, spec, out = args
    clips = [spec.clip(False), spec.clip(True)]
    forward, backward = (out / c["dataset"] / c["path"] for c in clips)
    frames, colour, background = _render_pair(cfg, spec)
    if not (forward.exists() and backward.exists()):
        write_video(frames, forward, cfg.fps, cfg.crf, reversed_path=backward)
    return [{**c, "colour": colour, "background": background} for c in clips]


def run(cfg: SynthConfig, out: Path) -> pd.DataFrame:
    """Write videos under ``out/<dataset>/<class>/`` with each dataset's ``clips.csv`` and
    ``classes.txt``, the whole ``out/world.csv`` and ``out/world.json``.

    Resumable: clips already on disk are kept (each was written atomically).
    """
    out = Path(out)
    resumable_dir(out, {k: v for k, v in as_dict(cfg).items() if k != "workers"})
    specs = plan(cfg)
    rows = []
    with get_context("fork").Pool(cfg.workers) as pool:
        for clips in tqdm(pool.imap(_write_pair, ((cfg, s, out) for s in specs), chunksize=4), total=len(specs),
                          desc="synth videos"):
            rows.extend(clips)
    manifest = pd.DataFrame(rows)[MANIFEST_COLUMNS]
    classes = {SOURCE: class_names(cfg.source_shapes, cfg.motions), TARGET: class_names(cfg.target_shapes, cfg.motions)}
    for dataset, names in classes.items():
        write_csv(out / dataset / CLIPS_FILE, manifest[manifest["dataset"] == dataset])
        write_text(out / dataset / CLASSES_FILE, "\n".join(names) + "\n")
    write_csv(out / "world.csv", manifest)
    write_json(out / "world.json", {
        "params": as_dict(cfg),
        "classes": classes,
        "clips": manifest.groupby(["dataset", "split"]).size().rename("clips").reset_index().to_dict("records"),
    })
    return manifest
