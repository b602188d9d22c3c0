"""The data path: reading T sampled frames with each decoder, DataLoader throughput, extraction
speed against worker count, on real H.264 files made here (tiny world and 256-px clips)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from t2l.frames import archive
from t2l.frames.dataset import FrameSource, VideoClipDataset
from t2l.frames.decoders import make_decoder
from t2l.frames.extract import ExtractConfig, extract_videos
from t2l.frames.sampling import segment_indices
from t2l.frames.transforms import TrainTransform
from t2l.video.ffmpeg_io import write_video


@dataclass(frozen=True)
class DataBench:
    name: str  # e.g. "tiny" or "kinetics-like"
    width: int
    height: int
    frames: int  # frames per video
    videos: int = 16
    clip_frames: int = 8  # T sampled per clip
    crop: int = 64
    resize_ratio: float = 1.0
    batch: int = 16
    workers: tuple[int, ...] = (1, 2)
    crf: int = 23


def make_videos(b: DataBench, root: Path) -> list[str]:
    """Real H.264 files: a bright square moving over noise, ``b.videos`` of them."""
    rng = np.random.default_rng(0)
    names = []
    for i in range(b.videos):
        base = rng.integers(40, 90, (1, b.height, b.width, 3), dtype=np.uint8)
        video = np.repeat(base, b.frames, 0)
        side = max(4, b.height // 5)
        for t in range(b.frames):
            x = int((b.width - side) * t / max(1, b.frames - 1))
            video[t, b.height // 3:b.height // 3 + side, x:x + side] = (220, 50, 40)
        names.append(f"v{i:03d}.mp4")
        write_video(video, root / names[-1], fps=25, crf=b.crf)
    return names


def _rate(fn, n: int) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def decoder_rates(b: DataBench, root: Path, names: list[str], frames_dir: Path) -> dict:
    """Clips/s of one worker reading T segment-sampled frames per clip."""
    rng = np.random.default_rng(0)
    pick = lambda n: segment_indices(n, b.clip_frames, rng)  # noqa: E731
    out = {}
    for name in ("decord", "pyav", "archive"):
        dec = make_decoder(name)
        files = [str(archive.archive_path(frames_dir, v) if name == "archive" else root / v) for v in names]
        dec.read(files[0], pick)  # warm up
        out[name] = _rate(lambda dec=dec, files=files: [dec.read(f, pick) for f in files], len(files))
    return out


def loader_rates(b: DataBench, names: list[str], frames_dir: Path) -> dict:
    """Clips/s of a training DataLoader (archive decoder + training augmentation) per worker count."""
    rows = pd.DataFrame({"path": names * max(1, 64 // len(names)), "label": 0})
    ds = VideoClipDataset(rows, FrameSource("archive", frames_dir), b.clip_frames,
                          TrainTransform(b.crop, b.resize_ratio, flip=False), train=True)
    out = {}
    for workers in b.workers:
        loader = torch.utils.data.DataLoader(ds, batch_size=b.batch, num_workers=workers, shuffle=True)
        out[f"workers_{workers}"] = _rate(lambda loader=loader: [None for _ in loader], len(ds))
    return out


def extraction_rates(b: DataBench, root: Path, names: list[str], scratch: Path) -> dict:
    """Videos/s of the extract stage's worker pool per worker count."""
    out = {}
    for workers in b.workers:
        target = scratch / f"extract_{workers}"
        out[f"workers_{workers}"] = _rate(
            lambda target=target, workers=workers: extract_videos(names, root, target, replace(ExtractConfig(), workers=workers),
                                                                desc="bench"),
            len(names))
    return out


def run(b: DataBench) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        names = make_videos(b, tmp / "videos")
        frames_dir = tmp / "frames"
        extract_videos(names, tmp / "videos", frames_dir, ExtractConfig(), desc="bench archives")
        return {"name": b.name, "video": f"{b.width}x{b.height}, {b.frames} frames, H.264 crf {b.crf}",
                "clip_frames": b.clip_frames, "decoder_clips_per_s_one_worker": decoder_rates(b, tmp / "videos", names, frames_dir),
                "loader_clips_per_s": loader_rates(b, names, frames_dir),
                "extract_videos_per_s": extraction_rates(b, tmp / "videos", names, tmp)}
