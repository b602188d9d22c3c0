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

from t2l.frames.fingerprint import fingerprint
from t2l.fsio import zip_writer

META = "meta.json"
CHROMA = {"full": 0, "half": 2}  # JPEG chroma resolution (PIL's subsampling codes): as decoded, or halved
# both ways (4:2:0, how H.264 sources store colour)


def member(i: int) -> str:
    return f"{i:06d}.jpg"


def archive_path(out_dir: str | Path, video_path: str) -> Path:
    """Where the archive of ``video_path`` (relative to its dataset root) lives."""
    return Path(out_dir) / f"{video_path}.zip"


def encode(frame: np.ndarray, quality: int = 95, chroma: str = "full") -> bytes:
    """One frame (H, W, 3) uint8 as an archive stores it: a JPEG."""
    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, format="JPEG", quality=quality, subsampling=CHROMA[chroma])
    return buf.getvalue()


def write(frames: Iterable[np.ndarray], path: str | Path, meta: dict, quality: int = 95, chroma: str = "full") -> dict:
    """Write frames (each (H, W, 3) uint8: an array (T, H, W, 3) or a stream of frames) atomically,
    encoding each as it comes; return the metadata stored with them. If ``frames`` raises, or
    yields none, no archive is left."""
    count, shape = 0, None
    with zip_writer(path) as add:
        for count, frame in enumerate(frames, 1):
            shape = frame.shape
            add(member(count - 1), encode(frame, quality, chroma))
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
    """Whether ``target`` is the archive of ``video`` as the video is now: it records the video's
    content fingerprint (size and a hash of its ends, see fingerprint()). Modification times are
    not trusted (``cp -p``, ``rsync -t`` and ``tar x`` carry old ones over to new content). Without
    the video (only the archives were fetched) an archive that exists is current."""
    if not video.exists():
        return target.exists()
    try:
        meta = read_meta(target)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):  # missing or damaged: redo
        return False
    return all(meta.get(k) == v for k, v in fingerprint(video).items())
