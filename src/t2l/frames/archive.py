"""Per-video frame archives: one uncompressed zip of JPEG frames plus ``meta.json`` per video.

One file per video keeps ``dvc status`` fast at Kinetics scale; JPEG members make reading T
sampled frames cost T small decodes instead of decoding the whole video.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from PIL import Image

from t2l.fsio import zip_writer

META = "meta.json"


def member(i: int) -> str:
    return f"{i:06d}.jpg"


def archive_path(out_dir: str | Path, video_path: str) -> Path:
    """Where the archive of ``video_path`` (relative to its dataset root) lives."""
    return Path(out_dir) / f"{video_path}.zip"


def write(frames: Iterable[np.ndarray], path: str | Path, meta: dict, quality: int = 95) -> dict:
    """Write frames (each (H, W, 3) uint8: an array (T, H, W, 3) or a stream of frames) atomically,
    encoding each as it comes; return the metadata stored with them. If ``frames`` raises, or
    yields none, no archive is left."""
    count, shape = 0, None
    with zip_writer(path) as add:
        for count, frame in enumerate(frames, 1):
            shape = frame.shape
            buf = io.BytesIO()
            Image.fromarray(frame).save(buf, format="JPEG", quality=quality, subsampling=0)
            add(member(count - 1), buf.getvalue())
        if shape is None:
            raise ValueError(f"{path}: no frames to write")
        meta = {**meta, "frames": count, "height": int(shape[0]), "width": int(shape[1])}
        add(META, json.dumps(meta).encode())
    return meta


class FrameArchive:
    """An open archive: ``meta`` and ``frames(indices)``; use as a context manager."""

    def __init__(self, path: str | Path):
        self._zip = zipfile.ZipFile(path)
        self.meta = json.loads(self._zip.read(META))

    def frames(self, indices: Sequence[int]) -> np.ndarray:
        """Frames at ``indices`` (repeats allowed) as (len(indices), H, W, 3) uint8."""
        decoded: dict[int, np.ndarray] = {}
        for i in map(int, indices):
            if i not in decoded:
                with Image.open(io.BytesIO(self._zip.read(member(i)))) as im:
                    decoded[i] = np.asarray(im.convert("RGB"))
        return np.stack([decoded[int(i)] for i in indices])

    def content_crc(self) -> int:
        """A checksum of the archive's content from its zip directory (member names and
        CRC-32s): no frame is read."""
        listing = ";".join(f"{i.filename}:{i.CRC:08x}" for i in self._zip.infolist())
        return zlib.crc32(listing.encode())

    def __enter__(self) -> "FrameArchive":
        return self

    def __exit__(self, *exc) -> None:
        self._zip.close()


def read_meta(path: str | Path) -> dict:
    with FrameArchive(path) as a:
        return a.meta


def is_current(target: Path, video: Path) -> bool:
    """Make's rule: an archive is up to date when it exists and is not older than its video
    (a video re-written after extraction, e.g. by ``t2l synth`` with another seed, is redone)."""
    if not target.exists():
        return False
    return not video.exists() or target.stat().st_mtime_ns >= video.stat().st_mtime_ns
