"""How much disk the frame archives of a dataset will take, measured on a few of its videos.

Each sampled video's frames are selected and JPEG-encoded exactly as ``t2l extract`` stores them
(the extraction settings: short side, quality, chroma, frames per video); the mean bytes per
video times the dataset's video count is the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from t2l.frames.archive import encode
from t2l.frames.extract import ExtractConfig, archive_frames
from t2l.video.ffmpeg_io import VideoError


@dataclass(frozen=True)
class Footprint:
    videos: int  # in the dataset
    sampled: int  # decoded to measure (unreadable ones are skipped)
    frames_per_video: float
    bytes_per_video: float

    @property
    def total_bytes(self) -> float:
        return self.videos * self.bytes_per_video


def archived_bytes(video: Path, cfg: ExtractConfig) -> tuple[int, int]:
    """(frames, JPEG bytes) of ``video`` as its archive would hold them."""
    frames = size = 0
    for frame in archive_frames(video, cfg):
        frames, size = frames + 1, size + len(encode(frame, cfg.jpeg_quality, cfg.jpeg_chroma))
    return frames, size


def estimate(root: Path, paths: list[str], cfg: ExtractConfig, sample: int = 3) -> Footprint:
    """The archives of ``paths`` (relative to ``root``), measured on ``sample`` of them spread over the list."""
    step = max(1, len(paths) // max(1, sample))
    measured = []
    for rel in sorted(paths)[::step][:sample]:
        try:
            measured.append(archived_bytes(Path(root) / rel, cfg))
        except VideoError:
            continue
    n = len(measured) or 1
    return Footprint(len(paths), len(measured), sum(f for f, _ in measured) / n, sum(b for _, b in measured) / n)
