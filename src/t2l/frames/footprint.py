"""How much disk the frame archives of a dataset will take, measured on a few of its videos.

Each sampled video is decoded and its frames JPEG-encoded exactly as ``t2l extract`` stores them
(short side, quality); the mean bytes per video times the dataset's video count is the estimate.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from t2l.video.ffmpeg_io import VideoError, iter_frames


@dataclass(frozen=True)
class Footprint:
    videos: int  # in the dataset
    sampled: int  # decoded to measure (unreadable ones are skipped)
    frames_per_video: float
    bytes_per_video: float

    @property
    def total_bytes(self) -> float:
        return self.videos * self.bytes_per_video


def archived_bytes(video: Path, short_side: int, quality: int) -> tuple[int, int]:
    """(frames, JPEG bytes) of ``video`` as its archive would hold them."""
    frames = size = 0
    for frame in iter_frames(video, short_side, strict=False):
        buf = io.BytesIO()
        Image.fromarray(frame).save(buf, format="JPEG", quality=quality, subsampling=0)
        frames, size = frames + 1, size + buf.tell()
    return frames, size


def estimate(root: Path, paths: list[str], short_side: int, quality: int, sample: int = 3) -> Footprint:
    """The archives of ``paths`` (relative to ``root``), measured on ``sample`` of them spread over the list."""
    step = max(1, len(paths) // max(1, sample))
    measured = []
    for rel in sorted(paths)[::step][:sample]:
        try:
            measured.append(archived_bytes(Path(root) / rel, short_side, quality))
        except VideoError:
            continue
    n = len(measured) or 1
    return Footprint(len(paths), len(measured), sum(f for f, _ in measured) / n, sum(b for _, b in measured) / n)
