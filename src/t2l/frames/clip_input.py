"""One clip (a file or its bytes) -> the model's input: T frames at segment centres, as evaluation
samples them, through the evaluation transform.

Decoding is bounded before it starts: only regular files are read, up to a size limit; only MP4/MOV,
Matroska/WebM and AVI are decoded, recognised by their first bytes, and the demuxer is the one
that recognition names (PyAV, told the format: nothing probes the bytes for another one, such as
an SDP description that would open network ports), with no protocol allowed for nested inputs;
the frame size is read from the container header and checked before any frame is decoded, and
every decoded frame is checked again (a stream may switch resolution). PyAV gives the frames
decord gives for the same file. Every failure is a ``ClipError`` naming the clip and the reason.
This module imports no torch, so a decode worker process (t2l.serve.decode_worker) stays small.
"""

from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from t2l.errors import UserError
from t2l.frames.sampling import segment_indices

MB = 1 << 20


class ClipError(UserError):
    """A clip that cannot, or may not, be decoded."""


@dataclass(frozen=True)
class ClipLimits:
    max_bytes: int = 32 * MB
    max_pixels: int = 1920 * 1088  # width x height of one frame
    max_aspect: float = 4.0  # long side / short side: the short side is resized up to the model's size


# (test on the first 12 bytes, PyAV format name, what to call it)
CONTAINERS = (
    (lambda head: head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide"), "mov", "MP4/MOV"),
    (lambda head: head[:4] == b"\x1a\x45\xdf\xa3", "matroska", "Matroska/WebM"),
    (lambda head: head[:4] == b"RIFF" and head[8:12] == b"AVI ", "avi", "AVI"),
)


def read_file(path: str | os.PathLike, max_bytes: int, name: str | None = None, follow: bool = True) -> bytes:
    """The bytes of the regular file ``path``: FIFOs, devices and directories are refused without
    blocking, and so is a file over ``max_bytes``. ``follow=False`` refuses a symlink."""
    name = name or str(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise ClipError(f"{name}: cannot open the file ({e.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ClipError(f"{name}: not a regular file")
        if info.st_size > max_bytes:
            raise ClipError(f"{name}: {info.st_size / MB:.1f} MB, over the limit of {max_bytes / MB:g} MB")
        with open(fd, "rb", closefd=False) as f:
            data = f.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise ClipError(f"{name}: over the limit of {max_bytes / MB:g} MB")
    return data


def container_format(data: bytes, name: str) -> str:
    """The PyAV format of a supported container, from the clip's first bytes."""
    head = data[:12]
    for test, fmt, _ in CONTAINERS:
        if test(head):
            return fmt
    supported = ", ".join(label for _, _, label in CONTAINERS)
    raise ClipError(f"{name}: not a video file of a supported container ({supported})")


def check_frame_size(width: int, height: int, limits: ClipLimits, name: str) -> None:
    if width < 1 or height < 1:
        raise ClipError(f"{name}: the video has no frame size")
    if width * height > limits.max_pixels:
        raise ClipError(f"{name}: frames of {width}x{height}, over the limit of {limits.max_pixels} pixels")
    if max(width, height) > limits.max_aspect * min(width, height):
        raise ClipError(f"{name}: frames of {width}x{height}, more elongated than {limits.max_aspect:g}:1")


def _demuxer_options(fmt: str) -> dict[str, str]:
    """Options that keep a demuxer to the bytes it is given: no protocol for a nested input (a
    name no protocol has), and for MOV no external data references."""
    return {"protocol_whitelist": "none", **({"enable_drefs": "0"} if fmt == "mov" else {})}


def _open(data: bytes, fmt: str):
    import av

    return av.open(io.BytesIO(data), format=fmt, options=_demuxer_options(fmt))


def header_frame_size(data: bytes, fmt: str, name: str) -> tuple[int, int]:
    """(width, height) of the first video stream, from the container header."""
    import av

    try:
        with _open(data, fmt) as container:
            if not container.streams.video:
                raise ClipError(f"{name}: no video stream")
            codec = container.streams.video[0].codec_context
            return codec.width, codec.height
    except av.FFmpegError as e:
        raise ClipError(f"{name}: not a readable video ({e.strerror})") from None


def _decoder_reason(e: Exception) -> str:
    """Why decoding failed, without the decoder's internals."""
    import av

    if isinstance(e, av.FFmpegError):
        return e.strerror
    return "truncated or corrupt"


def _checked(decoded, limits: ClipLimits, name: str) -> Iterator:
    """Decoded frames, each checked against the limits before it is converted or kept."""
    for frame in decoded:
        check_frame_size(frame.width, frame.height, limits, name)
        yield frame


def _decode(data: bytes, fmt: str, frames: int, limits: ClipLimits, name: str) -> np.ndarray:
    """The segment-centre frames, counted and read as t2l.frames.decoders.PyAVDecoder does."""
    with _open(data, fmt) as container:
        stream = container.streams.video[0]
        count = stream.frames
        if count <= 0:  # container without a frame count: decode to count
            count = sum(1 for _ in _checked(container.decode(stream), limits, name))
            container.seek(0)
        indices = segment_indices(count, frames)
        wanted, last, got = set(indices.tolist()), int(indices.max()), {}
        for i, frame in enumerate(_checked(container.decode(stream), limits, name)):
            if i in wanted:
                got[i] = frame.to_ndarray(format="rgb24")
            if i >= last:
                break
    if len({f.shape for f in got.values()}) > 1:
        raise ClipError(f"{name}: the frames change size within the stream")
    return np.stack([got[int(i)] for i in indices])


def sampled_frames(data: bytes, frames: int, limits: ClipLimits = ClipLimits(), name: str = "clip") -> np.ndarray:
    """The clip's ``frames`` segment-centre frames, RGB uint8 (T, H, W, 3)."""
    if len(data) > limits.max_bytes:
        raise ClipError(f"{name}: {len(data) / MB:.1f} MB, over the limit of {limits.max_bytes / MB:g} MB")
    fmt = container_format(data, name)
    check_frame_size(*header_frame_size(data, fmt, name), limits, name)
    try:
        return _decode(data, fmt, frames, limits, name)
    except ClipError:
        raise
    except MemoryError:
        raise ClipError(f"{name}: decoding needs more memory than allowed") from None
    except Exception as e:  # noqa: BLE001  (whatever the decoder raises on bad input)
        raise ClipError(f"{name}: cannot decode the video ({_decoder_reason(e)})") from None


def clip_input(source: str | os.PathLike | bytes, frames: int, transform: Callable[[np.ndarray], object],
               limits: ClipLimits = ClipLimits()):
    """The model's input for one clip: ``transform`` (e.g. EvalTransform) of its sampled frames."""
    if isinstance(source, bytes):
        return transform(sampled_frames(source, frames, limits))
    data = read_file(source, limits.max_bytes)
    return transform(sampled_frames(data, frames, limits, str(source)))
