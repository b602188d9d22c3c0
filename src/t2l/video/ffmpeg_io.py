"""Video file I/O through ffmpeg (ffmpeg-python): decode to a stream of RGB frames, encode from arrays."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO, Iterator

import ffmpeg
import numpy as np

from t2l.errors import UserError
from t2l.fsio import atomic_path


class VideoError(UserError):
    """A video cannot be read: missing, empty, not a video, truncated or undecodable."""


def _stderr(err: ffmpeg.Error, path) -> str:
    """ffmpeg's distinct error lines, without component tags and file name, at most three."""
    seen = []
    for line in (err.stderr or b"").decode(errors="replace").splitlines():
        line = re.sub(r"^\[[^]]*@ 0x[0-9a-f]+\]\s*", "", line.strip()).replace(f"{path}: ", "")
        if line and line not in seen:
            seen.append(line)
    return "; ".join(seen[:3]) or str(err)


def _short_side_filter(short_side: int) -> dict:
    """ffmpeg scale arguments: short side to ``short_side``, long side even, aspect kept."""
    s = int(short_side)
    return {"w": f"if(lt(iw,ih),{s},-2)", "h": f"if(lt(iw,ih),-2,{s})", "flags": "area"}


def _ppm_header(pipe: BinaryIO, path) -> tuple[int, int] | None:
    """(width, height) of the next frame, from its ``P6 <w> <h> 255`` header; None at the end."""
    tokens, token = [], b""
    while len(tokens) < 4:
        c = pipe.read(1)
        if not c:
            if tokens or token:
                raise VideoError(f"{path}: the decoded stream ends inside a frame header")
            return None
        if not c.isspace():
            token += c
        elif token:
            tokens.append(token)
            token = b""
    if tokens[0] != b"P6" or tokens[3] != b"255" or not (tokens[1].isdigit() and tokens[2].isdigit()):
        raise VideoError(f"{path}: unexpected frame header in the decoded stream")
    return int(tokens[1]), int(tokens[2])


def iter_frames(path: str | os.PathLike, short_side: int = 0, strict: bool = True) -> Iterator[np.ndarray]:
    """Decode ``path`` with one ffmpeg process, yielding RGB uint8 frames (H, W, 3) as they come.

    Memory holds about one frame, whatever the video's length or size. ``short_side`` > 0 resizes
    the short side (long side even). ``strict`` stops at the first corrupt packet (``-xerror``),
    so truncated or damaged files fail instead of yielding a part: the VideoError naming the
    file comes after the frames decoded before the damage. A consumer that stops early ends ffmpeg.
    """
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: empty file (0 bytes)")
    stream = ffmpeg.input(str(path), **({"xerror": None} if strict else {}))
    if short_side > 0:
        stream = stream.filter("scale", **_short_side_filter(short_side))
    args = (stream.output("pipe:", format="image2pipe", vcodec="ppm", vsync="passthrough")
            .global_args("-v", "error", "-nostdin").compile())
    # stderr to a file, not a pipe: ffmpeg never blocks on it while we read frames
    with tempfile.TemporaryFile() as errors, subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errors) as proc:
        try:
            size, count = None, 0
            while (header := _ppm_header(proc.stdout, path)) is not None:
                if size not in (None, header):
                    raise VideoError(f"{path}: frames of varying size in the decoded stream")
                (w, h), size = header, header
                data = proc.stdout.read(w * h * 3)
                if len(data) != w * h * 3:
                    raise VideoError(f"{path}: the decoded stream ends inside a frame")
                count += 1
                yield np.frombuffer(data, np.uint8).reshape(h, w, 3)
            if proc.wait():
                errors.seek(0)
                err = ffmpeg.Error("ffmpeg", b"", errors.read())
                raise VideoError(f"{path}: not a readable video ({_stderr(err, path)})")
            if not count:
                raise VideoError(f"{path}: decoded no frame")
        finally:
            if proc.poll() is None:
                proc.kill()


def frame_count(path: str | os.PathLike) -> int:
    """Frames of the first video stream of ``path``, counted from its packets (demuxed, not decoded)."""
    try:
        info = ffmpeg.probe(str(path), select_streams="v:0", count_packets=None)
    except ffmpeg.Error as e:
        raise VideoError(f"{path}: not a readable video ({_stderr(e, path)})") from None
    streams = info.get("streams") or []
    if not streams:
        raise VideoError(f"{path}: no video stream")
    return int(streams[0].get("nb_read_packets") or 0)


def read_frames(path: str | os.PathLike, short_side: int = 0, strict: bool = True) -> np.ndarray:
    """Every frame of ``path`` as one array (T, H, W, 3); see iter_frames, which needs memory
    for one frame only (this for clips known to be small)."""
    return np.stack(list(iter_frames(path, short_side, strict)))


def write_video(frames: np.ndarray, path: str | os.PathLike, fps: float, crf: int = 0,
                reversed_path: str | os.PathLike | None = None, codec: str = "libx264") -> None:
    """Encode RGB uint8 frames (T, H, W, 3) to ``path`` atomically, 4:2:0 H.264 by default.

    With ``reversed_path`` the same ffmpeg process also writes the clip with its frames in
    reverse order (``reverse`` filter). ``crf=0`` is lossless for libx264: decoded YUV equals
    the encoded YUV exactly, so a clip and its reversal decode to the same set of frames.
    Other codecs (e.g. ``mpeg4`` for .avi fixtures) use a fixed high quality instead of crf.
    """
    t, h, w, _ = frames.shape
    opts = {"vcodec": codec, "pix_fmt": "yuv420p"}
    opts.update({"crf": crf, "preset": "veryfast"} if codec == "libx264" else {"qscale": 2})
    src = ffmpeg.input("pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{w}x{h}", r=fps)
    with ExitStack() as stack:
        tmp = stack.enter_context(atomic_path(path, Path(path).suffix))
        if reversed_path is None:
            job = src.output(str(tmp), **opts)
        else:
            tmp_rev = stack.enter_context(atomic_path(reversed_path, Path(reversed_path).suffix))
            split = src.filter_multi_output("split")
            fwd, rev = split.stream(0), split.stream(1)
            job = ffmpeg.merge_outputs(fwd.output(str(tmp), **opts), rev.filter("reverse").output(str(tmp_rev), **opts))
        try:
            job.overwrite_output().global_args("-v", "error").run(
                input=np.ascontiguousarray(frames).tobytes(), capture_stdout=True, capture_stderr=True)
        except ffmpeg.Error as e:
            raise VideoError(f"{path}: encoding failed ({_stderr(e, tmp)})") from None
